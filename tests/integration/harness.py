"""The whole hotline on the simulated PBX, over real TCP, on real PostgreSQL — as `make demo` runs it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import httpx

from callcenter.app import Hotline, create_app
from callcenter.auth.roles import parse_roles
from callcenter.config.loader import load_plan
from callcenter.db.calls import get_call
from callcenter.db.models import Call
from callcenter.settings import PROJECT_ROOT, AmiTarget, load_settings
from pbxsim.endpoints import AgentBehaviour
from pbxsim.events import Event
from pbxsim.pbx import PbxSimulator
from routing.plan import HotlinePlan

T = TypeVar("T")
SECRET = "test-secret"
PASSWORD = "correct horse 12355"  # of the users Rig.client makes


def quick_plan(menu_timeout: float = 1.0) -> HotlinePlan:
    """The example plan with short menu timeouts, so that a silent caller does not take 15 s a test."""
    plan = load_plan(PROJECT_ROOT / "config" / "hotline.yaml")
    menus = {name: replace(menu, timeout_seconds=menu_timeout) for name, menu in plan.menus.items()}
    return replace(plan, menus=menus)


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 15.0, what: str = "") -> T:
    """Wait until ``probe`` returns something (not None), polling; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}")
        await asyncio.sleep(0.05)


@dataclass
class Rig:
    hotline: Hotline
    sim: PbxSimulator

    async def finished_call(self, linkedid: str, timeout: float = 15.0) -> Call:
        """The call's row once the service has recorded its end."""
        assert self.hotline.db is not None
        sessions = self.hotline.db.sessions

        async def probe() -> Call | None:
            row = await get_call(sessions, linkedid)
            return row if row is not None and row.disposition is not None else None

        return await eventually(probe, timeout, f"call {linkedid} to be recorded as finished")

    def prompts_heard(self) -> Callable[[str], list[str]]:
        """Start recording the prompts the IVR plays (as AMI shows them); call the result with a channel's
        Uniqueid to get that channel's prompts in order."""
        heard: dict[str, list[str]] = {}

        def listen(event: Event) -> None:
            if event.name == "AGIExecStart":
                words = event.get("Command").split()
                if words[:2] in (["GET", "DATA"], ["STREAM", "FILE"]) and len(words) > 2:
                    heard.setdefault(event.get("Uniqueid"), []).append(words[2].strip('"'))

        self.sim.add_listener(listen)
        return lambda uniqueid: heard.get(uniqueid, [])

    async def log_in(self, *extensions: str) -> None:
        assert self.hotline.desk is not None
        for extension in extensions:
            await self.hotline.desk.log_in(extension)

    async def answered(self, linkedid: str, timeout: float = 15.0) -> None:
        """Wait until the live model shows the call answered."""

        async def probe() -> bool | None:
            record = self.hotline.model.call(linkedid)
            return True if record is not None and record.answered_at is not None else None

        await eventually(probe, timeout, f"call {linkedid} to be answered")

    def client(
        self, username: str, roles: str, extension: str | None = None
    ) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        """An HTTP client of the pages' API, logged in as a new user with ``roles``."""
        return api_client(self.hotline, username, roles, extension)


@asynccontextmanager
async def api_client(
    hotline: Hotline, username: str, roles: str, extension: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of ``hotline``'s pages' API, logged in as a new user with ``roles``."""
    assert hotline.users is not None
    await hotline.users.add(username, PASSWORD, parse_roles(roles), extension=extension)
    app = create_app(hotline.settings, hotline=hotline)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as client:
        response = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        yield client


@asynccontextmanager
async def hotline_on_simulator(
    database_url: str,
    tmp: Path,
    *,
    default_agent: AgentBehaviour | None = None,
    config_dir: Path | None = None,
    plan: HotlinePlan | None = None,
) -> AsyncIterator[Rig]:
    settings = load_settings(
        database_url=database_url,
        data_dir=tmp,
        agi_port=0,
        ami_ping_interval=1.0,
        ami_ping_timeout=2.0,
        # where a config apply writes the rendered files: the directory the simulator reads
        **({"asterisk_config_dir": config_dir} if config_dir is not None else {}),
    )
    hotline = Hotline(settings, plan=plan or quick_plan())
    await hotline.start()
    assert hotline.agi is not None
    sim = PbxSimulator(
        config_dir or PROJECT_ROOT / "asterisk-config",
        ami_port=0,
        ami_users={"hotline": SECRET},
        globals={"HOTLINE_AGI": f"agi://127.0.0.1:{hotline.agi.port}/ivr"},
        prompt_seconds=0.05,
        default_agent=default_agent or AgentBehaviour(answer_after=0.5, talk_seconds=2.0),
    )
    try:
        await sim.start()
        await hotline.connect_ami(
            AmiTarget(host="127.0.0.1", port=sim.ami_port, username="hotline", secret=SECRET)
        )
        assert hotline.ami is not None
        await hotline.ami.wait_connected(10)
        yield Rig(hotline, sim)
    finally:
        await hotline.stop()
        await sim.stop()
