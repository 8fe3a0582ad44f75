"""Transfers to the other public hotlines (110, 12309, 12320, 12348, 12338: the plan's ``external_hotlines``).

- blind: AMI ``Redirect`` of the caller's channel to ``hotline-external,<key>,1`` (the agent's leg ends);
- attended: AMI ``Atxfer`` on the agent's channel to ``hotline-agents,<key>`` — the agent talks to the
  other hotline first and completes the transfer by hanging up.

Every request is recorded in ``call_transfers`` (sent or failed, with Asterisk's error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.ami.actions import AmiActions
from callcenter.ami.connection import AmiError
from callcenter.live.model import LiveModel
from callcenter.transfers.models import CallTransferRow
from routing.plan import HotlinePlan

__all__ = ["TransferMode", "TransferOut", "TransferService", "transfers_of"]

EXTERNAL_CONTEXT = "hotline-external"
AGENTS_CONTEXT = "hotline-agents"


class TransferMode(StrEnum):
    BLIND = "blind"
    ATTENDED = "attended"


class TransferError(Exception):
    pass


class UnknownHotline(TransferError, LookupError):
    def __init__(self, target: str, known: list[str]) -> None:
        super().__init__(f"no external hotline {target!r} (known: {', '.join(known) or 'none'})")


class CallNotLive(TransferError, LookupError):
    def __init__(self, linkedid: str, why: str = "is not up") -> None:
        super().__init__(f"call {linkedid} {why}")


class NoPbx(TransferError):
    pass


class TransferFailed(TransferError):
    pass


@dataclass(frozen=True, slots=True)
class TransferOut:
    id: int
    linkedid: str
    target: str
    mode: str
    channel: str
    requested_by: str | None
    requested_at: datetime
    status: str
    error: str | None


def _out(row: CallTransferRow) -> TransferOut:
    return TransferOut(
        row.id,
        row.linkedid,
        row.target,
        row.mode,
        row.channel,
        row.requested_by,
        row.requested_at,
        row.status,
        row.error,
    )


async def transfers_of(sessions: async_sessionmaker[AsyncSession], linkedid: str) -> list[TransferOut]:
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(CallTransferRow)
                .where(CallTransferRow.linkedid == linkedid)
                .order_by(CallTransferRow.id)
            )
        ).all()
    return [_out(r) for r in rows]


class TransferService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        model: LiveModel,
        plan: Callable[[], HotlinePlan],
        actions: Callable[[], AmiActions | None],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._model = model
        self._plan = plan
        self._actions = actions
        self._clock = clock

    async def transfer(self, linkedid: str, target: str, mode: TransferMode, by: str | None) -> TransferOut:
        """Checks first (known hotline, live call, AMI link), then the AMI action, then the record."""
        plan = self._plan()
        if plan.external_hotline(target) is None:
            raise UnknownHotline(target, [h.key for h in plan.external_hotlines])
        record = self._model.call(linkedid)
        if record is None or record.channel is None:
            raise CallNotLive(linkedid)
        actions = self._actions()
        if actions is None:
            raise NoPbx("no AMI link is configured")
        error: str | None = None
        if mode is TransferMode.BLIND:
            channel = record.channel
            try:
                await actions.redirect(channel, EXTERNAL_CONTEXT, target, 1)
            except AmiError as exc:
                error = str(exc)
        else:
            if record.agent_interface is None:
                raise CallNotLive(linkedid, "has no agent to make an attended transfer")
            channel = await self._agent_channel(actions, linkedid, record.agent_interface)
            try:
                await actions.ami.send_action(
                    [
                        ("Action", "Atxfer"),
                        ("Channel", channel),
                        ("Exten", target),
                        ("Context", AGENTS_CONTEXT),
                    ],
                    as_list=False,
                )
            except AmiError as exc:
                error = str(exc)
        row = CallTransferRow(
            linkedid=linkedid,
            target=target,
            mode=str(mode),
            channel=channel,
            requested_by=by,
            requested_at=self._clock(),
            status="failed" if error else "sent",
            error=error,
        )
        async with self._sessions() as session, session.begin():
            session.add(row)
        if error:
            raise TransferFailed(f"transfer of {linkedid} to {target} failed: {error}")
        return _out(row)

    @staticmethod
    async def _agent_channel(actions: AmiActions, linkedid: str, interface: str) -> str:
        response = await actions.core_show_channels()
        for item in response.events:
            name = item.get("Channel") or ""
            if item.get("Linkedid") == linkedid and name.startswith(interface + "-"):
                return name
        raise CallNotLive(linkedid, f"has no channel of {interface}")
