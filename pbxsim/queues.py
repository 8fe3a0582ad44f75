"""app_queue: queues.conf, members, the Queue() application and the queue AMI views.

The caller's own channel task runs Queue(): it waits for its turn, rings members with the queue's
strategy, bridges with the one who answers and waits for the end of the conversation. Member legs
have no task of their own: their answer and hang-up are timers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pbxsim import atxfer
from pbxsim.announce import AnnounceConfig, WaitAnnouncer, exit_key, parse_announce_option
from pbxsim.channel import Channel, State
from pbxsim.conf import parse_conf
from pbxsim.endpoints import resource_of
from pbxsim.events import Fields
from pbxsim.expressions import split_args
from pbxsim.runtime import (
    DEVICE_INUSE,
    DEVICE_NOT_INUSE,
    DEVICE_RINGING,
    DEVICE_RINGINUSE,
    DEVICE_UNAVAILABLE,
    Runtime,
)

log = logging.getLogger(__name__)

STRATEGIES = {
    "ringall",
    "rrmemory",
    "roundrobin",
    "leastrecent",
    "fewestcalls",
    "random",
    "wrandom",
    "linear",
}
# joinempty / leavewhenempty conditions (app_queue's parse_empty_options): "strict" and "loose" are sets
# of conditions; a plain true/false means "loose" or nothing, the other way round for joinempty.
STRICT = {"penalty", "paused", "invalid", "unavailable"}
LOOSE = {"penalty", "invalid"}


def _true(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("yes", "true", "y", "t", "1", "on")


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


@dataclass
class QueueConfig:
    name: str
    strategy: str = "ringall"
    timeout: float = 15.0
    retry: float = 5.0
    wrapuptime: float = 0.0
    maxlen: int = 0
    joinempty: set[str] = field(default_factory=set)
    leavewhenempty: set[str] = field(default_factory=set)
    weight: int = 0
    ringinuse: bool = True
    servicelevel: int = 0
    autofill: bool = True
    monitor_format: str = ""  # set: MixMonitor records every bridged call (pbxsim/recorder.py)
    defaultrule: str = ""  # a [rule] of queuerules.conf applied to every caller
    members: list[tuple[str, int, str, str]] = field(default_factory=list)
    announce: AnnounceConfig = field(default_factory=AnnounceConfig)  # pbxsim/announce.py


def _empty_conditions(value: str | None, *, join: bool) -> set[str]:
    conditions: set[str] = set()
    for option in (value or "").lower().replace(" ", "").split(","):
        if option == "strict":
            conditions |= STRICT
        elif option == "loose":
            conditions |= LOOSE
        elif option in ("yes", "true", "y", "t", "1", "on", "no", "false", "n", "f", "0", "off"):
            truthy = option in ("yes", "true", "y", "t", "1", "on")
            if truthy != join:
                conditions |= LOOSE
            else:
                conditions = set()
        elif option:
            conditions.add(option)
    return conditions


def parse_queues(text: str) -> tuple[dict[str, str], dict[str, QueueConfig]]:
    general: dict[str, str] = {}
    queues: dict[str, QueueConfig] = {}
    for section in parse_conf(text):
        if section.name == "general":
            general = {k.lower(): v for k, v, _ in section.entries}
            continue
        cfg = QueueConfig(section.name)
        autofill_default = _true(general.get("autofill"), True)
        cfg.autofill = autofill_default
        for raw_key, value, line in section.entries:
            key = raw_key.lower()
            if key == "strategy":
                if value.lower() not in STRATEGIES:
                    log.warning("queue %s: strategy %r not simulated, using ringall", cfg.name, value)
                cfg.strategy = value.lower() if value.lower() in STRATEGIES else "ringall"
            elif key == "timeout":
                cfg.timeout = _float(value, 15.0)
            elif key == "retry":
                cfg.retry = _float(value, 5.0)
            elif key == "wrapuptime":
                cfg.wrapuptime = _float(value, 0.0)
            elif key == "maxlen":
                cfg.maxlen = int(_float(value, 0))
            elif key == "joinempty":
                cfg.joinempty = _empty_conditions(value, join=True)
            elif key == "leavewhenempty":
                cfg.leavewhenempty = _empty_conditions(value, join=False)
            elif key == "weight":
                cfg.weight = int(_float(value, 0))
            elif key == "ringinuse":
                cfg.ringinuse = _true(value, True)
            elif key == "servicelevel":
                cfg.servicelevel = int(_float(value, 0))
            elif key == "autofill":
                cfg.autofill = _true(value, True)
            elif key == "monitor-format":
                cfg.monitor_format = value.strip()
            elif key == "defaultrule":
                cfg.defaultrule = value.strip()
            elif key == "member":
                parts = [p.strip() for p in value.split(",")]
                interface = parts[0]
                penalty = int(_float(parts[1] if len(parts) > 1 else "0", 0))
                name = parts[2] if len(parts) > 2 and parts[2] else interface
                state = parts[3] if len(parts) > 3 and parts[3] else interface
                cfg.members.append((interface, penalty, name, state))
            elif parse_announce_option(cfg.announce, key, value):
                pass
            else:
                log.debug("queue %s line %d: %s not simulated", cfg.name, line, key)
        queues[cfg.name] = cfg
    return general, queues


@dataclass(frozen=True)
class PenaltyChange:
    """``penaltychange => seconds,max[,min]``: each limit absolute (``54``) or relative (``+5``, ``-2``)."""

    seconds: int
    max_value: str = ""
    min_value: str = ""


def parse_queuerules(text: str) -> dict[str, list[PenaltyChange]]:
    rules: dict[str, list[PenaltyChange]] = {}
    for section in parse_conf(text):
        if section.name == "general":
            continue
        changes = rules.setdefault(section.name, [])
        for key, value, _line in section.entries:
            if key.lower() != "penaltychange":
                continue
            parts = [p.strip() for p in value.split(",")] + ["", ""]
            try:
                changes.append(PenaltyChange(int(parts[0]), parts[1], parts[2]))
            except ValueError:
                log.warning("queuerules %s: bad penaltychange %r", section.name, value)
        changes.sort(key=lambda c: c.seconds)
    return rules


def _apply_limit(current: int | None, change: str) -> int | None:
    # app_queue's update_qe_rule: a limit the dialplan did not set stays unset
    if current is None or not change:
        return current
    value = current + int(change) if change[0] in "+-" else int(change)
    return max(0, value)


@dataclass
class Member:
    interface: str
    name: str
    state_interface: str
    penalty: int = 0
    paused: bool = False
    paused_reason: str = ""
    dynamic: bool = True
    ringinuse: bool = True
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = 0
    in_call: bool = False


@dataclass(eq=False)
class Entry:
    channel: Channel
    prio: int
    joined: float  # loop time
    joined_epoch: float
    original_position: int
    pending: bool = False
    linpos: int = 0
    max_penalty: int | None = None  # QUEUE_MAX_PENALTY when the caller joined
    min_penalty: int | None = None  # QUEUE_MIN_PENALTY
    announcer: WaitAnnouncer | None = None  # position / periodic announcements (pbxsim/announce.py)
    exited_by_key: bool = False  # left through the queue's exit context (queue_log EXITWITHKEY)


class Queue:
    def __init__(self, config: QueueConfig) -> None:
        self.config = config
        self.members: dict[str, Member] = {}
        self.entries: list[Entry] = []
        self.completed = 0
        self.abandoned = 0
        self.completed_in_sl = 0
        self.holdtime = 0
        self.talktime = 0
        self.rr_last = -1
        self._changed: asyncio.Future[None] | None = None

    @property
    def name(self) -> str:
        return self.config.name

    def position(self, entry: Entry) -> int:
        return self.entries.index(entry) + 1

    def notify(self) -> None:
        """Something that may let a waiting caller ring changed (member freed, caller left...)."""
        if self._changed is not None and not self._changed.done():
            self._changed.set_result(None)
        self._changed = None

    async def wait_change(self, channel: Channel, limit: float | None, *, keys: bool = False) -> None:
        """Wait for a change of the queue, the caller leaving, ``limit`` seconds or (``keys``) a key."""
        loop = asyncio.get_running_loop()
        if self._changed is None:
            self._changed = loop.create_future()
        waiter = None
        if keys:
            if channel.digits:
                return
            waiter = channel._digit_waiter = loop.create_future()
        try:
            await asyncio.wait(
                (self._changed, channel.interrupt, *([waiter] if waiter else [])),
                timeout=limit,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            if waiter is not None:
                if channel._digit_waiter is waiter:
                    channel._digit_waiter = None
                if not waiter.done():
                    waiter.cancel()


class QueueEngine:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.queues: dict[str, Queue] = {}
        self.shared_lastcall = True
        self.last_call_end: dict[str, float] = {}  # device or queue/device -> loop time
        self.rules: dict[str, list[PenaltyChange]] = {}  # queuerules.conf
        rt.device_listeners.append(self._device_changed)

    # ----- configuration -----
    def load(self, path: Path) -> None:
        general, configs = parse_queues(path.read_text(encoding="utf-8"))
        rules_file = path.with_name("queuerules.conf")
        self.rules = parse_queuerules(rules_file.read_text(encoding="utf-8")) if rules_file.exists() else {}
        self.shared_lastcall = _true(general.get("shared_lastcall"), True)
        for name, cfg in configs.items():
            queue = self.queues.get(name)
            if queue is None:
                queue = self.queues[name] = Queue(cfg)
            else:
                queue.config = cfg  # reload keeps dynamic members and waiting callers
            for member in [m for m in queue.members.values() if not m.dynamic]:
                del queue.members[member.interface]
            for interface, penalty, mname, state in cfg.members:
                queue.members[interface] = Member(
                    interface,
                    mname,
                    state,
                    penalty,
                    dynamic=False,
                    ringinuse=cfg.ringinuse,
                    login_time=int(time.time()),
                )
            queue.notify()
        for name in [n for n in self.queues if n not in configs]:
            if not self.queues[name].entries:
                del self.queues[name]

    # ----- member views -----
    def member_fields(self, queue: Queue, m: Member) -> Fields:
        return [
            ("Queue", queue.name),
            ("MemberName", m.name),
            ("Interface", m.interface),
            ("StateInterface", m.state_interface),
            ("Membership", "dynamic" if m.dynamic else "static"),
            ("Penalty", str(m.penalty)),
            ("CallsTaken", str(m.calls_taken)),
            ("LastCall", str(m.last_call)),
            ("LastPause", str(m.last_pause)),
            ("LoginTime", str(m.login_time)),
            ("InCall", "1" if m.in_call else "0"),
            ("Status", str(self.rt.device_state(m.state_interface))),
            ("Paused", "1" if m.paused else "0"),
            ("PausedReason", m.paused_reason),
            ("Ringinuse", "1" if m.ringinuse else "0"),
            ("Wrapuptime", "0"),
        ]

    def _device_changed(self, device: str, state: int) -> None:
        for queue in self.queues.values():
            for m in queue.members.values():
                if m.state_interface == device:
                    self.rt.bus.emit("QueueMemberStatus", "agent", self.member_fields(queue, m))
                    queue.notify()

    # ----- AMI member management -----
    def add_member(
        self,
        queue_name: str,
        interface: str,
        *,
        penalty: int = 0,
        paused: bool = False,
        reason: str = "",
        member_name: str = "",
        state_interface: str = "",
    ) -> str | None:
        """QueueAdd; returns the error message or None."""
        queue = self.queues.get(queue_name)
        if queue is None:
            return "Unable to add interface to queue: No such queue"
        if interface in queue.members:
            return "Unable to add interface: Already there"
        now = int(time.time())
        m = Member(
            interface,
            member_name or interface,
            state_interface or interface,
            penalty,
            paused=paused,
            paused_reason=reason if paused else "",
            ringinuse=queue.config.ringinuse,
            login_time=now,
            last_pause=now if paused else 0,
        )
        queue.members[interface] = m
        self.rt.bus.emit("QueueMemberAdded", "agent", self.member_fields(queue, m))
        queue.notify()
        return None

    def remove_member(self, queue_name: str, interface: str) -> str | None:
        queue = self.queues.get(queue_name)
        if queue is None:
            return "Unable to remove interface: No such queue"
        m = queue.members.get(interface)
        if m is None:
            return "Unable to remove interface: Not there"
        if not m.dynamic:
            return "Unable to remove interface: Member not dynamic"
        del queue.members[interface]
        self.rt.bus.emit("QueueMemberRemoved", "agent", self.member_fields(queue, m))
        queue.notify()
        return None

    def pause_member(self, interface: str, paused: bool, queue_name: str = "", reason: str = "") -> bool:
        found = False
        for queue in self.queues.values():
            if queue_name and queue.name != queue_name:
                continue
            m = queue.members.get(interface)
            if m is None:
                continue
            found = True
            m.paused = paused
            m.paused_reason = reason if paused else ""
            if paused:
                m.last_pause = int(time.time())
            self.rt.bus.emit("QueueMemberPause", "agent", self.member_fields(queue, m))
            queue.notify()
        return found

    def change_priority(self, queue_name: str, channel_name: str, prio: int) -> bool:
        """QueueChangePriorityCaller: the waiting caller moves behind callers of the same or higher
        priority, ahead of lower ones (app_queue's change_priority_caller_on_queue)."""
        queue = self.queues.get(queue_name)
        entry = next((e for e in queue.entries if e.channel.name == channel_name), None) if queue else None
        if queue is None or entry is None:
            return False
        queue.entries.remove(entry)
        entry.prio = prio
        index = next((i for i, other in enumerate(queue.entries) if other.prio < prio), len(queue.entries))
        queue.entries.insert(index, entry)
        queue.notify()
        return True

    def set_penalty(self, interface: str, penalty: int, queue_name: str = "") -> bool:
        found = False
        for queue in self.queues.values():
            m = queue.members.get(interface)
            if m is None or (queue_name and queue.name != queue_name):
                continue
            found = True
            m.penalty = penalty
            self.rt.bus.emit("QueueMemberPenalty", "agent", self.member_fields(queue, m))
            queue.notify()
        return found

    # ----- availability -----
    def _wrapup_remaining(self, queue: Queue, m: Member, now: float) -> float:
        key = m.state_interface if self.shared_lastcall else f"{queue.name}/{m.interface}"
        end = self.last_call_end.get(key)
        if end is None or queue.config.wrapuptime <= 0:
            return 0.0
        return max(0.0, end + queue.config.wrapuptime - now)

    def _ringable(self, queue: Queue, m: Member, now: float) -> bool:
        if m.paused:
            return False
        status = self.rt.compute_device_state(m.state_interface)
        if status == DEVICE_UNAVAILABLE:
            return False
        if status in (DEVICE_INUSE, DEVICE_RINGING, DEVICE_RINGINUSE) and not m.ringinuse:
            return False
        if self._wrapup_remaining(queue, m, now) > 0:
            return False
        # weight: a member shared with a heavier queue that has callers serves that queue first
        for other in self.queues.values():
            if (
                other is not queue
                and other.config.weight > queue.config.weight
                and m.interface in other.members
                and any(not e.pending for e in other.entries)
            ):
                return False
        return True

    def _usable(self, queue: Queue, conditions: set[str], now: float) -> bool:
        """joinempty/leavewhenempty: is there a member not excluded by the conditions?"""
        if not conditions:
            return True
        for m in queue.members.values():
            status = self.rt.compute_device_state(m.state_interface)
            if "paused" in conditions and m.paused:
                continue
            if "unavailable" in conditions and status == DEVICE_UNAVAILABLE:
                continue
            if "inuse" in conditions and status == DEVICE_INUSE:
                continue
            if "ringing" in conditions and status == DEVICE_RINGING:
                continue
            if "wrapup" in conditions and self._wrapup_remaining(queue, m, now) > 0:
                continue
            return True
        return False

    def _window(self, queue: Queue, entry: Entry, now: float) -> tuple[int | None, int | None]:
        """The caller's (max, min) penalty after the queue's rule changes due by now."""
        max_p, min_p = entry.max_penalty, entry.min_penalty
        for change in self.rules.get(queue.config.defaultrule, ()):
            if change.seconds > now - entry.joined:
                break
            max_p = _apply_limit(max_p, change.max_value)
            min_p = _apply_limit(min_p, change.min_value)
        return max_p, min_p

    def _next_rule_at(self, queue: Queue, entry: Entry, now: float) -> float | None:
        for change in self.rules.get(queue.config.defaultrule, ()):
            if entry.joined + change.seconds > now:
                return entry.joined + change.seconds - now + 0.001
        return None

    def _choose(self, queue: Queue, entry: Entry, now: float) -> list[Member]:
        members = list(queue.members.values())
        max_p, min_p = self._window(queue, entry, now)
        available = [
            m
            for m in members
            if self._ringable(queue, m, now)
            and (max_p is None or m.penalty <= max_p)
            and (min_p is None or m.penalty >= min_p)
        ]
        if not available:
            return []
        # is_our_turn (autofill): callers ahead of us that are not already ringing someone
        ahead = 0
        for other in queue.entries:
            if other is entry:
                break
            if not other.pending:
                ahead += 1
        if ahead >= (len(available) if queue.config.autofill else 1):
            return []
        tier = min(m.penalty for m in available)
        available = [m for m in available if m.penalty == tier]
        strategy = queue.config.strategy
        if strategy == "ringall":
            return available
        if strategy in ("rrmemory", "roundrobin"):
            for offset in range(1, len(members) + 1):
                idx = (queue.rr_last + offset) % len(members)
                if members[idx] in available:
                    queue.rr_last = idx
                    return [members[idx]]
            return []
        if strategy == "linear":
            for offset in range(len(members)):
                idx = (entry.linpos + offset) % len(members)
                if members[idx] in available:
                    entry.linpos = idx + 1
                    return [members[idx]]
            return []
        if strategy == "leastrecent":
            return [min(available, key=lambda m: m.last_call)]
        if strategy == "fewestcalls":
            return [min(available, key=lambda m: m.calls_taken)]
        return [self.rt.rng.choice(available)]

    # ----- the Queue() application -----
    async def run(self, caller: Channel, data: str) -> int:
        args = split_args(data) + [""] * 5
        name, options, timeout_arg = args[0].strip(), args[1], args[4].strip()
        queue = self.queues.get(name)
        if queue is None:
            log.warning("Queue(%s): no such queue", name)
            caller.set_var("QUEUESTATUS", "UNKNOWN")
            return 0
        try:
            prio = int(caller.get_var("QUEUE_PRIO") or 0)
        except ValueError:
            prio = 0
        timeout = _float(timeout_arg, 0.0)
        loop = asyncio.get_running_loop()
        now = loop.time()
        refused = None
        if queue.config.maxlen and len(queue.entries) >= queue.config.maxlen:
            refused = "FULL"
        elif not self._usable(queue, queue.config.joinempty, now):
            refused = "JOINEMPTY"
        if refused:
            caller.set_var("QUEUESTATUS", refused)
            if caller.observer is not None:
                caller.observer.on_queue_leave(caller, queue.name, refused.lower())
            return 0
        # higher QUEUE_PRIO first, FIFO within a priority
        index = len(queue.entries)
        for i, other in enumerate(queue.entries):
            if other.prio < prio:
                index = i
                break
        entry = Entry(caller, prio, now, time.time(), index + 1)
        announce = queue.config.announce
        if announce.frequency or (announce.periodic and announce.periodic_frequency):
            entry.announcer = WaitAnnouncer(announce, now)
        for var, attr in (("QUEUE_MAX_PENALTY", "max_penalty"), ("QUEUE_MIN_PENALTY", "min_penalty")):
            with contextlib.suppress(ValueError):  # unset or not a number: no limit, as in app_queue
                setattr(entry, attr, int(caller.get_var(var) or ""))
        queue.entries.insert(index, entry)
        caller.emit(
            "QueueCallerJoin",
            "agent",
            [("Queue", queue.name), ("Position", str(index + 1)), ("Count", str(len(queue.entries)))],
        )
        if caller.observer is not None:
            caller.observer.on_queue_join(caller, queue.name)
        try:
            return await self._wait(queue, entry, timeout if timeout > 0 else None, options)
        finally:
            if entry in queue.entries:  # cancelled (simulator stopping)
                queue.entries.remove(entry)
                queue.notify()

    async def _wait(self, queue: Queue, entry: Entry, max_wait: float | None, options: str) -> int:
        caller = entry.channel
        loop = asyncio.get_running_loop()
        deadline = None if max_wait is None else entry.joined + max_wait
        while True:
            if caller.interrupt.done():
                return self._abandon(queue, entry, [])
            now = loop.time()
            if deadline is not None and now >= deadline:
                return self._give_up(queue, entry, "TIMEOUT")
            if queue.config.leavewhenempty and not self._usable(queue, queue.config.leavewhenempty, now):
                return self._give_up(queue, entry, "LEAVEEMPTY")
            remaining = None if deadline is None else deadline - now
            members = self._choose(queue, entry, now)
            if not members:
                wake = self._next_wrapup_end(queue, now)
                rule = self._next_rule_at(queue, entry, now)
                if rule is not None:
                    wake = rule if wake is None else min(wake, rule)
                exit_context = queue.config.announce.context
                if exit_context and exit_key(self.rt.dialplan, exit_context, caller) is not None:
                    entry.exited_by_key = True
                    continue  # redirected: left the queue (QueueCallerLeave, no abandon)
                if entry.announcer is not None:
                    position = queue.position(entry)
                    entry.announcer.announce(caller, position, queue.holdtime, now, self.rt.sounds)
                    due = entry.announcer.next_in(now)
                    if due is not None:
                        wake = due if wake is None else min(wake, due)
                limit = remaining if wake is None else (wake if remaining is None else min(wake, remaining))
                await queue.wait_change(caller, limit, keys=bool(exit_context))
                continue
            ring_timeout = queue.config.timeout if remaining is None else min(queue.config.timeout, remaining)
            result = await self._ring(queue, entry, members, ring_timeout, options)
            if result is not None:
                return result
            if caller.interrupt.done() or (deadline is not None and loop.time() >= deadline):
                continue
            retry = queue.config.retry
            if deadline is not None:
                retry = min(retry, deadline - loop.time())
            await caller.sleep(retry)

    def _next_wrapup_end(self, queue: Queue, now: float) -> float | None:
        ends = [
            left
            for m in queue.members.values()
            if not m.paused and (left := self._wrapup_remaining(queue, m, now)) > 0
        ]
        return min(ends) + 0.001 if ends else None

    async def _ring(
        self, queue: Queue, entry: Entry, members: list[Member], ring_timeout: float, options: str
    ) -> int | None:
        """Ring the chosen members. Returns the app result when the call ended, None to try again."""
        rt = self.rt
        caller = entry.channel
        loop = asyncio.get_running_loop()
        winner: asyncio.Future[Channel] = loop.create_future()
        legs: list[tuple[Member, Channel]] = []
        timers: list[asyncio.TimerHandle] = []
        entry.pending = True
        for m in members:
            resource = resource_of(m.interface)
            leg = rt.new_channel(
                m.interface,
                caller_num=resource,
                context="default",
                exten=resource,
                linkedid=caller.linkedid,
                parent=caller,
            )
            leg.connected_num, leg.connected_name = caller.caller_num, caller.caller_name
            both = caller.snapshot() + leg.snapshot("Dest") if not rt.bus.idle else []
            rt.bus.emit(
                "AgentCalled",
                "agent",
                [*both, ("Queue", queue.name), ("MemberName", m.name), ("Interface", m.interface)],
            )
            rt.bus.emit("DialBegin", "call", [*both, ("DialString", resource)])
            leg.set_state(State.RINGING)
            legs.append((m, leg))
            behaviour = rt.endpoints.get(resource)
            if behaviour.answers:
                timers.append(rt.call_later(behaviour.answer_after, _answer_cb(winner, leg)))
        rt.flush_devices()
        started = loop.time()
        await asyncio.wait(
            (winner, caller.interrupt), timeout=max(ring_timeout, 0.0), return_when=asyncio.FIRST_COMPLETED
        )
        for handle in timers:
            rt.cancel_timer(handle)
        entry.pending = False
        if caller.interrupt.done():
            for _, leg in legs:
                self._dial_end(caller, leg, "CANCEL")
            return self._abandon(queue, entry, legs)
        if winner.done():
            return await self._connect(queue, entry, winner.result(), legs, started, options)
        ring_ms = int((loop.time() - started) * 1000)
        for m, leg in legs:
            if not rt.bus.idle:
                rt.bus.emit(
                    "AgentRingNoAnswer",
                    "agent",
                    caller.snapshot()
                    + leg.snapshot("Dest")
                    + [
                        ("Queue", queue.name),
                        ("MemberName", m.name),
                        ("Interface", m.interface),
                        ("RingTime", str(ring_ms)),
                    ],
                )
            self._dial_end(caller, leg, "NOANSWER")
            leg.finish(0)
        queue.notify()
        return None

    def _dial_end(self, caller: Channel, leg: Channel, status: str) -> None:
        if not self.rt.bus.idle:
            self.rt.bus.emit(
                "DialEnd", "call", caller.snapshot() + leg.snapshot("Dest") + [("DialStatus", status)]
            )

    def _leave(self, queue: Queue, entry: Entry) -> None:
        position = queue.position(entry)
        queue.entries.remove(entry)
        entry.channel.emit(
            "QueueCallerLeave",
            "agent",
            [("Queue", queue.name), ("Count", str(len(queue.entries))), ("Position", str(position))],
        )
        queue.notify()

    def _record_abandoned(self, queue: Queue, entry: Entry) -> None:
        caller = entry.channel
        caller.set_var("ABANDONED", "TRUE")
        hold = int(asyncio.get_running_loop().time() - entry.joined)
        caller.emit(
            "QueueCallerAbandon",
            "agent",
            [
                ("Queue", queue.name),
                ("Position", str(queue.position(entry))),
                ("OriginalPosition", str(entry.original_position)),
                ("HoldTime", str(hold)),
            ],
        )
        queue.abandoned += 1

    def _abandon(self, queue: Queue, entry: Entry, legs: list[tuple[Member, Channel]]) -> int:
        """The caller hung up, was redirected (AMI Redirect) or pressed an exit key while queued.

        app_queue tells an exit key apart (EXITWITHKEY, no abandon) but not a redirect from a hang-up:
        both end its wait with -1, and queue_exec's `stop:` records the caller as abandoned
        (QueueCallerAbandon, queue_log ABANDON)."""
        caller = entry.channel
        redirected = not caller.hungup
        if not entry.exited_by_key:
            self._record_abandoned(queue, entry)
        self._leave(queue, entry)
        for _, leg in legs:
            leg.finish(0)
        if caller.observer is not None:
            reason = ("exit-key" if entry.exited_by_key else "redirect") if redirected else "abandoned"
            caller.observer.on_queue_leave(caller, queue.name, reason)
        return 0 if redirected else -1

    def _give_up(self, queue: Queue, entry: Entry, status: str) -> int:
        """Queue timeout / leave-when-empty: record_abandoned, leave, QUEUESTATUS, back to the dialplan."""
        caller = entry.channel
        self._record_abandoned(queue, entry)
        self._leave(queue, entry)
        caller.set_var("QUEUESTATUS", status)
        if caller.observer is not None:
            caller.observer.on_queue_leave(caller, queue.name, status.lower())
        return 0

    async def _connect(
        self,
        queue: Queue,
        entry: Entry,
        leg: Channel,
        legs: list[tuple[Member, Channel]],
        ring_started: float,
        options: str,
    ) -> int:
        rt = self.rt
        caller = entry.channel
        loop = asyncio.get_running_loop()
        member = next(m for m, chan in legs if chan is leg)
        leg.set_state(State.UP)
        self._dial_end(caller, leg, "ANSWER")
        for _, other in legs:
            if other is not leg:
                self._dial_end(caller, other, "CANCEL")
                other.finish(26)
        now = loop.time()
        hold = int(now - entry.joined)
        ring_seconds = int(now - ring_started)
        self._leave(queue, entry)
        rt.flush_devices()
        resource = resource_of(member.interface)
        caller.connected_num, caller.connected_name = resource, member.name
        caller.peer = leg.name
        member.in_call = True
        if not rt.bus.idle:
            rt.bus.emit(
                "AgentConnect",
                "agent",
                caller.snapshot()
                + leg.snapshot("Dest")
                + [
                    ("Queue", queue.name),
                    ("MemberName", member.name),
                    ("Interface", member.interface),
                    ("RingTime", str(ring_seconds)),
                    ("HoldTime", str(hold)),
                ],
            )
        queue.holdtime = (queue.holdtime * 3 + hold) // 4
        if queue.config.servicelevel and hold <= queue.config.servicelevel:
            queue.completed_in_sl += 1
        if caller.observer is not None:
            caller.observer.on_agent_answer(caller, queue.name, member.name)
        caller.answer()
        bridge = rt.new_bridge()
        bridge.enter(caller)
        bridge.enter(leg)
        if queue.config.monitor_format:  # app_queue: MixMonitor(MONITOR_FILENAME or Uniqueid, b)
            filename = caller.get_var("MONITOR_FILENAME") or caller.uniqueid
            if rt.recorder.start(caller.name, filename, queue.config.monitor_format) is not None:
                caller.emit("MixMonitorStart", "call")
        behaviour = rt.endpoints.get(resource)
        talk_timer = rt.call_later(behaviour.talk_seconds, lambda: leg.request_hangup(16))
        talk_started = loop.time()
        await asyncio.wait((caller.interrupt, leg.interrupt), return_when=asyncio.FIRST_COMPLETED)
        rt.cancel_timer(talk_timer)
        talk = int(loop.time() - talk_started)
        # an attended transfer (AMI Atxfer) completes when the member hangs up: the target is in the bridge
        target = await atxfer.completed(rt, leg) if leg.hungup and not caller.hungup else None
        if caller.hungup:
            reason, first, second = "caller", caller, leg
        elif target is not None:
            reason, first, second = "transfer", leg, caller
        elif leg.hungup:
            reason, first, second = "agent", leg, caller
        else:
            reason, first, second = "transfer", caller, leg
        bridge.leave(first)
        if rt.recorder.stop(caller.name) is not None:
            caller.emit("MixMonitorStop", "call")
        if not rt.bus.idle:
            rt.bus.emit(
                "AgentComplete",
                "agent",
                caller.snapshot()
                + leg.snapshot("Dest")
                + [
                    ("Queue", queue.name),
                    ("MemberName", member.name),
                    ("Interface", member.interface),
                    ("HoldTime", str(hold)),
                    ("TalkTime", str(talk)),
                    ("Reason", reason),
                ],
            )
        if target is None:
            bridge.leave(second)
            bridge.destroy()
        # update_queue(): counted before the member's device state goes back to "not in use"
        member.calls_taken += 1
        member.last_call = int(time.time())
        member.in_call = False
        queue.completed += 1
        queue.talktime = (queue.talktime * 3 + talk) // 4
        key = member.state_interface if self.shared_lastcall else f"{queue.name}/{member.interface}"
        self.last_call_end[key] = loop.time()
        if caller.observer is not None:
            caller.observer.on_bridge_end(caller)
        leg.finish(16)
        if target is not None:
            return await atxfer.talk_after_transfer(rt, bridge, caller, target)
        if reason == "agent" and "c" not in options:
            caller.hangup_cause = 16
            return -1
        if reason == "agent":
            # queue_exec(): handled and option c -> set_queue_result(QUEUE_CONTINUE)
            caller.set_var("QUEUESTATUS", "CONTINUE")
        return -1 if reason == "caller" else 0

    # ----- AMI views -----
    def status_events(self, queue_filter: str, member_filter: str) -> list[Fields]:
        events: list[Fields] = []
        now = asyncio.get_running_loop().time()
        for queue in self.queues.values():
            if queue_filter and queue.name != queue_filter:
                continue
            cfg = queue.config
            perf = 100.0 * queue.completed_in_sl / queue.completed if queue.completed else 0.0
            total = queue.completed + queue.abandoned
            perf2 = 100.0 * (queue.completed_in_sl) / total if total else 0.0
            events.append(
                [
                    ("Event", "QueueParams"),
                    ("Queue", queue.name),
                    ("Max", str(cfg.maxlen)),
                    ("Strategy", cfg.strategy),
                    ("Calls", str(len(queue.entries))),
                    ("Holdtime", str(queue.holdtime)),
                    ("TalkTime", str(queue.talktime)),
                    ("Completed", str(queue.completed)),
                    ("Abandoned", str(queue.abandoned)),
                    ("ServiceLevel", str(cfg.servicelevel)),
                    ("ServicelevelPerf", f"{perf:.1f}"),
                    ("ServicelevelPerf2", f"{perf2:.1f}"),
                    ("Weight", str(cfg.weight)),
                ]
            )
            for m in queue.members.values():
                if member_filter and member_filter not in (m.interface, m.name):
                    continue
                fields = self.member_fields(queue, m)
                events.append(
                    [
                        ("Event", "QueueMember"),
                        ("Queue", queue.name),
                        ("Name", m.name),
                        ("Location", m.interface),
                    ]
                    + [f for f in fields[3:] if f[0] != "Ringinuse"]
                )
            for pos, entry in enumerate(queue.entries, start=1):
                ch = entry.channel
                events.append(
                    [
                        ("Event", "QueueEntry"),
                        ("Queue", queue.name),
                        ("Position", str(pos)),
                        ("Channel", ch.name),
                        ("Uniqueid", ch.uniqueid),
                        ("CallerIDNum", ch.caller_num or "unknown"),
                        ("CallerIDName", ch.caller_name or "unknown"),
                        ("ConnectedLineNum", ch.connected_num or "unknown"),
                        ("ConnectedLineName", ch.connected_name or "unknown"),
                        ("Wait", str(int(now - entry.joined))),
                        ("Priority", str(entry.prio)),
                    ]
                )
        return events

    def summary_events(self, queue_filter: str) -> list[Fields]:
        events: list[Fields] = []
        now = asyncio.get_running_loop().time()
        for queue in self.queues.values():
            if queue_filter and queue.name != queue_filter:
                continue
            logged = available = 0
            for m in queue.members.values():
                status = self.rt.device_state(m.state_interface)
                if status != DEVICE_UNAVAILABLE:
                    logged += 1
                    if (
                        not m.paused
                        and status == DEVICE_NOT_INUSE
                        and self._wrapup_remaining(queue, m, now) == 0
                    ):
                        available += 1
            longest = int(now - queue.entries[0].joined) if queue.entries else 0
            longest = max([int(now - e.joined) for e in queue.entries], default=longest)
            events.append(
                [
                    ("Event", "QueueSummary"),
                    ("Queue", queue.name),
                    ("LoggedIn", str(logged)),
                    ("Available", str(available)),
                    ("Callers", str(len(queue.entries))),
                    ("HoldTime", str(queue.holdtime)),
                    ("TalkTime", str(queue.talktime)),
                    ("LongestHoldTime", str(longest)),
                ]
            )
        return events


def _answer_cb(winner: asyncio.Future[Channel], leg: Channel) -> Callable[[], None]:
    def answer() -> None:
        if not winner.done():
            winner.set_result(leg)

    return answer
