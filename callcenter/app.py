"""The composition root: one place that builds every adapter around the pure core and owns their lives.

``Hotline`` is used the same way by ``hotline serve``, the demo and the tests (with their own settings):
``await hotline.start()`` … ``await hotline.stop()``. FastAPI's lifespan calls both (``create_app``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from callcenter.ami.actions import AmiActions
from callcenter.ami.connection import AmiConnection
from callcenter.ami.events import TranslationError, translate
from callcenter.ami.framing import AmiMessage
from callcenter.config.loader import load_plan
from callcenter.db.engine import Database, open_database
from callcenter.db.plan_sync import store_plan
from callcenter.db.writer import CallWriter
from callcenter.desk import AgentDesk
from callcenter.live.model import CallChanged, CallEnded, LiveModel
from callcenter.settings import AmiTarget, Settings
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
        self.writer: CallWriter | None = None
        self.agi: FastAgiServer | None = None
        self.ami: AmiConnection | None = None
        self.actions: AmiActions | None = None
        self.desk: AgentDesk | None = None
        self.dropped_events = 0

    # -- life -------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Database, call writer, FastAGI; the AMI link too when settings name a target."""
        self.plan = self._initial_plan or load_plan(self.settings.config_file)
        self.db = await open_database(self.settings.database_url, self.settings.data_dir)
        try:
            await store_plan(self.db.sessions, self.plan)
            self.writer = CallWriter(self.db.sessions)
            await self.writer.start()
            self.agi = FastAgiServer(
                {"ivr": make_ivr_route(self._current_plan)},
                host=self.settings.agi_host,
                port=self.settings.agi_port,
                header_timeout=self.settings.agi_header_timeout,
            )
            await self.agi.start()
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
            on_message=self._on_ami_message,
            ping_interval=self.settings.ami_ping_interval,
            ping_timeout=self.settings.ami_ping_timeout,
        )
        self.actions = AmiActions(self.ami)
        assert self.plan is not None
        self.desk = AgentDesk(self.actions, self._current_plan)
        await self.ami.start()

    async def stop(self) -> None:
        """Stop in the reverse order of start; every owned task ends here."""
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

    def _on_ami_message(self, message: AmiMessage) -> None:
        try:
            event = translate(message)
        except TranslationError as exc:
            self.dropped_events += 1
            log.warning("dropped a malformed AMI event: %s", exc)
            return
        if event is None:
            return
        for change in self.model.apply(event, received_at=time.time()):
            if isinstance(change, CallChanged | CallEnded) and self.writer is not None:
                self.writer.submit(change.record)

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
