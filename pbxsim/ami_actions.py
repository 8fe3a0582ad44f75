"""AMI actions of the simulated PBX (what manager.c, app_queue.c and friends answer)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable

from pbxsim import atxfer
from pbxsim.ami_server import Message, Session
from pbxsim.apps import Interpreter
from pbxsim.channel import Channel, State
from pbxsim.endpoints import resource_of
from pbxsim.events import Fields, format_timestamp
from pbxsim.queues import QueueEngine
from pbxsim.runtime import VERSION, Runtime

log = logging.getLogger(__name__)

ORIGINATE_FAILED = 0
ORIGINATE_NO_ANSWER = 3
ORIGINATE_ANSWERED = 4


def _true(value: str) -> bool:
    return value.strip().lower() in ("yes", "true", "y", "t", "1", "on")


def _int(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default


class Actions:
    def __init__(
        self,
        rt: Runtime,
        queues: QueueEngine,
        interpreter: Interpreter,
        reload_dialplan: Callable[[], None],
        reload_queues: Callable[[], None],
    ) -> None:
        self.rt = rt
        self.queues = queues
        self.interpreter = interpreter
        self.reload_dialplan = reload_dialplan
        self.reload_queues = reload_queues
        self.started = time.time()
        self.table: dict[str, Callable[[Session, Message], Awaitable[None]]] = {
            "ping": self.ping,
            "events": self.events,
            "queuestatus": self.queue_status,
            "queuesummary": self.queue_summary,
            "queueadd": self.queue_add,
            "queueremove": self.queue_remove,
            "queuepause": self.queue_pause,
            "queuepenalty": self.queue_penalty,
            "queuechangeprioritycaller": self.queue_change_priority_caller,
            "coreshowchannels": self.core_show_channels,
            "status": self.status,
            "originate": self.originate,
            "redirect": self.redirect,
            "atxfer": self.atxfer,
            "hangup": self.hangup,
            "setvar": self.setvar,
            "getvar": self.getvar,
            "command": self.command,
            "userevent": self.user_event,
        }

    async def __call__(self, session: Session, message: Message) -> None:
        handler = self.table.get(message.action)
        if handler is None:
            session.error(message, "Invalid/unknown command")
            return
        await handler(session, message)

    async def ping(self, session: Session, message: Message) -> None:
        session.respond(
            message, [("Response", "Success"), ("Ping", "Pong"), ("Timestamp", format_timestamp(time.time()))]
        )

    async def events(self, session: Session, message: Message) -> None:
        session.set_events(message.get("EventMask", "on"))
        session.respond(message, [("Response", "Success"), ("Events", "On" if session.events_on else "Off")])

    # ----- queues -----
    async def queue_status(self, session: Session, message: Message) -> None:
        items = self.queues.status_events(message.get("Queue"), message.get("Member"))
        session.send_list(message, "Queue status", "QueueStatusComplete", items)

    async def queue_summary(self, session: Session, message: Message) -> None:
        items = self.queues.summary_events(message.get("Queue"))
        session.send_list(message, "Queue summary", "QueueSummaryComplete", items)

    async def queue_add(self, session: Session, message: Message) -> None:
        queue, interface = message.get("Queue"), message.get("Interface")
        if not queue or not interface:
            session.error(message, "'Queue' and 'Interface' not set.")
            return
        error = self.queues.add_member(
            queue,
            interface,
            penalty=_int(message.get("Penalty", "0"), 0),
            paused=_true(message.get("Paused")),
            reason=message.get("Reason"),
            member_name=message.get("MemberName"),
            state_interface=message.get("StateInterface"),
        )
        if error:
            session.error(message, error)
        else:
            session.success(message, "Added interface to queue")

    async def queue_remove(self, session: Session, message: Message) -> None:
        queue, interface = message.get("Queue"), message.get("Interface")
        if not queue or not interface:
            session.error(message, "Need 'Queue' and 'Interface' parameters.")
            return
        error = self.queues.remove_member(queue, interface)
        if error:
            session.error(message, error)
        else:
            session.success(message, "Removed interface from queue")

    async def queue_pause(self, session: Session, message: Message) -> None:
        interface, paused = message.get("Interface"), message.get("Paused")
        if not interface or not paused:
            session.error(message, "Need 'Interface' and 'Paused' parameters.")
            return
        on = _true(paused)
        if not self.queues.pause_member(interface, on, message.get("Queue"), message.get("Reason")):
            session.error(message, "Interface not found")
            return
        session.success(message, f"Interface {'paused' if on else 'unpaused'} successfully")

    async def queue_penalty(self, session: Session, message: Message) -> None:
        interface, penalty = message.get("Interface"), message.get("Penalty")
        if not interface or not penalty:
            session.error(message, "Need 'Interface' and 'Penalty' parameters.")
            return
        if not self.queues.set_penalty(interface, _int(penalty, 0), message.get("Queue")):
            session.error(message, "Invalid interface, queuename or penalty")
            return
        session.success(message, "Interface penalty set successfully")

    async def queue_change_priority_caller(self, session: Session, message: Message) -> None:
        queue, caller, priority = message.get("Queue"), message.get("Caller"), message.get("Priority")
        if not queue or not caller or not priority:
            session.error(message, "'Queue', 'Caller' and 'Priority' must be provided")
            return
        if not self.queues.change_priority(queue, caller, _int(priority, 0)):
            session.error(message, "Unable to change priority caller on queue")
            return
        session.success(message, "Priority change for caller on queue")

    # ----- channels -----
    async def core_show_channels(self, session: Session, message: Message) -> None:
        now = time.time()
        items: list[Fields] = []
        for ch in list(self.rt.channels.values()):
            seconds = int(now - ch.created)
            items.append(
                [
                    ("Event", "CoreShowChannel"),
                    *ch.snapshot(),
                    ("BridgeId", ch.bridge_id),
                    ("Application", ch.app),
                    ("ApplicationData", ch.app_data),
                    ("Duration", f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"),
                ]
            )
        session.send_list(message, "Channels", "CoreShowChannelsComplete", items)

    async def status(self, session: Session, message: Message) -> None:
        wanted = message.get("Channel")
        now = time.time()
        items: list[Fields] = []
        for ch in list(self.rt.channels.values()):
            if wanted and ch.name != wanted:
                continue
            items.append(
                [
                    ("Event", "Status"),
                    *ch.snapshot(),
                    ("Type", ch.tech),
                    ("DNID", ch.dnid),
                    ("EffectiveConnectedLineNum", ch.connected_num or "<unknown>"),
                    ("EffectiveConnectedLineName", ch.connected_name or "<unknown>"),
                    ("TimeToHangup", "0"),
                    ("BridgeID", ch.bridge_id),
                    ("Application", ch.app),
                    ("Data", ch.app_data),
                    ("Nativeformats", "(ulaw)"),
                    ("Readformat", "ulaw"),
                    ("Readtrans", ""),
                    ("Writeformat", "ulaw"),
                    ("Writetrans", ""),
                    ("Callgroup", "0"),
                    ("Pickupgroup", "0"),
                    ("Seconds", str(int(now - ch.created))),
                ]
            )
        if wanted and not items:
            session.error(message, "No such channel")
            return
        session.send_list(message, "Channel status", "StatusComplete", items)

    def _channels(self, spec: str) -> list[Channel]:
        if len(spec) > 1 and spec.startswith("/") and spec.endswith("/"):
            try:
                pattern = re.compile(spec[1:-1])
            except re.error:
                return []
            return [ch for ch in self.rt.channels.values() if pattern.search(ch.name)]
        ch = self.rt.find_channel(spec)
        return [] if ch is None else [ch]

    async def hangup(self, session: Session, message: Message) -> None:
        spec = message.get("Channel")
        if not spec:
            session.error(message, "No channel specified")
            return
        chans = self._channels(spec)
        if not chans:
            session.error(message, "No such channel")
            return
        cause = _int(message.get("Cause", "16"), 16)
        for ch in chans:
            ch.request_hangup(cause)
        if spec.startswith("/"):
            session.success(message, f"{len(chans)} channels hung up.")
        else:
            session.success(message, "Channel Hungup")

    async def redirect(self, session: Session, message: Message) -> None:
        name = message.get("Channel")
        ch = self.rt.find_channel(name) if name else None
        if ch is None:
            session.error(message, "Channel does not exist: " + name if name else "Channel not specified")
            return
        context = message.get("Context") or ch.context
        exten = message.get("Exten")
        prio = self.rt.dialplan.priority_of(context, exten, message.get("Priority", "1"))
        if not exten or prio is None:
            session.error(message, "Invalid priority")
            return
        ch.request_redirect(context, exten, prio)
        extra = self.rt.find_channel(message.get("ExtraChannel")) if message.get("ExtraChannel") else None
        if extra is not None:
            ectx = message.get("ExtraContext") or context
            eexten = message.get("ExtraExten") or exten
            eprio = self.rt.dialplan.priority_of(ectx, eexten, message.get("ExtraPriority", "1")) or 1
            extra.request_redirect(ectx, eexten, eprio)
        session.success(message, "Redirect successful")

    async def atxfer(self, session: Session, message: Message) -> None:
        """manager.c action_atxfer: checks, TRANSFER_CONTEXT, ack; the transfer runs in pbxsim/atxfer.py."""
        name, exten, context = message.get("Channel"), message.get("Exten"), message.get("Context")
        if not name:
            session.error(message, "No channel specified")
            return
        if not exten:
            session.error(message, "No extension specified")
            return
        ch = self.rt.find_channel(name)
        if ch is None:
            session.error(message, "Channel specified does not exist")
            return
        if context:
            ch.set_var("TRANSFER_CONTEXT", context)
        context = context or ch.get_var("TRANSFER_CONTEXT") or ch.context or "default"
        session.success(message, "Atxfer successfully queued")
        atxfer.start(self.rt, self.rt.bridges.get(ch.bridge_id), ch, context, exten)

    async def setvar(self, session: Session, message: Message) -> None:
        variable = message.get("Variable")
        if not variable:
            session.error(message, "No variable specified")
            return
        name = message.get("Channel")
        ch = self.rt.find_channel(name) if name else None
        if name and ch is None:
            session.error(message, "No such channel")
            return
        self.rt.set_variable(ch, variable, message.get("Value"))
        session.success(message, "Variable Set")

    async def getvar(self, session: Session, message: Message) -> None:
        variable = message.get("Variable")
        if not variable:
            session.error(message, "No variable specified")
            return
        name = message.get("Channel")
        ch = self.rt.find_channel(name) if name else None
        if name and ch is None:
            session.error(message, "No such channel")
            return
        value = self.rt.get_variable(ch, variable) or ""
        session.respond(message, [("Response", "Success"), ("Variable", variable), ("Value", value)])

    async def command(self, session: Session, message: Message) -> None:
        cmd = " ".join(message.get("Command").split()).lower()
        if cmd == "core show version":
            output = [f"Asterisk {VERSION} built by pbxsim @ localhost on a x86_64 running Linux"]
        elif cmd == "dialplan reload":
            self.reload_dialplan()
            output = ["Dialplan reloaded."]
        elif cmd in ("module reload app_queue.so", "module reload app_queue", "queue reload all"):
            self.reload_queues()
            output = ["Module 'app_queue.so' reloaded successfully."]
        elif cmd == "core show uptime":
            up = int(time.time() - self.started)
            output = [f"System uptime: {up} seconds", f"Last reload: {up} seconds"]
        else:
            session.respond(
                message,
                [
                    ("Response", "Error"),
                    ("Message", "Command output follows"),
                    (
                        "Output",
                        f"No such command '{cmd}' (type 'core show help {cmd}' for other possible commands)",
                    ),
                ],
            )
            return
        session.respond(
            message,
            [("Response", "Success"), ("Message", "Command output follows")]
            + [("Output", o) for o in output],
        )

    async def user_event(self, session: Session, message: Message) -> None:
        name = message.get("UserEvent")
        if not name:
            session.error(message, "UserEvent not specified")
            return
        body = [(k, v) for k, v in message.headers if k.lower() not in ("action", "userevent")]
        self.rt.bus.emit("UserEvent", "user", [("UserEvent", name), *body])
        session.success(message, "Event Sent")

    # ----- originate -----
    async def originate(self, session: Session, message: Message) -> None:
        target = message.get("Channel")
        exten, app = message.get("Exten"), message.get("Application")
        if not target or "/" not in target:
            session.error(message, "Channel not specified")
            return
        if not exten and not app:
            session.error(message, "Exten or Application not specified")
            return
        if app and app.lower() not in self.interpreter.apps:
            session.error(message, f"Application {app} not found")
            return
        if _true(message.get("Async")):
            self.rt.spawn(self._originate(message), name=f"originate-{target}")
            session.success(message, "Originate successfully queued")
            return
        ok = await self._originate(message)
        if ok:
            session.success(message, "Originate successfully queued")
        else:
            session.error(message, "Originate failed")

    async def _originate(self, message: Message) -> bool:
        rt = self.rt
        target = message.get("Channel")
        parts = target.split("/")
        device = "/".join(parts[:2])
        resource = resource_of(target)
        context = message.get("Context") or "default"
        exten = message.get("Exten") or "s"
        prio = rt.dialplan.priority_of(context, exten, message.get("Priority", "1")) or 1
        timeout = _int(message.get("Timeout", "30000"), 30000) / 1000
        name, num = _callerid(message.get("CallerID"))
        behaviour = rt.endpoints.get(resource)
        action_id = message.get("ActionID")
        ch = rt.new_channel(
            device, caller_num=num or resource, caller_name=name, context=context, exten=exten, priority=prio
        )
        for assignment in message.get_all("Variable"):
            key, sep, value = assignment.partition("=")
            if sep:
                ch.set_var(key.strip(), value)
        reason = ORIGINATE_FAILED
        if behaviour.registered:
            ch.set_state(State.RINGING)
            answered = behaviour.answers and behaviour.answer_after <= timeout
            waited = behaviour.answer_after if answered else timeout
            await asyncio.wait((ch.interrupt,), timeout=waited)
            if ch.interrupt.done():
                reason = ORIGINATE_FAILED
            else:
                reason = ORIGINATE_ANSWERED if answered else ORIGINATE_NO_ANSWER
        fields: Fields = [("ActionID", action_id)] if action_id else []
        fields += [
            ("Response", "Success" if reason == ORIGINATE_ANSWERED else "Failure"),
            ("Channel", ch.name if reason == ORIGINATE_ANSWERED else target),
            ("Context", context),
            ("Exten", exten),
            ("Reason", str(reason)),
            ("Uniqueid", ch.uniqueid),
            ("CallerIDNum", num or "<unknown>"),
            ("CallerIDName", name or "<unknown>"),
        ]
        if reason != ORIGINATE_ANSWERED:
            ch.finish(19 if reason == ORIGINATE_NO_ANSWER else 20)
            rt.bus.emit("OriginateResponse", "call", fields)
            return False
        ch.answer()
        rt.bus.emit("OriginateResponse", "call", fields)
        if message.get("Application"):
            rt.spawn(
                self._run_app(ch, message.get("Application"), message.get("Data")), name=f"orig-{ch.name}"
            )
        else:
            rt.spawn(self.interpreter.run(ch), name=f"chan-{ch.name}")
        return True

    async def _run_app(self, ch: Channel, app: str, data: str) -> None:
        try:
            ch.app, ch.app_data = app, data
            await self.interpreter.exec_app(ch, app, data)
        finally:
            self.interpreter.finish(ch)


def _callerid(value: str) -> tuple[str, str]:
    value = value.strip()
    if "<" in value and value.endswith(">"):
        name, _, num = value.partition("<")
        return name.strip().strip('"'), num[:-1].strip()
    if value.isdigit() or value.startswith("+"):
        return "", value
    return value, ""
