"""The dialplan interpreter: runs a channel through extensions.conf, one application after another.

Unknown applications are logged once and skipped (the dialplan continues). Real Asterisk hangs the
channel up instead; the simulator keeps going so that a dialplan rendered with an application it does
not model (MixMonitor options, PlayTones...) still produces calls. Falling off the end of an extension
hangs up with cause 16, as Asterisk's auto-fallthrough does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from pbxsim.agi_client import run_agi
from pbxsim.channel import ALL_DIGITS, Channel, Frame, State
from pbxsim.dialplan import goto_target
from pbxsim.endpoints import dial_target
from pbxsim.expressions import arg_float, is_true, split_args
from pbxsim.queues import QueueEngine
from pbxsim.runtime import Runtime

log = logging.getLogger(__name__)

App = Callable[[Channel, str], Awaitable[int]]
MAX_STEPS_WITHOUT_WAIT = 200
DIGIT_TIMEOUT = 3.0


def _cdr_time(epoch: float | None) -> str:
    return "" if epoch is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


class Interpreter:
    def __init__(self, rt: Runtime, queues: QueueEngine) -> None:
        self.rt = rt
        self.queues = queues
        self._warned: set[str] = set()
        self.apps: dict[str, App] = {
            "noop": self.app_noop,
            "verbose": self.app_noop,
            "log": self.app_noop,
            "progress": self.app_noop,
            "answer": self.app_answer,
            "ringing": self.app_ringing,
            "set": self.app_set,
            "mset": self.app_mset,
            "gotoif": self.app_gotoif,
            "goto": self.app_goto,
            "gosub": self.app_gosub,
            "return": self.app_return,
            "hangup": self.app_hangup,
            "agi": self.app_agi,
            "queue": self.app_queue,
            "playback": self.app_playback,
            "background": self.app_background,
            "waitexten": self.app_waitexten,
            "read": self.app_read,
            "wait": self.app_wait,
            "userevent": self.app_userevent,
            "execif": self.app_execif,
            "dial": self.app_dial,
            "mixmonitor": self.app_mixmonitor,
            "stopmixmonitor": self.app_stopmixmonitor,
            "chanspy": self.app_chanspy,
        }

    # ----- the channel task -----
    async def run(self, ch: Channel) -> None:
        try:
            await self._loop(ch)
            if self.rt.dialplan.exists(ch.context, "h"):
                ch.context, ch.exten, ch.priority = ch.context, "h", 1
                await self._loop(ch, dead=True)
        finally:
            self.finish(ch)

    async def _loop(self, ch: Channel, *, dead: bool = False) -> None:
        plan = self.rt.dialplan
        steps = 0
        while True:
            if ch.redirect is not None:
                ch.context, ch.exten, ch.priority = ch.redirect
                ch.redirect = None
                ch.rearm()
            if ch.hungup and not dead:
                return
            ext = plan.find(ch.context, ch.exten)
            if ext is None:
                if not dead and ch.exten != "i" and plan.exists(ch.context, "i"):
                    ch.set_var("INVALID_EXTEN", ch.exten)
                    ch.exten, ch.priority = "i", 1
                    continue
                if not dead:
                    log.info("%s: no extension %s in %s, hanging up", ch.name, ch.exten, ch.context)
                    ch.hangup_cause = 16 if ch.answered_at else 1
                return
            step = ext.steps.get(ch.priority)
            if step is None:
                # auto-fallthrough: the extension has no more priorities
                if not ch.hungup:
                    ch.hangup_cause = 16
                return
            data = self.rt.substitute(ch, step.data)
            ch.app, ch.app_data = step.app, data
            ch.emit(
                "Newexten",
                "dialplan",
                [("Extension", ch.exten), ("Application", step.app), ("AppData", data)],
            )
            ch.jumped = False
            result = await self.exec_app(ch, step.app, data)
            if ch.redirect is not None:
                continue
            if result < 0 or (ch.hungup and not dead):
                return
            if not ch.jumped:
                ch.priority += 1
            steps += 1
            if steps % MAX_STEPS_WITHOUT_WAIT == 0:
                await asyncio.sleep(0)  # a Goto loop must not starve the other channels

    def finish(self, ch: Channel) -> None:
        if ch.ended:
            return
        self.rt.recorder.stop(ch.name)  # MixMonitor ends with the channel
        ch.finish()
        self.emit_cdr(ch)

    def emit_cdr(self, ch: Channel) -> None:
        if self.rt.bus.idle:
            return
        end = ch.ended_at or time.time()
        answered = ch.answered_at
        self.rt.bus.emit(
            "Cdr",
            "cdr",
            [
                ("AccountCode", ch.accountcode),
                ("Source", ch.caller_num),
                ("Destination", ch.dnid or ch.exten),
                ("DestinationContext", ch.context),
                ("CallerID", f'"{ch.caller_name}" <{ch.caller_num}>'),
                ("Channel", ch.name),
                ("DestinationChannel", ch.peer),
                ("LastApplication", ch.app),
                ("LastData", ch.app_data),
                ("StartTime", _cdr_time(ch.created)),
                ("AnswerTime", _cdr_time(answered)),
                ("EndTime", _cdr_time(end)),
                ("Duration", str(int(end - ch.created))),
                ("BillableSeconds", str(int(end - answered)) if answered else "0"),
                ("Disposition", "ANSWERED" if answered else "NO ANSWER"),
                ("AMAFlags", "DOCUMENTATION"),
                ("UniqueID", ch.uniqueid),
                ("UserField", ""),
            ],
        )

    async def exec_app(self, ch: Channel, app: str, data: str) -> int:
        fn = self.apps.get(app.lower())
        if fn is None:
            if app.lower() not in self._warned:
                self._warned.add(app.lower())
                log.warning("application %s is not simulated: skipped", app)
            return 0
        return await fn(ch, data)

    async def agi_exec(self, ch: Channel, app: str, data: str) -> int:
        """AGI EXEC: like the dialplan, but an unknown application answers -2 as res_agi does."""
        if app.lower() not in self.apps:
            log.warning("AGI EXEC %s: application not simulated", app)
            return -2
        return await self.exec_app(ch, app, data)

    # ----- flow -----
    def goto(self, ch: Channel, target: str) -> int:
        context, exten, label = goto_target(target, ch.context, ch.exten)
        prio = self.rt.dialplan.priority_of(context, exten, label)
        if prio is None:
            log.warning("%s: Goto(%s): no such priority or label", ch.name, target)
            return -1
        ch.context, ch.exten, ch.priority = context, exten, prio
        ch.jumped = True
        return 0

    async def app_noop(self, ch: Channel, data: str) -> int:
        return 0

    async def app_answer(self, ch: Channel, data: str) -> int:
        if ch.hungup:
            return -1
        ch.answer()
        return 0

    async def app_ringing(self, ch: Channel, data: str) -> int:
        if ch.state != State.UP:
            ch.set_state(State.RINGING)
        return 0

    async def app_set(self, ch: Channel, data: str) -> int:
        name, sep, value = data.partition("=")
        if not sep:
            log.warning("%s: Set(%s) without '='", ch.name, data)
            return 0
        self.rt.set_variable(ch, name, value)
        return 0

    async def app_mset(self, ch: Channel, data: str) -> int:
        for pair in split_args(data):
            await self.app_set(ch, pair)
        return 0

    async def app_gotoif(self, ch: Channel, data: str) -> int:
        cond, _, labels = data.partition("?")
        if_true, _, if_false = labels.partition(":")
        target = if_true if is_true(cond) else if_false
        return self.goto(ch, target) if target.strip() else 0

    async def app_goto(self, ch: Channel, data: str) -> int:
        return self.goto(ch, data)

    async def app_gosub(self, ch: Channel, data: str) -> int:
        target, args = data, ""
        if target.endswith(")") and "(" in target:
            paren = target.index("(")
            target, args = target[:paren], target[paren + 1 : -1]
        frame = Frame(ch.context, ch.exten, ch.priority + 1)
        if self.goto(ch, target) < 0:
            return -1
        ch.stack.append(frame)
        values = split_args(args) if args else []
        for i, value in enumerate(values, start=1):
            ch.set_var(f"LOCAL(ARG{i})", value)
        ch.set_var("LOCAL(ARGC)", str(len(values)))
        return 0

    async def app_return(self, ch: Channel, data: str) -> int:
        if not ch.stack:
            log.warning("%s: Return() without Gosub", ch.name)
            return -1
        frame = ch.stack.pop()
        ch.set_var("GOSUB_RETVAL", data)
        ch.context, ch.exten, ch.priority = frame.context, frame.exten, frame.priority
        ch.jumped = True
        return 0

    async def app_hangup(self, ch: Channel, data: str) -> int:
        try:
            cause = int(data) if data.strip() else 16
        except ValueError:
            cause = 16
        if not ch.hungup:
            ch.hangup_cause = cause
        return -1

    async def app_agi(self, ch: Channel, data: str) -> int:
        return await run_agi(self.rt, ch, split_args(data), self.agi_exec)

    async def app_queue(self, ch: Channel, data: str) -> int:
        return await self.queues.run(ch, data)

    async def app_execif(self, ch: Channel, data: str) -> int:
        cond, _, apps = data.partition("?")
        chosen = apps
        depth = 0
        for i, c in enumerate(apps):
            depth += c == "("
            depth -= c == ")"
            if c == ":" and depth == 0:
                chosen = apps[:i] if is_true(cond) else apps[i + 1 :]
                break
        else:
            if not is_true(cond):
                return 0
        chosen = chosen.strip()
        if not chosen:
            return 0
        paren = chosen.find("(")
        name, args = (chosen, "") if paren < 0 else (chosen[:paren], chosen[paren + 1 : -1])
        return await self.exec_app(ch, name, args)

    # ----- media -----
    async def app_playback(self, ch: Channel, data: str) -> int:
        files = split_args(data)[0].split("&")
        for _ in files:
            if await ch.wait(self.rt.prompt_seconds, "") is None:
                return -1 if ch.hungup else 0
        ch.set_var("PLAYBACKSTATUS", "SUCCESS")
        return 0

    async def app_background(self, ch: Channel, data: str) -> int:
        files = split_args(data)[0].split("&")
        for _ in files:
            digit = await ch.wait(self.rt.prompt_seconds, ALL_DIGITS)
            if digit is None:
                return -1 if ch.hungup else 0
            if digit:
                return await self._dialled_exten(ch, digit)
        return 0

    async def app_waitexten(self, ch: Channel, data: str) -> int:
        seconds = arg_float(split_args(data)[0], 10.0)
        digit = await ch.wait(seconds, ALL_DIGITS)
        if digit is None:
            return -1 if ch.hungup else 0
        if digit:
            return await self._dialled_exten(ch, digit)
        if self.rt.dialplan.exists(ch.context, "t"):
            return self.goto(ch, "t,1")
        log.info("%s: WaitExten timeout and no 't' extension: hanging up", ch.name)
        return -1

    async def _dialled_exten(self, ch: Channel, digits: str) -> int:
        plan = self.rt.dialplan
        while plan.can_match_more(ch.context, digits):
            more = await ch.wait(DIGIT_TIMEOUT, ALL_DIGITS)
            if more is None:
                return -1
            if not more or more == "#":
                break
            digits += more
        if plan.exists(ch.context, digits):
            ch.context, ch.exten, ch.priority, ch.jumped = ch.context, digits, 1, True
            return 0
        if plan.exists(ch.context, "i"):
            ch.set_var("INVALID_EXTEN", digits)
            return self.goto(ch, "i,1")
        log.info("%s: invalid extension %s and no 'i': hanging up", ch.name, digits)
        return -1

    async def app_read(self, ch: Channel, data: str) -> int:
        args = split_args(data) + [""] * 6
        var, files = args[0], [f for f in args[1].split("&") if f]
        max_digits = int(arg_float(args[2], 0)) or 255
        attempts = max(int(arg_float(args[4], 1)), 1)
        timeout = arg_float(args[5], 10.0) or 10.0
        digits = ""
        status = "TIMEOUT"
        for _ in range(attempts):
            pressed = ""
            for _file in files:
                pressed = await ch.wait(self.rt.prompt_seconds, ALL_DIGITS) or ""
                if ch.hungup:
                    break
                if pressed:
                    break
            while not ch.hungup:
                if pressed == "#":
                    status = "OK"
                    break
                if pressed:
                    digits += pressed
                    if len(digits) >= max_digits:
                        status = "OK"
                        break
                got = await ch.wait(timeout, ALL_DIGITS)
                if got is None:
                    break
                if got == "":
                    status = "OK" if digits else "TIMEOUT"
                    break
                pressed = got
            if ch.hungup or digits:
                break
        if ch.hungup:
            status = "HANGUP"
        self.rt.set_variable(ch, var, digits)
        ch.set_var("READSTATUS", status)
        return -1 if ch.hungup else 0

    async def app_wait(self, ch: Channel, data: str) -> int:
        if await ch.sleep(arg_float(data, 0.0)):
            return 0
        return -1 if ch.hungup else 0

    async def app_userevent(self, ch: Channel, data: str) -> int:
        args = split_args(data)
        fields = [("UserEvent", args[0].strip())]
        for pair in args[1:]:
            key, _, value = pair.partition(":")
            if key.strip():
                fields.append((key.strip(), value.strip()))
        ch.emit("UserEvent", "user", fields)
        return 0

    async def app_chanspy(self, ch: Channel, data: str) -> int:
        """ChanSpy(prefix,options): the spy stays until it hangs up (no audio is simulated)."""
        spyee = (split_args(data) or [""])[0].strip()
        ch.emit("ChanSpyStart", "call", [("SpyeeChannel", spyee)])
        while await ch.sleep(60.0):
            pass
        ch.emit("ChanSpyStop", "call", [("SpyeeChannel", spyee)])
        return -1

    async def app_mixmonitor(self, ch: Channel, data: str) -> int:
        filename = (split_args(data) or [""])[0].strip()  # MixMonitor(file.ext[,options[,command]])
        self.rt.recorder.start(ch.name, filename or f"{ch.uniqueid}.wav")
        ch.emit("MixMonitorStart", "call")
        return 0

    async def app_stopmixmonitor(self, ch: Channel, data: str) -> int:
        self.rt.recorder.stop(ch.name)
        ch.emit("MixMonitorStop", "call")
        return 0

    # ----- Dial (plain calls: callbacks to outside numbers, agent to agent) -----
    async def app_dial(self, ch: Channel, data: str) -> int:
        args = [*split_args(data), "", ""]
        targets = [t for t in args[0].split("&") if t]
        timeout = arg_float(args[1], 0.0) or None
        if not targets:
            ch.set_var("DIALSTATUS", "INVALIDARGS")
            return 0
        rt = self.rt
        loop = asyncio.get_running_loop()
        winner: asyncio.Future[Channel] = loop.create_future()
        legs: list[Channel] = []
        timers: list[asyncio.TimerHandle] = []
        for target in targets:
            device, number = dial_target(target)
            behaviour = rt.endpoints.get(number)
            if not behaviour.registered:
                continue
            leg = rt.new_channel(
                device, caller_num=number, context="default", exten=number, linkedid=ch.linkedid, parent=ch
            )
            leg.connected_num, leg.connected_name = ch.caller_num, ch.caller_name
            ch.emit("DialBegin", "call", [*leg.snapshot("Dest"), ("DialString", target.partition("/")[2])])
            leg.set_state(State.RINGING)
            legs.append(leg)
            if behaviour.answers:
                timers.append(rt.call_later(behaviour.answer_after, _answer(winner, leg)))
        if not legs:
            ch.set_var("DIALSTATUS", "CHANUNAVAIL")
            return 0
        if ch.state != State.UP:
            ch.set_state(State.RINGING)
        await asyncio.wait((winner, ch.interrupt), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for handle in timers:
            rt.cancel_timer(handle)
        if not winner.done() or ch.interrupt.done():
            status = "CANCEL" if ch.interrupt.done() else "NOANSWER"
            for leg in legs:
                ch.emit("DialEnd", "call", [*leg.snapshot("Dest"), ("DialStatus", status)])
                leg.finish(0)
            ch.set_var("DIALSTATUS", status)
            return -1 if ch.hungup else 0
        peer = winner.result()
        peer.set_state(State.UP)
        ch.emit("DialEnd", "call", [*peer.snapshot("Dest"), ("DialStatus", "ANSWER")])
        for leg in legs:
            if leg is not peer:
                ch.emit("DialEnd", "call", [*leg.snapshot("Dest"), ("DialStatus", "CANCEL")])
                leg.finish(26)
        ch.answer()
        ch.peer = peer.name
        ch.connected_num = peer.caller_num
        bridge = rt.new_bridge()
        bridge.enter(ch)
        bridge.enter(peer)
        talk = rt.call_later(rt.endpoints.get(peer.caller_num).talk_seconds, lambda: peer.request_hangup(16))
        await bridge.talk(ch, peer)
        rt.cancel_timer(talk)
        ch.set_var("DIALSTATUS", "ANSWER")
        return -1


def _answer(winner: asyncio.Future[Channel], leg: Channel) -> Callable[[], None]:
    def answer() -> None:
        if not winner.done():
            winner.set_result(leg)

    return answer
