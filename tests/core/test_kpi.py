"""KPI formulas on hand-computed fixtures, the edges (nothing to divide by), and short abandons."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.callbacks import (
    AttemptOutcome,
    CallbackBook,
    CallbackPolicy,
    CallbackSource,
    MissedCall,
    record_answered_call,
    record_attempt,
    record_missed_call,
)
from routing.kpi import (
    AgentTimeFact,
    CallbackFact,
    CallFact,
    CallOutcome,
    KpiSummary,
    Rating,
    abandon_rate,
    abandoned,
    answered,
    average_handle_time,
    average_speed_of_answer,
    callback_fact,
    callbacks_booked,
    callbacks_on_time,
    occupancy,
    offered,
    satisfaction_rate,
    service_level,
    short_abandoned,
    summarise,
    timed_out,
)

A, AB, TO = CallOutcome.ANSWERED, CallOutcome.ABANDONED, CallOutcome.TIMED_OUT
T0 = datetime(2026, 3, 2, 9, 0, 0)


def icmi_example() -> list[CallFact]:
    """ICMI's worked example: 1000 answered (860 within 20 s), 60 abandoned: 20 within 20 s (10 of them
    within 5 s), 40 after 20 s."""
    return (
        [CallFact(A, 10)] * 860
        + [CallFact(A, 30)] * 140
        + [CallFact(AB, 3)] * 10
        + [CallFact(AB, 12)] * 10
        + [CallFact(AB, 45)] * 40
    )


def test_icmi_service_level_formula_4() -> None:
    calls = icmi_example()
    assert service_level(calls) == pytest.approx(860 / 1040)  # 82.7 %
    assert service_level(calls, short_abandon_seconds=0) == pytest.approx(
        860 / 1040
    )  # early abandons never count


def test_icmi_counts() -> None:
    calls = icmi_example()
    assert (answered(calls), abandoned(calls), short_abandoned(calls), timed_out(calls)) == (1000, 50, 10, 0)
    assert offered(calls) == 1050
    assert abandon_rate(calls) == pytest.approx(50 / 1050)
    assert (abandoned(calls, 0), offered(calls, 0)) == (60, 1060)
    assert abandon_rate(calls, 0) == pytest.approx(60 / 1060)


SMALL = [
    CallFact(A, 5, talk_seconds=240, wrapup_seconds=10, rating=Rating.SATISFIED),
    CallFact(A, 20, talk_seconds=300, wrapup_seconds=10, rating=Rating.FAIRLY_SATISFIED),
    CallFact(A, 35, talk_seconds=120, wrapup_seconds=0, rating=Rating.DISSATISFIED),
    CallFact(AB, 2),  # short abandon
    CallFact(AB, 15),  # abandoned before T: neither way
    CallFact(AB, 40),  # abandoned after T: against
    CallFact(TO, 600),  # queue timeout: against
    CallFact(TO, 0),  # queue full at once: before T, neither way in the service level
]


def test_small_fixture_by_hand() -> None:
    assert offered(SMALL) == 7  # 8 calls minus the short abandon
    assert (answered(SMALL), abandoned(SMALL), short_abandoned(SMALL), timed_out(SMALL)) == (3, 2, 1, 2)
    # within 20 s (inclusive): the 5 s and 20 s answers; denominator 3 answered + 40 s abandon + 600 s timeout
    assert service_level(SMALL) == pytest.approx(2 / 5)
    assert service_level(SMALL, answer_within_seconds=10) == pytest.approx(1 / 6)  # + the 15 s abandon
    assert average_speed_of_answer(SMALL) == pytest.approx((5 + 20 + 35) / 3)
    assert average_handle_time(SMALL) == pytest.approx((250 + 310 + 120) / 3)
    assert abandon_rate(SMALL) == pytest.approx(2 / 7)
    assert satisfaction_rate(SMALL) == pytest.approx(2 / 3)
    assert satisfaction_rate(SMALL, fairly_counts=False) == pytest.approx(1 / 3)


def test_a_caller_who_took_the_callback_offer_is_offered_but_not_abandoned() -> None:
    calls = [*SMALL, CallFact(CallOutcome.CALLBACK, 130), CallFact(CallOutcome.CALLBACK, 10)]
    assert callbacks_booked(calls) == 2
    assert offered(calls) == 9 and abandoned(calls) == 2
    assert abandon_rate(calls) == pytest.approx(2 / 9)  # lower than if they had counted as abandons
    # the 130 s wait missed the 20 s target; the 10 s one (before T) counts neither way
    assert service_level(calls) == pytest.approx(2 / 6)
    assert summarise(calls).callbacks_booked == 2


def test_summary() -> None:
    assert summarise(SMALL) == KpiSummary(
        offered=7,
        answered=3,
        abandoned=2,
        short_abandoned=1,
        timed_out=2,
        service_level=pytest.approx(0.4),  # type: ignore[arg-type]
        average_speed_of_answer=pytest.approx(20.0),  # type: ignore[arg-type]
        average_handle_time=pytest.approx(680 / 3),  # type: ignore[arg-type]
        abandon_rate=pytest.approx(2 / 7),  # type: ignore[arg-type]
        satisfaction_rate=pytest.approx(2 / 3),  # type: ignore[arg-type]
    )


def test_nothing_to_divide_by_gives_none() -> None:
    assert summarise([]) == KpiSummary(0, 0, 0, 0, 0, None, None, None, None, None)
    only_short = [CallFact(AB, 1)]
    assert (service_level(only_short), abandon_rate(only_short), offered(only_short)) == (None, None, 0)
    unrated = [CallFact(A, 3)]
    assert satisfaction_rate(unrated) is None
    assert occupancy([]) is None and occupancy([AgentTimeFact(0, 0)]) is None
    assert callbacks_on_time([], T0) is None


def test_short_abandon_threshold_is_strict() -> None:
    calls = [CallFact(AB, 5), CallFact(AB, 4.99)]
    assert (abandoned(calls), short_abandoned(calls)) == (1, 1)


def test_answered_exactly_at_the_threshold_is_within() -> None:
    assert service_level([CallFact(A, 20), CallFact(A, 20.01)]) == 0.5


def test_occupancy() -> None:
    agents = [AgentTimeFact(handling_seconds=3000, idle_seconds=600), AgentTimeFact(1800, 1800)]
    assert occupancy(agents) == pytest.approx(4800 / 7200)


def test_callbacks_on_time() -> None:
    now = T0 + timedelta(hours=2)
    facts = [
        CallbackFact(T0, T0),  # on time (exactly)
        CallbackFact(T0, T0 + timedelta(seconds=30)),  # late, unless grace ≥ 30
        CallbackFact(T0, None),  # never attempted and overdue: late
        CallbackFact(now + timedelta(minutes=5), None),  # not due yet: not counted
        CallbackFact(T0, None, cancelled=True),  # the caller got through first: not counted
    ]
    assert callbacks_on_time(facts, now) == pytest.approx(1 / 3)
    assert callbacks_on_time(facts, now, grace_seconds=60) == pytest.approx(2 / 3)


def test_callback_facts_from_tasks() -> None:
    policy = CallbackPolicy(delays_seconds=(60, 600), max_attempts=2)
    book = CallbackBook()
    for i, number in enumerate(["13800000001", "13800000002", "13800000003"]):
        book, _ = record_missed_call(book, MissedCall(f"c{i}", number, CallbackSource.ABANDONED, T0), policy)
    book, _ = record_attempt(book, "cb-1", AttemptOutcome.NO_ANSWER, T0 + timedelta(seconds=50), policy)
    book, _ = record_attempt(book, "cb-2", AttemptOutcome.REACHED, T0 + timedelta(seconds=90), policy)
    book, _ = record_answered_call(book, "13800000003", "c9", T0 + timedelta(seconds=30))
    facts = [callback_fact(t) for t in book.tasks]
    assert facts == [
        CallbackFact(T0 + timedelta(seconds=60), T0 + timedelta(seconds=50)),
        CallbackFact(T0 + timedelta(seconds=60), T0 + timedelta(seconds=90)),
        CallbackFact(T0 + timedelta(seconds=60), None, cancelled=True),
    ]
    assert callbacks_on_time(facts, T0 + timedelta(hours=1)) == 0.5


CALLS = st.lists(
    st.builds(
        CallFact,
        st.sampled_from(list(CallOutcome)),
        st.floats(0, 900),
        st.floats(0, 3600),
        st.floats(0, 120),
        st.one_of(st.none(), st.sampled_from(list(Rating))),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(CALLS, st.floats(0, 60), st.floats(0, 10))
def test_rates_are_shares_and_counts_add_up(calls: list[CallFact], t: float, short: float) -> None:
    for value in (
        service_level(calls, t, short),
        abandon_rate(calls, short),
        satisfaction_rate(calls),
    ):
        assert value is None or 0.0 <= value <= 1.0
    assert offered(calls, short) == (
        answered(calls) + abandoned(calls, short) + timed_out(calls) + callbacks_booked(calls)
    )
    assert offered(calls, short) + short_abandoned(calls, short) == len(calls)
    assert (average_speed_of_answer(calls) is None) == (answered(calls) == 0)
