"""What a waiting caller hears, and the callback offer, on the simulator (issue 9)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from callcenter.callbacks.models import CallbackTaskRow
from pbxsim.events import Event
from pbxsim.scripts import CallerScript, PlacedCall
from routing.plan import HotlinePlan
from tests.caller.rig import caller_rig, events_named
from tests.integration.harness import Rig, eventually, quick_plan

pytestmark = pytest.mark.slow

ANNOUNCE_EVERY = 2
OFFER_AFTER = 3


def waiting_plan() -> HotlinePlan:
    plan = quick_plan()
    queues = tuple(
        replace(q, announce_frequency_seconds=ANNOUNCE_EVERY, callback_offer_after_seconds=OFFER_AFTER)
        if q.name == "zh-psychology"
        else q
        for q in plan.queues
    )
    return replace(plan, queues=queues)


async def _joined(joins: Callable[[], list[Event]], call: PlacedCall) -> Event:
    async def probe() -> Event | None:
        return next((e for e in joins() if e.get("Linkedid") == call.linkedid), None)

    return await eventually(probe, 15, "the caller to join the queue")


async def test_position_and_wait_are_announced_on_joining_and_every_interval(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    async with caller_rig(postgres_url, tmp_path, plan=waiting_plan()) as rig:
        joins = events_named(rig, "QueueCallerJoin")
        first = await rig.sim.place_call(
            CallerScript(number="13800138201", digits=[(0.2, "1"), (0.2, "1")], hangup_after=7.0)
        )
        await _joined(joins, first)
        second = await rig.sim.place_call(
            CallerScript(number="13800138202", digits=[(0.2, "1"), (0.2, "1")], hangup_after=4.5)
        )
        await _joined(joins, second)
        await first.wait_finished(30)
        await second.wait_finished(30)
        loop_joined = {c.linkedid: c.channel.heard[0][0] for c in (first, second)}

        def timeline(call: PlacedCall) -> list[tuple[float, str]]:
            start = loop_joined[call.linkedid]
            return [(round(t - start, 1), what) for t, what in call.channel.heard]

        one = timeline(first)
        # position at once on joining, then every 2 s; the callback offer after 3 s (then every 3 s)
        assert [w for _, w in one if "queue-" in w][:1] == ["zh/queue-youarenext&zh/queue-thankyou"]
        position_times = [t for t, w in one if "queue-youarenext" in w]
        assert position_times[:4] == pytest.approx([0.0, 2.0, 4.0, 6.0], abs=0.3)
        assert [t for t, w in one if w == "zh/callback-offer-key"] == pytest.approx([3.0, 6.0], abs=0.3)
        two = timeline(second)
        assert two[0] == (0.0, "zh/queue-thereare&digits:2&zh/queue-callswaiting&zh/queue-thankyou")
        # once the first caller left, the second is next
        assert "zh/queue-youarenext&zh/queue-thankyou" not in [w for _, w in two if _ < 2.0]


async def test_pressing_1_after_the_offer_books_one_callback_and_leaves_the_queue(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    async with caller_rig(postgres_url, tmp_path, plan=waiting_plan()) as rig:
        joins = events_named(rig, "QueueCallerJoin")
        leaves = events_named(rig, "QueueCallerLeave")
        abandons = events_named(rig, "QueueCallerAbandon")
        user_events = events_named(rig, "UserEvent")
        playbacks = events_named(rig, "Newexten")
        call = await rig.sim.place_call(
            CallerScript(number="13800138203", digits=[(0.2, "1"), (0.2, "1")], hangup_after=30)
        )
        await _joined(joins, call)
        await eventually(
            lambda: _now(True if any("callback-offer-key" in w for _, w in call.channel.heard) else None),
            10,
            "the callback offer",
        )
        call.channel.press("1")
        truth = await call.wait_finished(15)
        assert truth.queue == "zh-psychology" and truth.agent is None
        assert [e.get("Queue") for e in leaves() if e.get("Linkedid") == call.linkedid] == ["zh-psychology"]
        assert not [e for e in abandons() if e.get("Linkedid") == call.linkedid]
        requests = [
            e
            for e in user_events()
            if e.get("UserEvent") == "HotlineCallback" and e.get("Linkedid") == call.linkedid
        ]
        assert [(e.get("Reason"), e.get("Caller"), e.get("Queue")) for e in requests] == [
            ("queue-offer", "13800138203", "zh-psychology")
        ]
        played = [e.get("AppData") for e in playbacks() if e.get("Application") == "Playback"]
        assert "zh/callback-booked" in played
        # the callback seat's book (callcenter/callbacks) holds exactly one task for the caller
        tasks = await eventually(lambda: _tasks(rig, "13800138203"), 10, "the callback task")
        await asyncio.sleep(0)  # nothing else pending for the same call
        row = await rig.finished_call(call.linkedid)
        assert len(await _tasks(rig, "13800138203") or []) == 1 and len(tasks) == 1
        # the call is recorded as left for a callback, not as an abandon
        assert row.disposition == "queue-callback" and row.queue == "zh-psychology"


async def test_an_anonymous_caller_is_asked_to_hold_instead_of_being_offered_a_callback(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    async with caller_rig(postgres_url, tmp_path, plan=waiting_plan()) as rig:
        joins = events_named(rig, "QueueCallerJoin")
        user_events = events_named(rig, "UserEvent")
        call = await rig.sim.place_call(
            CallerScript(number="", digits=[(0.2, "1"), (0.2, "1"), (4.0, "1")], hangup_after=7.0)
        )
        await _joined(joins, call)
        truth = await call.wait_finished(20)
        heard = [what for _, what in call.channel.heard]
        # at 3 s and 6 s: the anonymous variant of the offer (a request to hold), never the offer itself
        assert heard.count("zh_anonymous/callback-offer-key") == 2
        assert "zh/callback-offer-key" not in heard
        # position and wait are still announced, from the caller's own prompt set
        assert "zh/queue-youarenext&zh/queue-thankyou" in heard
        # pressing 1 anyway does not take them out of the queue: still queued when they gave up
        assert truth.disposition == "abandoned"
        assert not [e for e in user_events() if e.get("UserEvent") == "HotlineCallback"]


async def test_a_caller_withholding_the_number_as_anonymous_is_not_offered_a_callback_either(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    # some trunks send the text "anonymous" instead of no number: the IVR tells the dialplan
    async with caller_rig(postgres_url, tmp_path, plan=waiting_plan()) as rig:
        joins = events_named(rig, "QueueCallerJoin")
        call = await rig.sim.place_call(
            CallerScript(number="anonymous", digits=[(0.2, "1"), (0.2, "1")], hangup_after=4.0)
        )
        await _joined(joins, call)
        await call.wait_finished(20)
        heard = [what for _, what in call.channel.heard]
        assert "zh_anonymous/callback-offer-key" in heard and "zh/callback-offer-key" not in heard


async def _now(value: bool | None) -> bool | None:
    return value


async def _tasks(rig: Rig, number: str) -> list[CallbackTaskRow] | None:
    assert rig.hotline.db is not None
    async with rig.hotline.db.sessions() as session:
        rows = list(await session.scalars(select(CallbackTaskRow).where(CallbackTaskRow.number == number)))
    return rows or None
