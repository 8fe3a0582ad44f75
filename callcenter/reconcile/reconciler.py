"""Exactly-once call records across AMI gaps and restarts, from Asterisk's own CDR and queue_log rows.

The live model learns calls from AMI events; while the link is down (or the service restarts) it misses
some. Asterisk keeps writing its CDRs and queue_log to PostgreSQL regardless, so after the gap we finish the
calls from those rows:

- **Ended during the gap**: calls the model knew when the link dropped and that ``CoreShowChannels`` no longer
  lists after reconnecting. They are forgotten by the model (no ``CallEnded`` with a guessed disposition) and
  finished here from their CDR and queue_log rows.
- **Started and ended during the gap** (or while the service was down): a CDR row whose ``linkedid`` has no
  finished row in ``calls``; finished here, at most once (the upsert is keyed by ``linkedid``).
- **Up across the gap**: calls the model knew at the drop that are still up, and calls first learned from
  ``CoreShowChannels``. The model follows them to their end but has missed events in between; their end is
  held here until their CDR is in and then corrected from it (answered, agent, wait, talk, queue).

Every record goes through the call writer (coalesced per ``linkedid``, newest wins) so a reconciled record
is never overwritten by an older live snapshot. ``upsert_calls`` keeps a known field when a later snapshot
has ``None`` for it, so IVR fields learned live (language, menu path) survive a reconciled end.

Without CDR rows (Asterisk not writing them) nothing is lost either: a held end is written as the model saw
it after ``hold_timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.ami import actions
from callcenter.ami.actions import ActionSender
from callcenter.db.models import Call
from callcenter.live.feed import LiveFeed
from callcenter.reconcile.models import Cdr, QueueLog
from callcenter.records import CallRecord, Disposition

__all__ = ["Reconciler", "record_from_asterisk"]

log = logging.getLogger(__name__)

_GAVE_UP = {"EXITWITHTIMEOUT", "EXITEMPTY"}
_COMPLETE = {"COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}


class RecordSink(Protocol):
    def submit(self, record: CallRecord) -> None: ...


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _clid_name(clid: str | None) -> str | None:
    if clid and clid.startswith('"') and '"' in clid[1:]:
        name = clid[1 : clid.index('"', 1)]
        return name or None
    return None


def record_from_asterisk(cdr: Cdr, queue_log: Sequence[QueueLog]) -> CallRecord:
    """A finished call record from the caller leg's CDR and the call's queue_log rows (time order).

    Only what Asterisk's records say: the IVR's language and menu path as the dialplan stored them in the
    CDR (``hotline_language``, ``hotline_menu_path``), the priority stays ``None`` for the upsert to keep
    what the live model learned."""
    linkedid = cdr.linkedid or cdr.uniqueid or ""
    rec = CallRecord(
        linkedid=linkedid,
        uniqueid=cdr.uniqueid or linkedid,
        channel=cdr.channel,
        caller_number=cdr.src or None,
        caller_name=_clid_name(cdr.clid),
        dialled_number=cdr.dst or None,
        arrived_at=cdr.start,
        ended_at=cdr.end,
        language=cdr.hotline_language or None,
        menu_path=cdr.hotline_menu_path or None,
    )
    queued = answered = gave_up = abandoned = took_offer = False
    for row in queue_log:
        event = (row.event or "").upper()
        if row.queuename and row.queuename != "NONE":
            rec.queue = row.queuename
        if event == "ENTERQUEUE":
            queued, abandoned, gave_up, took_offer = True, False, False, False
            rec.queue_joined_at = row.time
            rec.ivr_ended_at = rec.ivr_ended_at or row.time
        elif event == "CONNECT":
            queued = answered = True
            rec.answered_at = row.time
            rec.agent = row.agent if row.agent and row.agent != "NONE" else None
            rec.wait_seconds = _float(row.data1)
        elif event in _COMPLETE:
            rec.talk_seconds = _float(row.data2)
        elif event == "ABANDON":
            queued = abandoned = True
            rec.wait_seconds = _float(row.data3)
        elif event == "EXITWITHKEY":
            # the caller left by a key: the queues' only exit key is the callback offer's 1
            # ([hotline-queue-exit], callcenter/config/render.py)
            queued = took_offer = True
            rec.wait_seconds = _float(row.data4)
        elif event in _GAVE_UP:
            gave_up = True
            if row.data3:
                rec.wait_seconds = _float(row.data3)
    if answered:
        rec.disposition = Disposition.ANSWERED
        if rec.talk_seconds is None and rec.answered_at is not None and rec.ended_at is not None:
            rec.talk_seconds = max(0.0, (rec.ended_at - rec.answered_at).total_seconds())
    elif gave_up:
        rec.disposition = Disposition.QUEUE_TIMEOUT
    elif took_offer:
        rec.disposition = Disposition.QUEUE_CALLBACK
    elif queued or abandoned:
        rec.disposition = Disposition.ABANDONED
    elif cdr.userfield in ("out-of-hours", "blocked"):
        rec.disposition = Disposition(cdr.userfield)
    elif (cdr.dcontext or "").startswith("hotline") or cdr.lastapp in ("AGI", "Playback", "Hangup"):
        rec.disposition = Disposition.IVR_HANGUP
    elif (cdr.disposition or "").upper() == "ANSWERED" and cdr.dstchannel:
        rec.disposition = Disposition.ANSWERED
        rec.answered_at = cdr.answer
        rec.agent = cdr.dstchannel.split("-")[0]
    else:
        rec.disposition = Disposition.UNANSWERED
    return rec


def _merge(live: CallRecord, asterisk: CallRecord) -> CallRecord:
    """The live record corrected by Asterisk's: what Asterisk knows wins, the IVR's fields the live model
    saw stay (the CDR's copy only fills what it missed)."""
    merged = replace(live, attempts=list(live.attempts))
    for name in (
        "channel",
        "caller_number",
        "caller_name",
        "dialled_number",
        "queue",
        "arrived_at",
        "queue_joined_at",
        "answered_at",
        "ended_at",
        "wait_seconds",
        "talk_seconds",
        "agent",
    ):
        value = getattr(asterisk, name)
        if value is not None:
            setattr(merged, name, value)
    for name in ("language", "menu_path"):  # the IVR's: what the live model saw wins, the CDR fills gaps
        if getattr(merged, name) is None:
            setattr(merged, name, getattr(asterisk, name))
    merged.disposition = asterisk.disposition
    if asterisk.disposition is not Disposition.ANSWERED:
        merged.agent = None
        merged.answered_at = None
        merged.talk_seconds = None
    return merged


@dataclass
class _Held:
    record: CallRecord
    since: float


@dataclass
class ReconcileStats:
    passes: int = 0
    reconciled: int = 0  # records finished or corrected from CDR/queue_log
    held_timeouts: int = 0  # held ends written as the model saw them (no CDR came)
    gaps: int = 0
    last_error: str | None = None
    recent: list[str] = field(default_factory=list)


class Reconciler:
    """Owned by :class:`~callcenter.app.Hotline`: told about link drops, rebuilds and call ends."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sink: RecordSink,
        *,
        interval: float = 1.0,
        grace: float = 1.0,
        hold_timeout: float = 30.0,
        lookback: float = 6 * 3600.0,
        clock: Callable[[], float] = time.time,
        busy: Callable[[str], bool] = lambda _lid: False,
    ) -> None:
        self._sessions = sessions
        self._sink = sink
        self._interval = interval
        self._grace = grace
        self._hold_timeout = hold_timeout
        self._lookback = lookback
        self._clock = clock
        self._busy = busy  # the model still follows it, or the writer still holds a snapshot of it
        self._suspect: set[str] = set()  # calls up across a gap: their end is held for CDR correction
        self._held: dict[str, _Held] = {}
        self._gone: dict[str, _Held] = {}  # ended during a gap: finished from CDR only
        self._connected_once = False
        self._down_since: float | None = None
        self._wake = asyncio.Event()
        self.stats = ReconcileStats()

    # -- what the composition root tells us --------------------------------------------------------------
    def link_lost(self, live_calls: Iterable[CallRecord]) -> None:
        """The AMI link dropped: every call the model follows may miss events from now on."""
        self.stats.gaps += 1
        if self._down_since is None:
            self._down_since = self._clock()
        for rec in live_calls:
            self._suspect.add(rec.linkedid)

    async def rebuild(self, ami: ActionSender, feed: LiveFeed) -> int:
        """After (re)connecting: CoreShowChannels + QueueStatus into the model, then settle the gap."""
        before = {rec.linkedid: rec for rec in feed.model.calls()}
        listed: set[str] = set()
        count = 0
        channels = await actions.core_show_channels(ami)
        for item in channels.events:
            lid = item.get("Linkedid") or item.get("Uniqueid")
            if lid:
                listed.add(lid)
            feed.on_message(item)
            count += 1
        # Learned mid-call: events before now were missed. Marked before the next await, so that a call
        # ending while QueueStatus is on its way is held for its CDR too, not written as half seen.
        for lid in listed - before.keys():
            self._suspect.add(lid)
        for item in (await actions.queue_status(ami)).events:
            feed.on_message(item)
            count += 1
        if self._connected_once or before:
            for lid, rec in before.items():
                if lid in self._suspect and lid not in listed and feed.model.call(lid) is not None:
                    # It ended while we were away: forget it without a guessed disposition.
                    feed.model.discard(lid)
                    self._gone[lid] = _Held(rec, self._clock())
        self._connected_once = True
        self._down_since = None
        self._wake.set()
        return count

    def is_suspect(self, linkedid: str) -> bool:
        return linkedid in self._suspect

    def hold(self, record: CallRecord) -> None:
        """A suspect call ended in the model: keep its end until Asterisk's records can correct it."""
        self._held[record.linkedid] = _Held(record, self._clock())
        self._wake.set()

    @property
    def backlog(self) -> int:
        return len(self._held) + len(self._gone)

    # -- the owned task ---------------------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that races the wake-up.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.reconcile_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away: try again next pass
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("reconciliation pass failed: %s", self.stats.last_error)

    async def reconcile_once(self) -> int:
        """One pass; the number of records finished or corrected."""
        self.stats.passes += 1
        now = self._clock()
        cutoff = datetime.fromtimestamp(now - self._grace, UTC)
        since = datetime.fromtimestamp(now - self._lookback, UTC)
        wanted = set(self._held) | set(self._gone)
        async with self._sessions() as session:
            # CDRs of calls with no finished row, plus those of calls we hold.
            stmt = (
                select(Cdr)
                .outerjoin(Call, Call.linkedid == Cdr.linkedid)
                .where(
                    Cdr.end <= cutoff,
                    Cdr.uniqueid == Cdr.linkedid,
                    or_(
                        and_(Cdr.end >= since, or_(Call.id.is_(None), Call.disposition.is_(None))),
                        Cdr.linkedid.in_(wanted) if wanted else false(),
                    ),
                )
                .order_by(Cdr.id)
                .limit(2000)
            )
            cdrs = list((await session.scalars(stmt)).all())
            lids = [c.linkedid for c in cdrs if c.linkedid]
            rows: dict[str, list[QueueLog]] = {}
            if lids:
                qstmt = select(QueueLog).where(QueueLog.callid.in_(lids)).order_by(QueueLog.time, QueueLog.id)
                for row in (await session.scalars(qstmt)).all():
                    rows.setdefault(row.callid or "", []).append(row)
        done = 0
        for cdr in cdrs:
            lid = cdr.linkedid or ""
            if lid not in wanted and self._busy(lid):
                continue  # the live path has it (or is still writing it)
            asterisk = record_from_asterisk(cdr, rows.get(lid, []))
            held = self._held.pop(lid, None)
            gone = self._gone.pop(lid, None)
            base = held.record if held is not None else (gone.record if gone is not None else None)
            record = _merge(base, asterisk) if base is not None else asterisk
            self._suspect.discard(lid)
            self._sink.submit(record)
            done += 1
            self._note(lid)
        for lid, held in list(self._held.items()):
            if now - held.since >= self._hold_timeout:
                del self._held[lid]
                self._suspect.discard(lid)
                self._sink.submit(held.record)
                self.stats.held_timeouts += 1
        for lid, gone in list(self._gone.items()):
            if now - gone.since >= self._hold_timeout:
                del self._gone[lid]
                self._suspect.discard(lid)
                log.warning("call %s ended during an AMI gap and Asterisk wrote no CDR for it", lid)
        self.stats.reconciled += done
        if done:
            log.info("reconciled %d call(s) from Asterisk's CDR and queue_log", done)
        return done

    def _note(self, lid: str) -> None:
        self.stats.recent.append(lid)
        if len(self.stats.recent) > 100:
            del self.stats.recent[:50]
