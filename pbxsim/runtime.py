"""Shared state of one simulated PBX: channels, device states, variables, owned tasks and timers."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from pbxsim.bridge import Bridge
from pbxsim.channel import Channel, State
from pbxsim.dialplan import Dialplan
from pbxsim.endpoints import Endpoints, resource_of
from pbxsim.events import EventBus
from pbxsim.expressions import evaluate, is_true, split_args, substitute
from pbxsim.recorder import Recorder
from pbxsim.sounds import Sounds

if TYPE_CHECKING:
    from pbxsim.atxfer import AttendedTransfer  # atxfer.py runs on the runtime: a type only here

log = logging.getLogger(__name__)

# Device states as app_queue reports them (QueueMemberStatus Status).
DEVICE_NOT_INUSE = 1
DEVICE_INUSE = 2
DEVICE_UNAVAILABLE = 5
DEVICE_RINGING = 6
DEVICE_RINGINUSE = 7

VERSION = "22.4.1"


class Runtime:
    def __init__(
        self,
        bus: EventBus,
        dialplan: Dialplan,
        endpoints: Endpoints,
        *,
        seed: int = 0,
        prompt_seconds: float = 0.2,
        global_overrides: dict[str, str] | None = None,
        agi_connect_timeout: float = 2.0,
        agi_dead_timeout: float = 60.0,
    ) -> None:
        self.bus = bus
        self.dialplan = dialplan
        self.endpoints = endpoints
        self.rng = random.Random(seed)
        self.prompt_seconds = prompt_seconds
        self.global_overrides = dict(global_overrides or {})
        self.globals: dict[str, str] = {**dialplan.globals, **self.global_overrides}
        self.agi_connect_timeout = agi_connect_timeout
        self.agi_dead_timeout = agi_dead_timeout
        self.channels: dict[str, Channel] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.timers: set[asyncio.TimerHandle] = set()
        self._seq = 0
        self._epoch = int(time.time())
        self._device_channels: dict[str, set[Channel]] = {}
        self.device_states: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._flush_scheduled = False
        self.device_listeners: list[Callable[[str, int], None]] = []
        self.recorder = Recorder(seed=seed)  # MixMonitor files (PbxSimulator sets its directory)
        self.sounds = Sounds()  # which variant sound files exist (PbxSimulator sets the directory)
        self.bridges: dict[str, Bridge] = {}  # live bridges by BridgeUniqueid (AMI Atxfer finds one)
        self.transfers: dict[Channel, AttendedTransfer] = {}  # transferer -> its attended transfer
        # a transferred target's hang-up timer (its endpoint's talk time), cancelled if the caller ends first
        self.transfer_talk: dict[Channel, asyncio.TimerHandle] = {}

    def new_bridge(self) -> Bridge:
        return Bridge(self.bus, self.rng, self.bridges)

    # ----- owned tasks and timers -----
    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """A timer the PBX owns: cancelled by `cancel_all` when the simulator stops."""
        holder: list[asyncio.TimerHandle] = []

        def fire() -> None:
            self.timers.discard(holder[0])
            callback()

        handle = asyncio.get_running_loop().call_later(max(delay, 0.0), fire)
        holder.append(handle)
        self.timers.add(handle)
        return handle

    def cancel_timer(self, handle: asyncio.TimerHandle | None) -> None:
        if handle is not None:
            handle.cancel()
            self.timers.discard(handle)

    async def cancel_all(self) -> None:
        for handle in list(self.timers):
            handle.cancel()
        self.timers.clear()
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # ----- channels -----
    def new_channel(
        self,
        device: str,
        *,
        caller_num: str,
        caller_name: str = "",
        context: str = "default",
        exten: str = "s",
        priority: int = 1,
        state: State = State.DOWN,
        linkedid: str | None = None,
        parent: Channel | None = None,
        dnid: str = "",
    ) -> Channel:
        self._seq += 1
        name = f"{device}-{self._seq:08x}"
        uniqueid = f"{self._epoch}.{self._seq}"
        channel = Channel(
            self.bus,
            name,
            uniqueid,
            linkedid or uniqueid,
            caller_num=caller_num,
            caller_name=caller_name,
            context=context,
            exten=exten,
            priority=priority,
            state=state,
            dnid=dnid,
            on_state=self._channel_changed,
        )
        if parent is not None:
            # Inheritance as in Asterisk: `_X` reaches the children only, `__X` every descendant.
            for key, (value, level) in parent.inherited().items():
                channel.variables[key] = value
                if level == 2:
                    channel.inherit[key] = 2
        self.channels[name] = channel
        self._device_channels.setdefault(channel.device, set()).add(channel)
        channel.announce()
        self._channel_changed(channel)
        return channel

    def find_channel(self, name: str) -> Channel | None:
        return self.channels.get(name)

    # ----- device state (what QueueMemberStatus reports) -----
    def _channel_changed(self, channel: Channel) -> None:
        device = channel.device
        if channel.ended:
            self.channels.pop(channel.name, None)
            chans = self._device_channels.get(device)
            if chans is not None:
                chans.discard(channel)
                if not chans:
                    del self._device_channels[device]
        self.mark_device(device)

    def mark_device(self, device: str) -> None:
        """Device states are published asynchronously in Asterisk too: batch them to the next flush."""
        self._dirty.add(device)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush_devices)

    def compute_device_state(self, device: str) -> int:
        if not self.endpoints.get(resource_of(device)).registered:
            return DEVICE_UNAVAILABLE
        ringing = inuse = False
        for channel in self._device_channels.get(device, ()):
            if channel.ended:
                continue
            if channel.state in (State.RINGING, State.RING):
                ringing = True
            elif channel.state != State.DOWN:
                inuse = True
        if ringing and inuse:
            return DEVICE_RINGINUSE
        if ringing:
            return DEVICE_RINGING
        if inuse:
            return DEVICE_INUSE
        return DEVICE_NOT_INUSE

    def device_state(self, device: str) -> int:
        state = self.device_states.get(device)
        if state is None:
            state = self.compute_device_state(device)
            self.device_states[device] = state
        return state

    def flush_devices(self) -> None:
        self._flush_scheduled = False
        dirty, self._dirty = self._dirty, set()
        for device in sorted(dirty):
            state = self.compute_device_state(device)
            if self.device_states.get(device) == state:
                continue
            self.device_states[device] = state
            for listener in tuple(self.device_listeners):
                listener(device, state)

    # ----- variables and functions -----
    def get_variable(self, channel: Channel | None, name: str) -> str | None:
        """A variable or a function value as `${name}` would give it; None when unset."""
        name = name.strip()
        if name.endswith(")") and "(" in name:
            return self.call_function(channel, name)
        if channel is not None:
            value = channel.get_var(name)
            if value is not None:
                return value
            builtin = self._builtin(channel, name)
            if builtin is not None:
                return builtin
        if name == "EPOCH":
            return str(int(time.time()))
        return self.globals.get(name)

    def _builtin(self, channel: Channel, name: str) -> str | None:
        if name == "EXTEN":
            return channel.exten
        if name == "CONTEXT":
            return channel.context
        if name == "PRIORITY":
            return str(channel.priority)
        if name == "UNIQUEID":
            return channel.uniqueid
        if name == "CHANNEL":
            return channel.name
        if name == "CALLERID(num)":
            return channel.caller_num
        return None

    def resolve(self, channel: Channel | None, expr: str) -> str:
        """The inside of `${...}`: a name with an optional `:offset[:length]` substring."""
        name, offset, length = expr, None, None
        head = expr.rsplit(")", 1)
        tail = head[1] if len(head) == 2 else expr
        if ":" in tail:
            cut = len(expr) - len(tail) + tail.index(":")
            name = expr[:cut]
            parts = expr[cut + 1 :].split(":")
            offset = _int(parts[0])
            length = _int(parts[1]) if len(parts) > 1 else None
        value = self.get_variable(channel, name) or ""
        if offset is not None:
            value = value[offset:]
            if length is not None:
                value = value[:length]
        return value

    def substitute(self, channel: Channel | None, text: str) -> str:
        return substitute(text, lambda expr: self.resolve(channel, expr))

    def call_function(self, channel: Channel | None, call: str) -> str | None:
        fname, _, rest = call.partition("(")
        arg = rest[:-1]
        fname = fname.upper()
        if fname == "LEN":
            return str(len(arg))
        if fname == "ISNULL":
            return "1" if not arg else "0"
        if fname == "EXISTS":
            return "1" if arg else "0"
        if fname == "IF":
            cond, _, choices = arg.partition("?")
            yes, _, no = choices.partition(":")
            return yes if is_true(cond) else no
        if fname == "EVAL":
            return self.substitute(channel, arg)
        if fname == "MATH":
            return evaluate(arg)
        if fname == "LOCAL" and channel is not None and channel.stack:
            return channel.stack[-1].local.get(arg)
        if fname == "GLOBAL":
            return self.globals.get(arg)
        if channel is None:
            return None
        if fname == "CALLERID":
            key = arg.lower()
            if key == "num":
                return channel.caller_num
            if key == "name":
                return channel.caller_name
            if key == "all":
                return f'"{channel.caller_name}" <{channel.caller_num}>'
            if key == "dnid":
                return channel.dnid
            return ""
        if fname == "CONNECTEDLINE":
            return channel.connected_num if arg.lower() == "num" else channel.connected_name
        if fname == "CHANNEL":
            key = arg.lower()
            values = {
                "name": channel.name,
                "language": channel.language,
                "uniqueid": channel.uniqueid,
                "linkedid": channel.linkedid,
                "state": str(channel.state.name.capitalize()),
                "channeltype": channel.tech,
                "accountcode": channel.accountcode,
            }
            return values.get(key, "")
        log.warning("function %s() is not simulated", fname)
        return ""

    def set_variable(self, channel: Channel | None, name: str, value: str) -> None:
        """Set(name=value): functions CALLERID()/CHANNEL(language)/CDR()/GLOBAL(), else a channel variable."""
        key = name.strip()
        upper = key.upper()
        if channel is None or upper.startswith("GLOBAL("):
            gname = key[7:-1] if upper.startswith("GLOBAL(") else key
            self.globals[gname] = value
            self.bus.emit("VarSet", "dialplan", [("Variable", gname), ("Value", value)])
            return
        if upper.startswith("CALLERID(") and key.endswith(")"):
            what = key[9:-1].lower()
            if what == "num":
                channel.caller_num = value
            elif what == "name":
                channel.caller_name = value
            elif what == "all":
                channel.caller_name, channel.caller_num = _parse_callerid(value)
            return
        if upper == "CHANNEL(LANGUAGE)":
            channel.language = value
            return
        if upper.startswith("CDR(") and key.endswith(")"):
            # the channel's CDR variables: cdr_pgsql writes each into the cdr column of the same name
            # (pbxsim/cdr_writer.py); no AMI event, as in Asterisk
            channel.cdr_vars[key[4:-1].strip()] = value
            return
        channel.set_var(key, value)

    def split(self, data: str) -> list[str]:
        return split_args(data)


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _parse_callerid(value: str) -> tuple[str, str]:
    """`"Name" <num>` -> (name, num)."""
    value = value.strip()
    if "<" in value and value.endswith(">"):
        name, _, num = value.partition("<")
        return name.strip().strip('"'), num[:-1]
    return "", value
