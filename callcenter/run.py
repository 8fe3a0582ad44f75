"""The long-running commands: ``serve``, ``demo`` and ``db upgrade``.

The demo wires the simulated PBX to the service over real TCP exactly as Asterisk would be: the service is
started the same way as ``serve`` and only learns the simulator's AMI address from its settings.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress

import uvicorn

from callcenter.ami.connection import AmiError
from callcenter.app import Hotline, create_app
from callcenter.auth.roles import parse_roles
from callcenter.db.engine import open_database
from callcenter.settings import AmiTarget, Settings

log = logging.getLogger(__name__)
DEMO_PASSWORD = "12355-demo"


async def _demo_users(hotline: Hotline) -> None:
    """The demo's accounts, one per role, and one per simulated agent."""
    assert hotline.users is not None and hotline.plan is not None
    for name, roles in (("supervisor", "supervisor"), ("admin", "admin"), ("ops", "ops")):
        await hotline.users.ensure(name, DEMO_PASSWORD, parse_roles(roles))
    for agent in hotline.plan.agents:
        await hotline.users.ensure(
            f"agent{agent.extension}",
            DEMO_PASSWORD,
            parse_roles("agent"),
            display_name=agent.name,
            extension=agent.extension,
        )


async def serve(settings: Settings) -> int:
    if settings.ami_target is None:
        log.warning(
            "AMI_URL is not set: the service runs without a PBX (use `hotline demo` for the simulator)"
        )
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host=settings.http_host, port=settings.http_port, log_level="warning", lifespan="on"
        )
    )
    await server.serve()
    return 0


async def db_upgrade(settings: Settings) -> int:
    db = await open_database(settings.database_url, settings.data_dir, migrate=True)
    await db.close()
    print("database schema is at the newest version")
    return 0


async def demo(settings: Settings, *, calls_per_minute: float, agents: int, seed: int) -> int:
    """Embedded PostgreSQL + simulator + service + agents + steady calls, until Ctrl-C."""
    from pbxsim.endpoints import AgentBehaviour
    from pbxsim.pbx import PbxSimulator
    from pbxsim.traffic import TrafficGenerator, TrafficProfile
    from recordings.service import sounds_dir

    secret = "demo-secret"
    hotline = Hotline(settings)
    await hotline.start()  # database, call writer, FastAGI: the simulator needs the AGI port
    assert hotline.agi is not None
    sim = PbxSimulator(
        settings.asterisk_config_dir,
        ami_host="127.0.0.1",
        ami_port=0,
        ami_users={"hotline": secret},
        globals={
            "HOTLINE_AGI": f"agi://127.0.0.1:{hotline.agi.port}/ivr",
            "HOTLINE_SURVEY_AGI": f"agi://127.0.0.1:{hotline.agi.port}/survey",  # issue 9
        },
        seed=seed,
        default_agent=AgentBehaviour(answer_after=3.0, talk_seconds=90.0),
        monitor_dir=settings.monitor_dir or settings.data_dir / "monitor",  # recordings (issue 7)
        sounds_dir=sounds_dir(settings),  # the prompts: what anonymous callers hear instead (issue 9)
    )
    traffic: TrafficGenerator | None = None
    traffic_task: asyncio.Task[object] | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server: uvicorn.Server | None = None
    server_task: asyncio.Task[None] | None = None
    try:
        await sim.start()
        await hotline.connect_ami(
            AmiTarget(host="127.0.0.1", port=sim.ami_port, username="hotline", secret=secret)
        )
        assert hotline.ami is not None and hotline.desk is not None
        await hotline.ami.wait_connected(10)
        for agent in hotline.plan.agents[:agents] if hotline.plan else ():
            await hotline.desk.log_in(agent.extension)
        await _demo_users(hotline)
        traffic = TrafficGenerator(
            sim, calls_per_minute / 60.0, seed=seed, profile=TrafficProfile(talk=(20.0, 120.0))
        )
        traffic_task = asyncio.create_task(traffic.run(), name="demo-traffic")
        app = create_app(settings, hotline=hotline)
        server = uvicorn.Server(
            uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_level="warning")
        )
        server_task = asyncio.create_task(server.serve(), name="http")
        print(
            f"12355 demo running: http://{settings.http_host}:{settings.http_port}  (Ctrl-C to stop)",
            flush=True,
        )
        stopped = asyncio.create_task(stop.wait(), name="wait-for-ctrl-c")
        await asyncio.wait({stopped, server_task}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if server is not None and server_task is not None:
            server.should_exit = True
            with suppress(asyncio.CancelledError):
                await server_task
        if traffic is not None and traffic_task is not None:
            traffic.stop()
            await traffic_task
        # Callers hang up, as on a PBX shut down gracefully: every call up now ends recorded, instead of
        # staying "in progress" in the database after the demo is gone.
        await sim.hang_up_all()
        if hotline.actions is not None:
            # AMI delivers in order: once a Ping is answered, every Hangup before it is in the live model
            with suppress(AmiError, TimeoutError):  # the link may be gone already: nothing to wait for
                await hotline.actions.ping()
        await hotline.stop()
        await sim.stop()
    print("12355 demo stopped cleanly", flush=True)
    return 0
