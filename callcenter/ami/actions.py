"""Typed wrappers around the AMI actions the service sends. Every call states ``as_list`` explicitly.

Each takes the :class:`~callcenter.ami.connection.AmiConnection` (or anything with the same
``send_action``) first and keyword-only arguments after it. ``Response: Error`` raises
:class:`~callcenter.ami.connection.AmiActionError` with Asterisk's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from callcenter.ami.connection import ActionSpec, AmiResponse
from callcenter.ami.framing import AmiMessage

__all__ = [
    "ActionSender",
    "AmiActions",
    "command",
    "core_show_channels",
    "getvar",
    "hangup",
    "originate",
    "ping",
    "queue_add",
    "queue_pause",
    "queue_remove",
    "queue_status",
    "queue_summary",
    "redirect",
    "setvar",
    "user_event",
]


class ActionSender(Protocol):
    async def send_action(
        self,
        action: ActionSpec,
        *,
        as_list: bool,
        timeout: float = 10.0,
    ) -> AmiResponse: ...


def _flag(value: bool) -> str:
    return "true" if value else "false"


async def queue_add(
    ami: ActionSender,
    *,
    queue: str,
    interface: str,
    member_name: str | None = None,
    penalty: int | None = None,
    paused: bool = False,
    state_interface: str | None = None,
    reason: str | None = None,
) -> AmiResponse:
    action: list[tuple[str, str]] = [
        ("Action", "QueueAdd"),
        ("Queue", queue),
        ("Interface", interface),
        ("Paused", _flag(paused)),
    ]
    if member_name is not None:
        action.append(("MemberName", member_name))
    if penalty is not None:
        action.append(("Penalty", str(penalty)))
    if state_interface is not None:
        action.append(("StateInterface", state_interface))
    if reason is not None:
        action.append(("Reason", reason))
    return await ami.send_action(action, as_list=False)


async def queue_remove(ami: ActionSender, *, queue: str, interface: str) -> AmiResponse:
    return await ami.send_action(
        [("Action", "QueueRemove"), ("Queue", queue), ("Interface", interface)], as_list=False
    )


async def queue_pause(
    ami: ActionSender,
    *,
    interface: str,
    paused: bool,
    queue: str | None = None,
    reason: str | None = None,
) -> AmiResponse:
    """Pause/unpause a member in one queue, or in every queue when ``queue`` is None."""
    action = [("Action", "QueuePause"), ("Interface", interface), ("Paused", _flag(paused))]
    if queue is not None:
        action.append(("Queue", queue))
    if reason is not None:
        action.append(("Reason", reason))
    return await ami.send_action(action, as_list=False)


async def queue_status(
    ami: ActionSender,
    *,
    queue: str | None = None,
    member: str | None = None,
    timeout: float = 10.0,
) -> AmiResponse:
    """List action: ``events`` holds QueueParams, QueueMember and QueueEntry items."""
    action = [("Action", "QueueStatus")]
    if queue is not None:
        action.append(("Queue", queue))
    if member is not None:
        action.append(("Member", member))
    return await ami.send_action(action, as_list=True, timeout=timeout)


async def queue_summary(ami: ActionSender, *, queue: str | None = None, timeout: float = 10.0) -> AmiResponse:
    """List action: ``events`` holds one QueueSummary per queue."""
    action = [("Action", "QueueSummary")]
    if queue is not None:
        action.append(("Queue", queue))
    return await ami.send_action(action, as_list=True, timeout=timeout)


async def core_show_channels(ami: ActionSender, *, timeout: float = 10.0) -> AmiResponse:
    """List action: ``events`` holds one CoreShowChannel per channel."""
    return await ami.send_action([("Action", "CoreShowChannels")], as_list=True, timeout=timeout)


async def originate(
    ami: ActionSender,
    *,
    channel: str,
    context: str | None = None,
    exten: str | None = None,
    priority: int | str | None = None,
    application: str | None = None,
    data: str | None = None,
    caller_id: str | None = None,
    timeout_ms: int = 30000,
    variables: Mapping[str, str] | None = None,
    account: str | None = None,
    channel_id: str | None = None,
    other_channel_id: str | None = None,
    async_: bool = True,
    action_timeout: float | None = None,
) -> AmiResponse:
    """Originate a call to ``channel`` then ``context/exten/priority`` or ``application(data)``.

    With ``async_=True`` (default) Asterisk answers at once ("Originate successfully queued") and reports
    the outcome later as an ``OriginateResponse`` event carrying the same ActionID. A synchronous
    originate waits for the call to be answered, so its action timeout follows ``timeout_ms``.
    """
    if (application is None) == (exten is None):
        raise ValueError("originate needs either exten (with context) or application")
    action: list[tuple[str, str]] = [("Action", "Originate"), ("Channel", channel)]
    if exten is not None:
        if context is None:
            raise ValueError("originate to an extension needs a context")
        action += [
            ("Context", context),
            ("Exten", exten),
            ("Priority", str(priority if priority is not None else 1)),
        ]
    else:
        action.append(("Application", str(application)))
        if data is not None:
            action.append(("Data", data))
    action.append(("Timeout", str(timeout_ms)))
    if caller_id is not None:
        action.append(("CallerID", caller_id))
    if account is not None:
        action.append(("Account", account))
    if channel_id is not None:
        action.append(("ChannelId", channel_id))
    if other_channel_id is not None:
        action.append(("OtherChannelId", other_channel_id))
    for name, value in (variables or {}).items():
        action.append(("Variable", f"{name}={value}"))
    action.append(("Async", _flag(async_)))
    timeout = action_timeout if action_timeout is not None else (10.0 if async_ else timeout_ms / 1000 + 10)
    return await ami.send_action(action, as_list=False, timeout=timeout)


async def redirect(
    ami: ActionSender,
    *,
    channel: str,
    context: str,
    exten: str,
    priority: int = 1,
    extra_channel: str | None = None,
    extra_context: str | None = None,
    extra_exten: str | None = None,
    extra_priority: int | None = None,
) -> AmiResponse:
    action = [
        ("Action", "Redirect"),
        ("Channel", channel),
        ("Context", context),
        ("Exten", exten),
        ("Priority", str(priority)),
    ]
    if extra_channel is not None:
        action.append(("ExtraChannel", extra_channel))
        action.append(("ExtraContext", extra_context or context))
        action.append(("ExtraExten", extra_exten or exten))
        action.append(("ExtraPriority", str(extra_priority if extra_priority is not None else priority)))
    return await ami.send_action(action, as_list=False)


async def hangup(ami: ActionSender, *, channel: str, cause: int | None = None) -> AmiResponse:
    action = [("Action", "Hangup"), ("Channel", channel)]
    if cause is not None:
        action.append(("Cause", str(cause)))
    return await ami.send_action(action, as_list=False)


async def setvar(ami: ActionSender, *, variable: str, value: str, channel: str | None = None) -> AmiResponse:
    """Set a channel variable, or a global one when ``channel`` is None."""
    action = [("Action", "Setvar")]
    if channel is not None:
        action.append(("Channel", channel))
    action += [("Variable", variable), ("Value", value)]
    return await ami.send_action(action, as_list=False)


async def getvar(ami: ActionSender, *, variable: str, channel: str | None = None) -> str | None:
    """A channel (or global) variable's value; ``None`` when Asterisk sends no ``Value`` header."""
    action = [("Action", "Getvar")]
    if channel is not None:
        action.append(("Channel", channel))
    action.append(("Variable", variable))
    response = await ami.send_action(action, as_list=False)
    return response.get("Value")


