"""PbxSimulator: the facade that assembles the simulated Asterisk and owns everything it starts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from pbxsim.ami_actions import Actions
from pbxsim.ami_server import AmiServer
from pbxsim.apps import Interpreter
from pbxsim.cdr_writer import CdrWriter
from pbxsim.channel import State
from pbxsim.dialplan import Dialplan
from pbxsim.endpoints import AgentBehaviour, Endpoints
from pbxsim.events import Event, EventBus
from pbxsim.queues import QueueEngine
from pbxsim.runtime import Runtime
from pbxsim.scripts import CallerDriver, CallerScript, CallOutcome, PlacedCall
from pbxsim.sounds import Sounds

log = logging.getLogger(__name__)


class PbxSimulator:
    def __init__(
        self,
        config_dir: Path,
        *,
        ami_host: str = "127.0.0.1",
        ami_port: int = 0,
        ami_users: dict[str, str] | None = None,
        globals: dict[str, str] | None = None,
        seed: int = 0,
        prompt_seconds: float = 0.2,
        default_agent: AgentBehaviour | None = None,
        inbound_context: str = "hotline-inbound",
        trunk: str = "PJSIP/trunk",
        agi_connect_timeout: float = 2.0,
        agi_dead_timeout: float = 60.0,
        max_session_buffer: int = 4 * 1024 * 1024,
        monitor_dir: Path | None = None,
        sounds_dir: Path | None = None,
        cdr_url: str | None = None,
    ) -> None:
        self.config_dir = Path(config_dir)
        self.inbound_context = inbound_context
        self.trunk = trunk
        self.bus = EventBus()
        self.endpoints = Endpoints(default_agent or AgentBehaviour())
        self.rt = Runtime(
            self.bus,
            Dialplan.load(self.config_dir / "extensions.conf"),
            self.endpoints,
            seed=seed,
            prompt_seconds=prompt_seconds,
            global_overrides=globals,
            agi_connect_timeout=agi_connect_timeout,
            agi_dead_timeout=agi_dead_timeout,
        )
        self.rt.recorder.monitor_dir = monitor_dir  # MixMonitor's spool (None: recordings not written)
        self.rt.sounds = Sounds(sounds_dir)  # Asterisk's sounds: which language variants exist
        self.queues = QueueEngine(self.rt)
        self.queues.load(self.config_dir / "queues.conf")
        self.interpreter = Interpreter(self.rt, self.queues)
        self.actions = Actions(
            self.rt, self.queues, self.interpreter, self.reload_dialplan, self.reload_queues
        )
        self.ami = AmiServer(
            self.bus,
            self.actions,
            ami_users if ami_users is not None else {"hotline": "secret"},
            host=ami_host,
            port=ami_port,
            max_buffer=max_session_buffer,
        )
        self._outcomes: list[CallOutcome] = []
        # Asterisk's CDR and queue_log rows into PostgreSQL (cdr_pgsql, realtime queue_log), given a URL.
        self.cdr: CdrWriter | None = CdrWriter(cdr_url, cdr_vars=self._cdr_vars) if cdr_url else None
        self._started = False

    def _cdr_vars(self, channel_name: str) -> dict[str, str]:
        channel = self.rt.channels.get(channel_name)
        return channel.cdr_vars if channel is not None else {}

    # ----- life -----
    async def start(self) -> None:
        if self.cdr is not None:
            self.bus.add_listener(self.cdr.on_event)
            await self.cdr.start()
        await self.ami.start()
        self._started = True
        log.info("pbxsim: AMI on %s:%d", self.ami.host, self.ami.port)

    async def stop(self) -> None:
        """Stop accepting, cancel every channel task and timer, close every AMI session."""
        await self.ami.stop()
        await self.rt.cancel_all()
        if self.cdr is not None:
            await self.cdr.stop()
        self._started = False

    async def __aenter__(self) -> PbxSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def ami_port(self) -> int:
        return self.ami.port

    # ----- configuration -----
    def reload_dialplan(self) -> None:
        plan = Dialplan.load(self.config_dir / "extensions.conf")
        self.rt.dialplan = plan
        self.rt.globals = {**plan.globals, **self.rt.global_overrides}

    def reload_queues(self) -> None:
        self.queues.load(self.config_dir / "queues.conf")

    def set_agent(self, extension: str, behaviour: AgentBehaviour) -> None:
        self.endpoints.set(extension, behaviour)
        self.rt.mark_device(f"PJSIP/{extension}")

    def add_listener(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """In-process view of every event (what an AMI client would receive)."""
        return self.bus.add_listener(listener)

    # ----- calls -----
    async def place_call(self, script: CallerScript) -> PlacedCall:
        """An outside caller dials in: a trunk channel enters the inbound context at the dialled number."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[CallOutcome] = loop.create_future()
        driver = CallerDriver(script, self.rt.call_later, self.rt.cancel_timer, done, self._outcomes.append)
        ch = self.rt.new_channel(
            self.trunk,
            caller_num=script.number,
            caller_name=script.name,
            context=script.context or self.inbound_context,
            exten=script.dialled,
            state=State.RING,
            dnid=script.dialled,
        )
        ch.observer = driver
        driver.start(ch)
        self.rt.spawn(self.interpreter.run(ch), name=f"chan-{ch.name}")
        return PlacedCall(ch.linkedid, ch, done)

    async def hang_up_all(self, cause: int = 16, timeout: float = 5.0) -> int:
        """Every channel hangs up (a PBX shut down gracefully): the calls end with their Hangup events and
        CDRs instead of vanishing. Returns the channels still up after ``timeout`` (0 normally)."""
        for channel in list(self.rt.channels.values()):
            channel.request_hangup(cause)
        running = [t for t in self.rt.tasks if t.get_name().startswith("chan-") and not t.done()]
        if running:
            await asyncio.wait(running, timeout=timeout)
        return len(self.rt.channels)

    def ground_truth(self) -> list[CallOutcome]:
        return list(self._outcomes)

    @property
    def active_channels(self) -> int:
        return len(self.rt.channels)
