"""Out of hours, blocked numbers, repeat and anonymous callers on the simulator (issue 9)."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest
from sqlalchemy import select

from callcenter.auth.roles import Principal, Role
from callcenter.blocks.models import ScreeningLog, VoiceMessage
from pbxsim.events import Event
from pbxsim.scripts import CallerScript
from routing.plan import HotlinePlan, Schedule
from tests.caller.rig import caller_rig, events_named
from tests.integration.harness import Rig, eventually, quick_plan

pytestmark = pytest.mark.slow


def closed_plan() -> HotlinePlan:
    """Every line closed at every moment but the crisis line (7x24)."""
    plan = quick_plan()
    hours = replace(
        plan.hours,
        schedules=(Schedule("closed"),),
        default_schedule="closed",
        service_lines=MappingProxyType({"crisis": "24x7"}),
    )
    return replace(plan, hours=hours)


async def _voice_messages(rig: Rig, linkedid: str) -> list[VoiceMessage]:
    assert rig.hotline.db is not None
    async with rig.hotline.db.sessions() as session:
        return list(await session.scalars(select(VoiceMessage).where(VoiceMessage.linkedid == linkedid)))


async def _log(rig: Rig, event: str) -> list[ScreeningLog]:
    assert rig.hotline.db is not None
    async with rig.hotline.db.sessions() as session:
        rows = await session.scalars(select(ScreeningLog).where(ScreeningLog.event == event))
        return list(rows)


async def _at_least(rows: Awaitable[list[ScreeningLog]], n: int) -> list[ScreeningLog] | None:
    found = await rows
    return found if len(found) >= n else None


def _callbacks(events: list[Event], linkedid: str) -> list[Event]:
    return [e for e in events if e.get("UserEvent") == "HotlineCallback" and e.get("Linkedid") == linkedid]


@pytest.mark.parametrize(("language_key", "prompt_set"), [("1", "zh"), ("2", "mn")])
async def test_out_of_hours_caller_hears_the_hours_and_leaves_a_message(
    postgres_url: str, database: object, tmp_path: Path, language_key: str, prompt_set: str
) -> None:
    async with caller_rig(postgres_url, tmp_path, plan=closed_plan()) as rig:
        heard = rig.prompts_heard()
        user_events = events_named(rig, "UserEvent")
        joins = events_named(rig, "QueueCallerJoin")
        call = await rig.sim.place_call(
            CallerScript(
                number="13800138100",
                digits=[(0.2, language_key), (0.2, "1"), (0.4, "2"), (0.5, "#")],
            )
        )
        await call.wait_finished(30)
        row = await rig.finished_call(call.linkedid)
        assert row.disposition == "out-of-hours"
        assert heard(call.linkedid)[-5:] == [
            f"{prompt_set}/choose-service",
            f"{prompt_set}/closed",
            f"{prompt_set}/out-of-hours-options",
            f"{prompt_set}/leave-message",
            f"{prompt_set}/message-recorded",
        ]
        assert call.channel.recorded == [f"hotline-messages/{call.linkedid}.wav"]
        messages = await _voice_messages(rig, call.linkedid)
        assert [(m.path, m.language, m.number) for m in messages] == [
            (f"hotline-messages/{call.linkedid}", prompt_set, "13800138100")
        ]
        assert messages[0].duration_ms is not None and messages[0].duration_ms > 0
        # the message is linked to a callback request of the same call (the callback service's contract)
        requests = _callbacks(user_events(), call.linkedid)
        assert [e.get("Reason") for e in requests] == ["message"]
        assert not joins()


async def test_out_of_hours_callback_request_and_the_crisis_route(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    async with caller_rig(postgres_url, tmp_path, plan=closed_plan()) as rig:
        await rig.log_in("1001")
        heard = rig.prompts_heard()
        user_events = events_named(rig, "UserEvent")
        asks = await rig.sim.place_call(
            CallerScript(number="13800138101", digits=[(0.2, "2"), (0.2, "1"), (0.4, "1")])
        )
        await asks.wait_finished(30)
        assert (await rig.finished_call(asks.linkedid)).disposition == "out-of-hours"
        assert heard(asks.linkedid)[-1] == "mn/callback-booked"
        assert [e.get("Reason") for e in _callbacks(user_events(), asks.linkedid)] == ["out-of-hours"]

        crisis = await rig.sim.place_call(
            CallerScript(number="13800138102", digits=[(0.2, "1"), (0.2, "1"), (0.4, "0")])
        )
        truth = await crisis.wait_finished(30)
        row = await rig.finished_call(crisis.linkedid)
        assert (truth.agent, row.queue, row.disposition) == ("1001", "zh-crisis", "answered")


async def test_an_anonymous_caller_is_never_offered_a_callback(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    async with caller_rig(postgres_url, tmp_path, plan=closed_plan()) as rig:
        heard = rig.prompts_heard()
        user_events = events_named(rig, "UserEvent")
        call = await rig.sim.place_call(CallerScript(number="", digits=[(0.2, "1"), (0.2, "1"), (0.4, "1")]))
        await call.wait_finished(30)
        row = await rig.finished_call(call.linkedid)
        assert row.disposition == "out-of-hours"
        assert "zh/out-of-hours-options-anonymous" in heard(call.linkedid)
        assert "zh/out-of-hours-options" not in heard(call.linkedid)
        assert "zh/callback-booked" not in heard(call.linkedid)
        assert not _callbacks(user_events(), call.linkedid)


async def test_an_anonymous_caller_choosing_callback_in_the_menu_is_queued_instead(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    async with caller_rig(postgres_url, tmp_path) as rig:
        await rig.log_in("1001")
        user_events = events_named(rig, "UserEvent")
        # 1 Mandarin, 6 more services, 1 "book a callback"
        call = await rig.sim.place_call(CallerScript(number="", digits=[(0.2, "1"), (0.2, "6"), (0.2, "1")]))
        truth = await call.wait_finished(30)
        row = await rig.finished_call(call.linkedid)
        assert truth.agent == "1001" and row.disposition == "answered"
        assert not _callbacks(user_events(), call.linkedid)


async def test_blocked_numbers_never_reach_a_queue(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    plan = replace(quick_plan(), repeat_calls=0)
    async with caller_rig(postgres_url, tmp_path, plan=plan) as rig:
        await rig.log_in("1001")
        assert rig.hotline.screen is not None
        joins = events_named(rig, "QueueCallerJoin")
        heard = rig.prompts_heard()
        # in the YAML's list: refused by the dialplan before Answer (even with the service down)
        listed = await rig.sim.place_call(CallerScript(number="+8617000000000", digits=[(0.2, "1")]))
        await listed.wait_finished(30)
        assert (await rig.finished_call(listed.linkedid)).disposition == "blocked"
        # blocked from the panel: refused by the IVR, with the reason logged
        await rig.hotline.screen.block("13900000001", "骚扰电话", None, "supervisor1")
        panel = await rig.sim.place_call(CallerScript(number="13900000001", digits=[(0.2, "1"), (0.2, "1")]))
        await panel.wait_finished(30)
        assert (await rig.finished_call(panel.linkedid)).disposition == "blocked"
        assert heard(panel.linkedid) == ["zh/blocked"]
        assert not joins()
        rejected = await eventually(lambda: _at_least(_log(rig, "rejected"), 2), 10, "the rejections")
        assert sorted((r.number, r.source, r.reason, r.linkedid) for r in rejected) == sorted(
            [
                ("17000000000", "yaml", "blocked_numbers", listed.linkedid),
                ("13900000001", "panel", "骚扰电话", panel.linkedid),
            ]
        )
        assert [(r.number, r.actor) for r in await _log(rig, "block")] == [("13900000001", "supervisor1")]


async def test_a_number_calling_too_often_is_flagged_to_supervisors(
    postgres_url: str, database: object, tmp_path: Path
) -> None:
    plan = replace(quick_plan(), repeat_calls=2, repeat_minutes=10)
    async with caller_rig(postgres_url, tmp_path, plan=plan) as rig:
        supervisor = Principal(1, "sup", "Sup", frozenset({Role.SUPERVISOR}))
        agent = Principal(2, "agent", "Agent", frozenset({Role.AGENT}))
        sub = rig.hotline.hub.subscribe(supervisor, frozenset({"repeat-caller"}))
        agent_sub = rig.hotline.hub.subscribe(agent, frozenset({"repeat-caller"}))
        linkedids = []
        for _ in range(3):
            call = await rig.sim.place_call(CallerScript(number="13800138199", hangup_after=0.3))
            await call.wait_finished(30)
            linkedids.append(call.linkedid)
        flags = await _log(rig, "repeat-caller")
        assert [(f.number, f.linkedid) for f in flags] == [("13800138199", linkedids[2])]
        message = json.loads(sub.queue.get_nowait())
        assert message["topic"] == "repeat-caller"
        assert message["data"]["number"] == "13800138199" and message["data"]["calls"] == 3
        assert agent_sub.queue.empty()