async def command(ami: ActionSender, *, command: str, timeout: float = 10.0) -> list[str]:
    """Run a CLI command; the output lines (``Output:`` headers, or the Asterisk < 14 body)."""
    response = await ami.send_action(
        [("Action", "Command"), ("Command", command)], as_list=False, timeout=timeout
    )
    return response.get_all("Output")


async def ping(ami: ActionSender, *, timeout: float = 5.0) -> AmiMessage:
    response = await ami.send_action([("Action", "Ping")], as_list=False, timeout=timeout)
    return response.response


async def user_event(
    ami: ActionSender, *, name: str, headers: Mapping[str, str] | None = None
) -> AmiResponse:
    """Raise a ``UserEvent`` (echoed to every AMI session, ours included, with our ActionID)."""
    action = [("Action", "UserEvent"), ("UserEvent", name)]
    for key, value in (headers or {}).items():
        action.append((key, value))
    return await ami.send_action(action, as_list=False)


class AmiActions:
    """The same wrappers bound to one connection, positional arguments as in the issue:
    ``actions.queue_add("q1", "PJSIP/1001", member_name="1001")``."""

    def __init__(self, ami: ActionSender) -> None:
        self.ami = ami

    async def queue_add(
        self,
        queue: str,
        interface: str,
        member_name: str | None = None,
        penalty: int | None = None,
        *,
        paused: bool = False,
        state_interface: str | None = None,
        reason: str | None = None,
    ) -> AmiResponse:
        return await queue_add(
            self.ami,
            queue=queue,
            interface=interface,
            member_name=member_name,
            penalty=penalty,
            paused=paused,
            state_interface=state_interface,
            reason=reason,
        )

    async def queue_remove(self, queue: str, interface: str) -> AmiResponse:
        return await queue_remove(self.ami, queue=queue, interface=interface)

    async def queue_pause(
        self, interface: str, paused: bool, queue: str | None = None, reason: str | None = None
    ) -> AmiResponse:
        return await queue_pause(self.ami, interface=interface, paused=paused, queue=queue, reason=reason)

    async def queue_status(self, queue: str | None = None, member: str | None = None) -> AmiResponse:
        return await queue_status(self.ami, queue=queue, member=member)

    async def queue_summary(self, queue: str | None = None) -> AmiResponse:
        return await queue_summary(self.ami, queue=queue)

    async def core_show_channels(self) -> AmiResponse:
        return await core_show_channels(self.ami)

    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        priority: int | str | None = None,
        application: str | None = None,
        data: str | None = None,
        caller_id: str | None = None,
        timeout_ms: int = 30000,
        variables: Mapping[str, str] | None = None,
        account: str | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        async_: bool = True,
    ) -> AmiResponse:
        return await originate(
            self.ami,
            channel=channel,
            context=context,
            exten=exten,
            priority=priority,
            application=application,
            data=data,
            caller_id=caller_id,
            timeout_ms=timeout_ms,
            variables=variables,
            account=account,
            channel_id=channel_id,
            other_channel_id=other_channel_id,
            async_=async_,
        )

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> AmiResponse:
        return await redirect(self.ami, channel=channel, context=context, exten=exten, priority=priority)

    async def hangup(self, channel: str, cause: int | None = None) -> AmiResponse:
        return await hangup(self.ami, channel=channel, cause=cause)

    async def setvar(self, variable: str, value: str, channel: str | None = None) -> AmiResponse:
        return await setvar(self.ami, variable=variable, value=value, channel=channel)

    async def getvar(self, variable: str, channel: str | None = None) -> str | None:
        return await getvar(self.ami, variable=variable, channel=channel)

    async def command(self, command_line: str) -> list[str]:
        return await command(self.ami, command=command_line)

    async def ping(self) -> AmiMessage:
        return await ping(self.ami)

    async def user_event(self, name: str, headers: Mapping[str, str] | None = None) -> AmiResponse:
        return await user_event(self.ami, name=name, headers=headers)
