"""The composition root: one place that builds every adapter around the pure core and owns their lives.

``Hotline`` is used the same way by ``hotline serve``, the demo and the tests (with their own settings):
``await hotline.start()`` … ``await hotline.stop()``. FastAPI's lifespan calls both (``create_app``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from callcenter.agentdesk.alerts import AlertBook
from callcenter.agentdesk.board import AgentBoard
from callcenter.ami.actions import AmiActions
from callcenter.ami.connection import AmiConnection, AmiError
from callcenter.ami.framing import AmiMessage
from callcenter.auth.roles import STAFF, LoginLimiter
from callcenter.auth.store import UserStore
from callcenter.blocks.service import CallerScreening
from callcenter.callbacks.service import CallbackService
from callcenter.config.apply import ConfigApplier, service_render_options
from callcenter.crisis.service import CrisisService
from callcenter.db.engine import Database, open_database
from callcenter.db.jobs import OrderedWrites
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
from callcenter.occupancy.recorder import StateRecorder
from callcenter.overflow.controller import OverflowController, policy_for_plan
from callcenter.reconcile.reconciler import Reconciler
from callcenter.records import call_summary
from callcenter.settings import AmiTarget, Settings
from callcenter.transfers.service import TransferService
from callcenter.web.hub import LiveHub
from callcenter.workorders.service import WorkOrderService, open_workorders
from ivr.agi.server import FastAgiServer
from ivr.session import make_ivr_route
from ivr.survey import SurveyRecorder, make_survey_route
from recordings.service import RecordingKeeper, config_from_settings
from routing.overflow import OverflowPolicy
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
        self.occupancy: StateRecorder | None = None  # agents' state intervals for occupancy (issue 6)
        self.reconciler: Reconciler | None = None  # calls missed over AMI, finished from Asterisk's CDR
        self.ami_event_at: float | None = None  # Timestamp of the newest AMI event applied (event lag)
        self.agi: FastAgiServer | None = None
        self.ami: AmiConnection | None = None
        self.actions: AmiActions | None = None
        self.desk: AgentDesk | None = None
        self.config: ConfigApplier | None = None  # hotline.yaml versions: apply, rollback, LISTEN
        self.screen: CallerScreening | None = None  # blocks, repeat callers, voice messages (issue 9)
        self.agents: AgentBoard | None = None  # agents' live states (panel, wallboard)
        self.alerts: AlertBook | None = None  # crisis alerts until acknowledged
        self._tasks: set[asyncio.Task[None]] = set()
        self.users: UserStore | None = None
        self.workorders: WorkOrderService | None = None  # work orders, referral, escalation (issue 6)
        # issue 4: callback seat, crisis marks, transfers to public hotlines, overflow seats
        self.callbacks: CallbackService | None = None
        self.transfers: TransferService | None = None
        self.crisis: CrisisService | None = None
        self.overflow: OverflowController | None = None
        self.login_limiter = LoginLimiter()
        self.hub = LiveHub()
        self.recordings: RecordingKeeper | None = None  # recordings/ (issue 7)

    # -- life -------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Database, call writer, FastAGI; the AMI link too when settings name a target."""
        self.db = await open_database(self.settings.database_url, self.settings.data_dir)
        try:
            config = self.config = ConfigApplier(
                self,
                self.db.sessions,
                database_url=self.db.url,
                asterisk_config_dir=self.settings.asterisk_config_dir,
                render_options=lambda: service_render_options(
                    self.settings.agi_host, self.agi.port if self.agi else self.settings.agi_port
                ),
            )
            # the newest applied version (or the file, stored as version 1); a plan handed in (tests) as is
            self.plan = self._initial_plan or await config.startup_plan(self.settings.config_file)
            await store_plan(self.db.sessions, self.plan)
            self.users = UserStore(self.db.sessions, session_hours=self.settings.session_hours)
            self.writer = CallWriter(self.db.sessions)
            await self.writer.start()
            self.occupancy = StateRecorder(self.db.sessions)
            await self.occupancy.start()
            self.recordings = RecordingKeeper(
                self.db.sessions, config_from_settings(self.settings), self._service_lines
            )
            self._spawn(self.recordings.run(), "recordings-spool")
            self._spawn(self.recordings.purge_forever(), "recordings-purge")
            writer = self.writer
            self.reconciler = Reconciler(
                self.db.sessions,
                writer,
                busy=lambda lid: writer.holds(lid) or self.model.call(lid) is not None,
            )
            self._spawn(self.reconciler.run(), "reconciler")
            self.agi = FastAgiServer(
                {
                    "ivr": make_ivr_route(self._current_plan, screen=self._caller_screen()),
                    "survey": make_survey_route(self._current_plan, self._survey_recorder()),
                },
                host=self.settings.agi_host,
                port=self.settings.agi_port,
                header_timeout=self.settings.agi_header_timeout,
            )
            await self.agi.start()
            self._spawn(config.listen_forever(), "config-listener")
            self._spawn(self._sweep_forever(), "live-model-sweep")
            self.workorders = await open_workorders(self.db.sessions, self.plan, self.hub)
            self._spawn(self.workorders.escalate_forever(), "workorder-escalation")
            self._spawn(self.workorders.drafts_forever(), "workorder-drafts")  # a draft on answer
            await self._start_routing(self.db)
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
            on_state=self._on_ami_state,
            ping_interval=self.settings.ami_ping_interval,
            ping_timeout=self.settings.ami_ping_timeout,
        )
        self.actions = AmiActions(self.ami)
        assert self.plan is not None
        self.desk = AgentDesk(self.actions, self._current_plan)
        self.agents = AgentBoard(
            self.actions,
            self._current_plan,
            self._publish_agent,
            observe=self.occupancy.observe if self.occupancy else None,
        )
        self._spawn(self.agents.run(), "agent-wrapup-timer")
        # events translated once, by the feed; its rebuild after a (re)connect reaches the board too
        self.feed.listeners.append(self.agents.on_event)
        self.alerts = AlertBook(self.hub)
        self._spawn(self.alerts.run(), "crisis-alert-book")
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
        if self.occupancy is not None:
            await self.occupancy.stop()
            self.occupancy = None
        if self.writer is not None:
            await self.writer.stop()
            self.writer = None
        if self.db is not None:
            await self.db.close()
            self.db = None

    async def _start_routing(self, db: Database) -> None:
        """Issue 4's adapters (callcenter/callbacks, crisis, transfers, overflow); see their docstrings."""

        def actions() -> AmiActions | None:
            return self.actions

        self.transfers = TransferService(db.sessions, self.model, self._current_plan, actions)
        self.crisis = CrisisService(
            db.sessions,
            self.hub,
            self.model,
            self._current_plan,
            actions,
            self.transfers,
            work_orders=self.workorders,
        )
        self.callbacks = CallbackService(db.sessions, self.hub, actions, crisis_calls=self.crisis.is_crisis)
        await self.callbacks.load()
        self._spawn(self.callbacks.run(), "callback-book")
        self._spawn(self.crisis.run(), "crisis-marks")
        self.feed.listeners += [self.crisis.on_event, self.callbacks.on_event]
        if self.settings.overflow_interval > 0:
            self.start_overflow(policy_for_plan(self._current_plan()), self.settings.overflow_interval)

    def start_overflow(self, policy: OverflowPolicy, interval: float, window_seconds: float = 300.0) -> None:
        """Start the overflow controller (on unless settings.overflow_interval is 0)."""
        assert self.db is not None
        self.overflow = OverflowController(
            self.db.sessions,
            self.hub,
            self.model,
            self._current_plan,
            lambda: self.actions,
            lambda: self.desk,
            policy,
            window_seconds=window_seconds,
        )
        self._spawn(self.overflow.run(interval), "overflow-controller")

    # -- the event path ---------------------------------------------------------------------------
    def _current_plan(self) -> HotlinePlan:
        assert self.plan is not None
        return self.plan

    def _caller_screen(self) -> CallerScreening:
        self.screen = CallerScreening(
            lambda: self.db.sessions if self.db else None, self._current_plan, self.hub
        )
        self._spawn(self.screen.run(), "screening-records")
        return self.screen

    def _survey_recorder(self) -> SurveyRecorder:
        from callcenter.survey.service import survey_recorder  # issue 9

        writes = OrderedWrites("survey answers")
        self._spawn(writes.run(), "survey-answers")
        return survey_recorder(
            lambda: self.db.sessions if self.db else None, self._current_plan, self.hub, writes
        )

    def _service_lines(self) -> dict[str, str]:
        return {q.name: q.service_line for q in self._current_plan().queues}

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _publish_agent(self, view: Mapping[str, Any]) -> None:
        self.hub.publish("agent", dict(view), roles=STAFF)

    def _on_ami_message(self, msg: AmiMessage) -> None:
        stamp = msg.get("Timestamp")
        if stamp:
            with contextlib.suppress(ValueError):
                self.ami_event_at = float(stamp)
        self.feed.on_message(msg)

    def _on_ami_state(self, connected: bool) -> None:
        if not connected and self.reconciler is not None:
            self.reconciler.link_lost(self.model.calls())
        if connected and self.ami is not None:
            # After (re)connecting, learn the calls and queues already up (a restart, a dropped link).
            self._spawn(self._rebuild(), "ami-rebuild")
            if self.config is not None and self.config.reload_pending:  # applied while the link was down
                self._spawn(self._reload_config(self.config), "config-reload")

    async def _reload_config(self, config: ConfigApplier) -> None:
        await config.reload_if_pending()

    async def _rebuild(self) -> None:
        if self.ami is None:
            return
        try:
            if self.reconciler is not None:
                items = await self.reconciler.rebuild(self.ami, self.feed)
            else:
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
                reconciler = self.reconciler
                lid = change.record.linkedid
                if isinstance(change, CallEnded) and reconciler and reconciler.is_suspect(lid):
                    reconciler.hold(change.record)  # missed events: corrected from its CDR first
                elif writer is not None:
                    writer.submit(change.record)
                if isinstance(change, CallEnded) and self.recordings is not None:
                    self.recordings.call_ended(change.record)
                if self.hub.subscribers:
                    self.hub.publish("call", call_summary(change.record), roles=STAFF)
            elif isinstance(change, QueueChanged | MemberChanged) and self.hub.subscribers:
                self.hub.publish("queue", {"queue": change.queue}, roles=STAFF)
        if self.callbacks is not None:
            self.callbacks.on_changes(changes)
        if self.workorders is not None:
            self.workorders.on_changes(changes)  # answered calls get their draft work order (issue 6)
        if self.screen is not None:
            self.screen.on_changes(changes)  # blocked by the dialplan: the screening log (issue 9)

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
