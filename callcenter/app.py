"""The composition root: one place that builds every adapter around the pure core and owns their lives.

``Hotline`` is used the same way by ``hotline serve``, the demo and the tests (with their own settings):
``await hotline.start()`` … ``await hotline.stop()``. FastAPI's lifespan calls both (``create_app``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from callcenter.ami.actions import AmiActions
from callcenter.ami.connection import AmiConnection, AmiError
from callcenter.auth.roles import STAFF, LoginLimiter
from callcenter.auth.store import UserStore
from callcenter.config.loader import load_plan
from callcenter.db.engine import Database, open_database
from callcenter.db.plan_sync import store_plan
from callcenter.db.writer import CallWriter
from callcenter.desk import AgentDesk
from callcenter.live.feed import LiveFeed, rebuild
from callcenter.live.model import (
    CallChanged,
    CallDropped,
    CallEnded,
    Change,
    LiveModel,
    MemberChanged,
    QueueChanged,
)
from callcenter.records import call_summary
from callcenter.settings import AmiTarget, Settings
from callcenter.web.hub import LiveHub
from ivr.agi.server import FastAgiServer
from ivr.session import make_ivr_route
from routing.plan import HotlinePlan

log = logging.getLogger(__name__)


class Hotline:
    def __init__(self, settings: Settings, *, plan: HotlinePlan | None = None) -> None:
        self.settings = settings
        self._initial_plan = plan
        self.plan: HotlinePlan | None = None
        self.db: Database | None = None
        self.model = LiveModel()
        self.feed = LiveFeed(self.model, self._on_changes)
        self.writer: CallWriter | None = None
        self.agi: FastAgiServer | None = None
        self.ami: AmiConnection | None = None
        self.actions: AmiActions | None = None
        self.desk: AgentDesk | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.users: UserStore | None = None
        self.login_limiter = LoginLimiter()
        self.hub = LiveHub()

    # -- life -------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Database, call writer, FastAGI; the AMI link too when settings name a target."""
        self.plan = self._initial_plan or load_plan(self.settings.config_file)
        self.db = await open_database(self.settings.database_url, self.settings.data_dir)
        try:
            await store_plan(self.db.sessions, self.plan)
            self.users = UserStore(self.db.sessions, session_hours=self.settings.session_hours)
            self.writer = CallWriter(self.db.sessions)
            await self.writer.start()
            self.agi = FastAgiServer(
                {"ivr": make_ivr_route(self._current_plan)},
                host=self.settings.agi_host,
                port=self.settings.agi_port,
                header_timeout=self.settings.agi_header_timeout,
            )
            await self.agi.start()
            self._spawn(self._sweep_forever(), "live-model-sweep")
            target = self.settings.ami_target
            if target is not None:
                await self.connect_ami(target)
        except BaseException:
            await self.stop()
            raise
        log.info("12355 hotline started: FastAGI on %s:%d", self.settings.agi_host, self.agi.port)

    async def connect_ami(self, target: AmiTarget) -> None:
        """Open the AMI link (it reconnects by itself); returns without waiting for the login."""
        self.ami = AmiConnection(
            target.host,
            target.port,
            target.username,
            target.secret,
            on_message=self.feed.on_message,
            on_state=self._on_ami_state,
            ping_interval=self.settings.ami_ping_interval,
            ping_timeout=self.settings.ami_ping_timeout,
        )
        self.actions = AmiActions(self.ami)
        assert self.plan is not None
        self.desk = AgentDesk(self.actions, self._current_plan)
        await self.ami.start()

    async def stop(self) -> None:
        """Stop in the reverse order of start; every owned task ends here."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.ami is not None:
            await self.ami.stop()
            self.ami = None
        if self.agi is not None:
            await self.agi.stop()
            self.agi = None
        if self.writer is not None:
            await self.writer.stop()
            self.writer = None
        if self.db is not None:
            await self.db.close()
            self.db = None

    # -- the event path ---------------------------------------------------------------------------
    def _current_plan(self) -> HotlinePlan:
        assert self.plan is not None
        return self.plan

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_ami_state(self, connected: bool) -> None:
        if connected and self.ami is not None:
            # After (re)connecting, learn the calls and queues already up (a restart, a dropped link).
            self._spawn(self._rebuild(), "ami-rebuild")

    async def _rebuild(self) -> None:
        if self.ami is None:
            return
        try:
            items = await rebuild(self.ami, self.feed)
        except AmiError as exc:
            log.warning("could not rebuild live state after connecting: %s", exc)
        else:
            log.info("live state rebuilt from %d AMI list items", items)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(60)
            self._on_changes(self.model.sweep(time.time()))

    def _on_changes(self, changes: list[Change]) -> None:
        writer = self.writer
        for change in changes:
            if isinstance(change, CallChanged | CallEnded | CallDropped):
                if writer is not None:
                    writer.submit(change.record)
                if self.hub.subscribers:
                    self.hub.publish("call", call_summary(change.record), roles=STAFF)
            elif isinstance(change, QueueChanged | MemberChanged) and self.hub.subscribers:
                self.hub.publish("queue", {"queue": change.queue}, roles=STAFF)

    @property
    def ami_connected(self) -> bool:
        return self.ami is not None and self.ami.connected


def create_app(settings: Settings, *, hotline: Hotline | None = None) -> FastAPI:
    """The ASGI app. Without ``hotline`` its lifespan builds, starts and stops one; a hotline handed in
    is already running and stays the caller's to stop (the demo and the tests)."""
    from callcenter.web.routes import install_routes

    the_hotline = hotline or Hotline(settings)
    owned = hotline is None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if owned:
            await the_hotline.start()
        try:
            yield
        finally:
            if owned:
                await the_hotline.stop()

    app = FastAPI(title="12355 hotline", version="0.1.0", lifespan=lifespan)
    app.state.hotline = the_hotline
    install_routes(app)
    return app
