"""Overflow seats: Erlang C, every opening trigger, cooldown, sustained-low closing, minimum open time,
closing after the call, supervisor overrides, limits, and no flapping (property tests)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.overflow import (
    CloseSeat,
    OpenSeat,
    OverflowDecision,
    OverflowMemory,
    OverflowOutcome,
    OverflowPolicy,
    OverrideAction,
    PolicyError,
    QueueLoad,
    Seat,
    SeatOverride,
    decide,
    erlang_c,
    predicted_service_level,
    seats_for_service_level,
)

T0 = datetime(2026, 3, 2, 9, 0, 0)
POLICY = OverflowPolicy()
WINDOW = 1800.0  # arrivals counted over the last 30 minutes


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def seats(open_overflow: int = 0, opened_at: datetime | None = None) -> list[Seat]:
    base = [Seat(f"20{i:02}", base=True, open=True) for i in range(1, 9)]
    extra = [
        Seat(f"20{i:02}", base=False, open=i - 8 <= open_overflow, opened_at=opened_at)
        if i - 8 <= open_overflow
        else Seat(f"20{i:02}", base=False, open=False)
        for i in range(9, 21)
    ]
    return base + extra


def load(waiting: int = 0, longest: float = 0.0, arrivals: int = 0) -> tuple[QueueLoad, ...]:
    return (QueueLoad("zh-psychology", waiting, longest, arrivals, WINDOW),)


def run(
    seat_list: list[Seat],
    loads: tuple[QueueLoad, ...],
    now: datetime,
    memory: OverflowMemory | None = None,
    **kwargs: object,
) -> OverflowOutcome:
    return decide(POLICY, loads, seat_list, memory or OverflowMemory(), now, **kwargs)  # type: ignore[arg-type]


def apply_decisions(
    seat_list: list[Seat], decisions: tuple[OverflowDecision, ...], now: datetime
) -> list[Seat]:
    """What the adapter does: open, mark closing, or close."""
    by_ext = {s.extension: s for s in seat_list}
    for d in decisions:
        seat = by_ext[d.extension]
        if isinstance(d, OpenSeat):
            by_ext[d.extension] = replace(
                seat, open=True, closing=False, opened_at=seat.opened_at if seat.open else now
            )
        elif d.after_call:
            by_ext[d.extension] = replace(seat, closing=True)
        else:
            by_ext[d.extension] = replace(seat, open=False, closing=False, opened_at=None, busy=False)
    return [by_ext[s.extension] for s in seat_list]


# -------------------------------------------------------------------------------------------- Erlang C


def erlang_c_by_factorials(a: float, n: int) -> float:
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def test_erlang_c_hand_computed() -> None:
    # A = 2 Erlangs, N = 3: B(3) = 4/19, C = 3·(4/19) / (3 − 2·15/19) = 4/9.
    assert erlang_c(2.0, 3) == pytest.approx(4 / 9)


@pytest.mark.parametrize(("a", "n"), [(0.5, 1), (2.0, 3), (7.5, 8), (10.0, 13), (16.4, 20), (3.3, 12)])
def test_erlang_c_matches_the_factorial_formula(a: float, n: int) -> None:
    assert erlang_c(a, n) == pytest.approx(erlang_c_by_factorials(a, n))


def test_erlang_c_edges() -> None:
    assert erlang_c(0.0, 0) == 0.0
    assert erlang_c(3.0, 3) == 1.0  # N ≤ A: every caller waits, the queue grows
    assert erlang_c(3.0, 2) == 1.0


def test_service_level_hand_computed() -> None:
    # λ = 1/150 per s, AHT 300 s → A = 2; N = 3; t = 20 s: SL = 1 − 4/9 · e^(−1·20/300)
    sl = predicted_service_level(1 / 150, 300, 3, 20)
    assert sl == pytest.approx(1 - 4 / 9 * math.exp(-20 / 300))
    assert sl == pytest.approx(0.58422, abs=1e-5)  # e^(−1/15) = 0.935507


def test_service_level_edges() -> None:
    assert predicted_service_level(0.0, 300, 0, 20) == 1.0  # no traffic
    assert predicted_service_level(0.01, 300, 3, 20) == 0.0  # A = 3 = N
    assert predicted_service_level(0.01, 300, 8, 0) == pytest.approx(1 - erlang_c(3.0, 8))


def test_seats_for_service_level_reference_figures() -> None:
    """The seeds: 820 calls in 12 h, ~4.2 min talk + ~48 s wrap-up."""
    rate = 820 / (12 * 3600)
    needed = seats_for_service_level(rate, 300, 0.8, 20)
    assert needed == 9
    assert predicted_service_level(rate, 300, 8, 20) < 0.8 <= predicted_service_level(rate, 300, 9, 20)
    assert seats_for_service_level(rate, 300, 0.8, 20, at_least=12) == 12
    assert seats_for_service_level(1.0, 300, 0.8, 20, at_most=20) is None


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 0.2), st.floats(30, 900), st.integers(0, 40), st.floats(0, 120))
def test_more_seats_never_lower_the_service_level(rate: float, aht: float, n: int, t: float) -> None:
    low = predicted_service_level(rate, aht, n, t)
    high = predicted_service_level(rate, aht, n + 1, t)
    assert 0.0 <= low <= high + 1e-12 <= 1.0 + 1e-12


# ------------------------------------------------------------------------------------------- opening


def opened(outcome: OverflowOutcome) -> list[str]:
    return [d.extension for d in outcome.decisions if isinstance(d, OpenSeat)]


def closed(outcome: OverflowOutcome) -> list[CloseSeat]:
    return [d for d in outcome.decisions if isinstance(d, CloseSeat)]


def test_quiet_hotline_keeps_the_base_seats() -> None:
    outcome = run(seats(), load(0, 0, 10), at(0))
    assert outcome.decisions == ()
    assert (outcome.active_seats, outcome.wanted_seats) == (8, 8)
    assert outcome.memory == OverflowMemory(low_since=at(0), last_open_at=None)
    assert outcome.predicted_service_level > 0.99


@pytest.mark.parametrize(("waiting", "expected"), [(2, 0), (3, 1), (4, 1), (5, 2), (6, 2), (7, 3), (40, 12)])
def test_waiting_callers_staircase(waiting: int, expected: int) -> None:
    outcome = run(seats(), load(waiting), at(0))
    assert opened(outcome) == [f"20{i:02}" for i in range(9, 9 + expected)]
    assert outcome.active_seats == 8 + expected
    if expected:
        assert all(d.reason == f"{waiting} callers waiting (opens at 3)" for d in outcome.decisions)
        assert outcome.memory.last_open_at == at(0)


@pytest.mark.parametrize(("longest", "expected"), [(59.9, 0), (60, 1), (89, 1), (90, 2), (150, 4)])
def test_longest_wait_staircase(longest: float, expected: int) -> None:
    outcome = run(seats(), load(1, longest), at(0))
    assert len(opened(outcome)) == expected
    if expected:
        assert f"longest wait {longest:.0f} s (opens at 60 s)" in outcome.decisions[0].reason


def test_predicted_service_level_opens_enough_seats_at_once() -> None:
    # 70 calls in the last 30 min at AHT 300 s → A = 11.7 Erlangs: 8 seats cannot carry it.
    outcome = run(seats(), load(0, 0, 70), at(0))
    expected = seats_for_service_level(70 / WINDOW, 300, 0.8, 20)
    assert expected is not None and 8 < expected <= 20
    assert outcome.active_seats == expected == outcome.wanted_seats
    assert "predicted service level 0% with 8 seats (target 80% within 20 s)" in outcome.decisions[0].reason


def test_never_more_than_the_maximum() -> None:
    outcome = run(seats(), load(100, 900, 1000), at(0))
    assert outcome.active_seats == 20 and outcome.wanted_seats == 20
    assert len(opened(outcome)) == 12
    assert run(seats(open_overflow=12), load(100, 900, 1000), at(0)).decisions == ()


def test_measured_aht_replaces_the_policys() -> None:
    # 50 calls / 30 min: at AHT 300 s that is 8.3 Erlangs (more than 8 seats), at 60 s it is 1.7.
    assert run(seats(), load(0, 0, 50), at(0)).active_seats > 8
    assert run(seats(), load(0, 0, 50), at(0), aht_seconds=60.0).decisions == ()
    assert run(seats(), load(0, 0, 50), at(0), aht_seconds=0.0).active_seats > 8  # nonsense ignored


def test_loads_of_all_queues_add_up() -> None:
    loads = (QueueLoad("zh-psychology", 2, 10, 0, WINDOW), QueueLoad("mn-legal", 1, 70, 0, 0.0))
    outcome = decide(POLICY, loads, seats(), OverflowMemory(), at(0))
    assert outcome.decisions[0].reason == "3 callers waiting (opens at 3); longest wait 70 s (opens at 60 s)"


def test_open_cooldown() -> None:
    first = run(seats(), load(3), at(0))
    seat_list = apply_decisions(seats(), first.decisions, at(0))
    assert run(seat_list, load(9), at(29), first.memory).decisions == ()
    later = run(seat_list, load(9), at(30), first.memory)
    assert len(opened(later)) == 3  # 9 waiting want 4 overflow seats; one is already open


def test_closed_seats_open_in_the_given_order() -> None:
    seat_list = seats()
    reordered = seat_list[:8] + list(reversed(seat_list[8:]))
    assert opened(run(reordered, load(3), at(0))) == ["2020"]


# ------------------------------------------------------------------------------------------- closing


def settle(
    seat_list: list[Seat],
    loads: tuple[QueueLoad, ...],
    start: float,
    end: float,
    *,
    step: float = 10.0,
    memory: OverflowMemory | None = None,
    **kwargs: object,
) -> tuple[list[Seat], OverflowMemory, list[OverflowDecision]]:
    memory = memory or OverflowMemory()
    log: list[OverflowDecision] = []
    t = start
    while t <= end:
        outcome = run(seat_list, loads, at(t), memory, **kwargs)
        seat_list = apply_decisions(seat_list, outcome.decisions, at(t))
        memory = outcome.memory
        log.extend(outcome.decisions)
        t += step
    return seat_list, memory, log


def test_sustained_low_load_closes_one_seat_per_period_after_the_minimum_open_time() -> None:
    seat_list = seats(open_overflow=2, opened_at=at(0))
    # Low from t=0, but the seats opened at 0 must stay 600 s.
    seat_list, memory, log = settle(seat_list, load(), 0, 599)
    assert log == []
    seat_list, memory, log = settle(seat_list, load(), 600, 600, memory=memory)
    assert [(d.extension, d.after_call) for d in closed_decisions(log)] == [("2009", False)]
    assert log[0].reason.startswith("low load for 600 s: 0 waiting, longest wait 0 s; 9 seats are enough")
    seat_list, memory, log = settle(seat_list, load(), 610, 899, memory=memory)
    assert log == []  # the next seat needs another 300 s
    seat_list, memory, log = settle(seat_list, load(), 900, 2000, memory=memory)
    assert [d.extension for d in closed_decisions(log)] == ["2010"]  # and never below the base
    assert sum(s.open for s in seat_list) == 8


def closed_decisions(log: list[OverflowDecision]) -> list[CloseSeat]:
    return [d for d in log if isinstance(d, CloseSeat)]


def test_a_busy_seat_closes_after_its_call() -> None:
    seat_list = [replace(s, busy=not s.base) for s in seats(open_overflow=1, opened_at=at(0))]
    outcome = run(seat_list, load(), at(1000), OverflowMemory(low_since=at(0)))
    assert closed(outcome) == [CloseSeat("2009", closed(outcome)[0].reason, after_call=True)]
    assert outcome.active_seats == 8
    seat_list = apply_decisions(seat_list, outcome.decisions, at(1000))
    still_busy = run(seat_list, load(), at(1010), outcome.memory)
    assert still_busy.decisions == ()
    seat_list = [replace(s, busy=False) for s in seat_list]
    done = run(seat_list, load(), at(1020), outcome.memory)
    assert done.decisions == (CloseSeat("2009", "call over: closing as decided"),)


def test_an_idle_seat_closes_before_a_busy_one_and_the_longest_open_first() -> None:
    seat_list = seats(open_overflow=3, opened_at=at(0))
    seat_list[8] = replace(seat_list[8], busy=True)  # 2009
    seat_list[10] = replace(seat_list[10], opened_at=at(-100))  # 2011 open longer than 2010
    outcome = run(seat_list, load(), at(1000), OverflowMemory(low_since=at(0)))
    assert [d.extension for d in closed(outcome)] == ["2011"]


def test_an_overflow_seat_closes_before_a_base_seat_even_if_it_must_wait() -> None:
    seat_list = seats(open_overflow=1, opened_at=at(900))  # too young to close
    assert run(seat_list, load(), at(1000), OverflowMemory(low_since=at(0))).decisions == ()


def test_the_policy_never_closes_a_base_seat() -> None:
    seat_list = [*seats(), Seat("2021", base=True, open=True)]  # nine base seats listed, eight required
    assert run(seat_list, load(), at(1000), OverflowMemory(low_since=at(0))).decisions == ()


def test_load_that_is_not_low_resets_the_clock() -> None:
    seat_list = seats(open_overflow=1, opened_at=at(-1000))
    memory = OverflowMemory(low_since=at(0))
    bump = run(seat_list, load(1), at(200), memory)  # one caller waiting: not low
    assert bump.decisions == () and bump.memory.low_since is None
    again = run(seat_list, load(), at(210), bump.memory)
    assert again.memory.low_since == at(210)
    assert run(seat_list, load(), at(509), again.memory).decisions == ()
    assert closed(run(seat_list, load(), at(510), again.memory))


@pytest.mark.parametrize(
    ("loads", "kwargs"),
    [
        (load(0, 11), {}),  # a caller waited too long a moment ago
        (load(0, 0, 45), {}),  # one seat fewer would predict a poor service level
        (load(), {"recent_service_level": 0.7}),  # the measured service level is below target
    ],
)
def test_what_blocks_closing(loads: tuple[QueueLoad, ...], kwargs: dict[str, object]) -> None:
    seat_list = seats(open_overflow=4, opened_at=at(-1000))
    outcome = run(seat_list, loads, at(1000), OverflowMemory(low_since=at(0)), **kwargs)
    assert closed(outcome) == [] and outcome.memory.low_since is None


def test_a_good_measured_service_level_does_not_block() -> None:
    seat_list = seats(open_overflow=1, opened_at=at(-1000))
    outcome = run(seat_list, load(), at(1000), OverflowMemory(low_since=at(0)), recent_service_level=0.95)
    assert closed(outcome)


# -------------------------------------------------------------------------------------------- overrides


def test_supervisor_opens_a_seat_and_the_policy_never_closes_it() -> None:
    force = (SeatOverride("2015", OverrideAction.OPEN, "sup-zhao"),)
    outcome = run(seats(), load(), at(0), overrides=force)
    assert outcome.decisions == (OpenSeat("2015", "opened by supervisor sup-zhao"),)
    seat_list = apply_decisions(seats(), outcome.decisions, at(0))
    seat_list, _, log = settle(seat_list, load(), 10, 3000, step=50, overrides=force)
    assert log == [] and next(s for s in seat_list if s.extension == "2015").open
    # Released: the policy may close it (it has been open long enough and load is low).
    seat_list, _, log = settle(seat_list, load(), 3050, 3400, step=50)
    assert [d.extension for d in closed_decisions(log)] == ["2015"]


def test_supervisor_closes_a_busy_seat_after_its_call_and_load_cannot_reopen_it() -> None:
    seat_list = seats(open_overflow=1, opened_at=at(0))
    seat_list[8] = replace(seat_list[8], busy=True)
    force = (SeatOverride("2009", OverrideAction.CLOSE, "sup-zhao"),)
    outcome = run(seat_list, load(3), at(10), overrides=force)
    assert outcome.decisions[0] == CloseSeat("2009", "closed by supervisor sup-zhao", after_call=True)
    assert opened(outcome) == ["2010"]  # the load still wants one overflow seat: another one
    seat_list = apply_decisions(seat_list, outcome.decisions, at(10))
    seat_list = [replace(s, busy=False) for s in seat_list]
    final = run(seat_list, load(3), at(20), outcome.memory, overrides=force)
    assert final.decisions == (CloseSeat("2009", "call over: closing as decided"),)


def test_forced_open_cancels_a_pending_close() -> None:
    seat_list = seats(open_overflow=1, opened_at=at(0))
    seat_list[8] = replace(seat_list[8], busy=False, closing=True)
    force = (SeatOverride("2009", OverrideAction.OPEN, "sup"),)
    assert run(seat_list, load(), at(10), overrides=force).decisions == (
        OpenSeat("2009", "opened by supervisor sup"),
    )


def test_forced_close_of_a_base_seat_is_made_up_by_another_seat() -> None:
    force = (SeatOverride("2003", OverrideAction.CLOSE, "sup"),)
    outcome = run(seats(), load(), at(0), overrides=force)
    assert outcome.decisions == (
        CloseSeat("2003", "closed by supervisor sup"),
        OpenSeat("2009", "keep the 8 base seats open"),
    )
    assert outcome.active_seats == 8


def test_forced_open_beyond_the_maximum_waits_with_a_note() -> None:
    seat_list = [*seats(open_overflow=12), Seat("2099", base=False, open=False)]
    force = (SeatOverride("2099", OverrideAction.OPEN, "sup"),)
    outcome = run(seat_list, load(), at(0), overrides=force)
    assert outcome.decisions == ()
    assert outcome.notes == ("seat 2099: opening asked by sup waits: 20 seats (the maximum) are open",)


def test_override_of_an_unknown_seat_is_ignored() -> None:
    outcome = run(seats(), load(), at(0), overrides=(SeatOverride("9999", OverrideAction.OPEN, "s"),))
    assert outcome.decisions == ()


def test_closed_base_seats_are_opened_at_start() -> None:
    seat_list = [replace(s, open=False) for s in seats()]
    outcome = run(seat_list, load(), at(0))
    assert opened(outcome) == [f"20{i:02}" for i in range(1, 9)]
    assert {d.reason for d in outcome.decisions} == {"keep the 8 base seats open"}


def test_too_few_seats_opens_what_exists() -> None:
    outcome = run([Seat("1", base=True, open=False)], load(10), at(0))
    assert opened(outcome) == ["1"] and outcome.active_seats == 1


# ------------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    "changes",
    [
        {"base_seats": 21},
        {"base_seats": -1},
        {"open_waiting": 0},
        {"waiting_step": 0},
        {"close_waiting": 3},
        {"close_longest_wait_seconds": 60.0},
        {"longest_wait_step_seconds": 0.0},
        {"aht_seconds": 0.0},
        {"target_service_level": 0.0},
        {"close_service_level": 0.7},
        {"close_service_level": 1.1},
    ],
)
def test_policy_refuses_settings_that_would_flap_or_make_no_sense(changes: dict[str, float]) -> None:
    with pytest.raises(PolicyError):
        replace(POLICY, **changes)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([2, 3]), st.floats(1, 30)), min_size=1, max_size=120),
    st.floats(0, 59),
)
def test_load_hovering_at_the_threshold_does_not_flap(steps: list[tuple[int, float]], longest: float) -> None:
    """Waiting callers oscillate around ``open_waiting`` (2, 3, 2, 3 …): within any minimum-open-time window
    there is at most one opening and at most one closing."""
    seat_list, memory, t = seats(), OverflowMemory(), 0.0
    events: list[tuple[float, str]] = []
    for waiting, gap in steps:
        t += gap
        outcome = run(seat_list, load(waiting, min(longest, 59)), at(t), memory)
        events.extend((t, "open" if isinstance(d, OpenSeat) else "close") for d in outcome.decisions)
        seat_list = apply_decisions(seat_list, outcome.decisions, at(t))
        memory = outcome.memory
    for start, _ in events:
        window = [kind for when, kind in events if start <= when < start + POLICY.min_open_seconds]
        assert window.count("open") <= 1 and window.count("close") <= 1


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.floats(1, 60)), min_size=1, max_size=150),
)
def test_hovering_around_the_closing_bar_does_not_flap(steps: list[tuple[int, float]]) -> None:
    """Load wandering between 0 and 3 callers (both bars in reach): every seat stays open at least the
    minimum open time, and a seat is never opened and closed within it."""
    seat_list, memory, t = seats(), OverflowMemory(), 0.0
    opened_at: dict[str, float] = {}
    for waiting, gap in steps:
        t += gap
        outcome = run(seat_list, load(waiting), at(t), memory)
        for d in outcome.decisions:
            if isinstance(d, OpenSeat):
                opened_at[d.extension] = t
            elif d.extension in opened_at:
                assert t - opened_at[d.extension] >= POLICY.min_open_seconds
        seat_list = apply_decisions(seat_list, outcome.decisions, at(t))
        memory = outcome.memory


OVERRIDES = st.lists(
    st.builds(
        SeatOverride,
        st.sampled_from([f"20{i:02}" for i in range(1, 21)]),
        st.sampled_from(OverrideAction),
        st.just("sup"),
    ),
    max_size=4,
    unique_by=lambda o: o.extension,
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 30),
            st.floats(0, 400),
            st.integers(0, 200),
            st.floats(1, 120),
            st.lists(st.booleans(), min_size=20, max_size=20),
            OVERRIDES,
        ),
        min_size=1,
        max_size=40,
    )
)
def test_limits_hold_under_any_load_and_overrides(
    steps: list[tuple[int, float, int, float, list[bool], list[SeatOverride]]],
) -> None:
    seat_list, memory, t = seats(), OverflowMemory(), 0.0
    for waiting, longest, arrivals, gap, busy, overrides in steps:
        t += gap
        seat_list = [replace(s, busy=b and s.open) for s, b in zip(seat_list, busy, strict=True)]
        outcome = run(seat_list, load(waiting, longest, arrivals), at(t), memory, overrides=overrides)
        forced_closed = {o.extension for o in overrides if o.action is OverrideAction.CLOSE}
        for d in outcome.decisions:
            if isinstance(d, OpenSeat):
                assert d.extension not in forced_closed
            seat = next(s for s in seat_list if s.extension == d.extension)
            if isinstance(d, CloseSeat) and not d.after_call:
                assert not seat.busy  # never cut a call
        seat_list = apply_decisions(seat_list, outcome.decisions, at(t))
        memory = outcome.memory
        active = sum(s.open and not s.closing for s in seat_list)
        assert active == outcome.active_seats
        assert active <= POLICY.max_seats
        assert active >= min(POLICY.base_seats, 20 - len(forced_closed))
        assert all(d.reason for d in outcome.decisions)
