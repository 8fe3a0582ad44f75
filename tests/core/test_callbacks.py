"""Callback tasks: creation from every kind of missed call, anonymous callers, merging repeat calls,
attempts and delays, failure at the limit, the caller getting through, and assignment order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.callbacks import (
    CALLBACK_ROLE,
    AttemptOutcome,
    CallbackAgent,
    CallbackBook,
    CallbackPolicy,
    CallbackSource,
    MissedCall,
    NotACallbackAgent,
    TaskNotOpen,
    TaskStatus,
    UnknownTask,
    assign_next,
    due_tasks,
    next_task,
    normalise_number,
    prune_closed,
    record_answered_call,
    record_attempt,
    record_missed_call,
    release,
)
from routing.callerid import is_anonymous

T0 = datetime(2026, 3, 2, 9, 0, 0)
POLICY = CallbackPolicy(delays_seconds=(60, 600, 1800), max_attempts=3)
SEAT = CallbackAgent("1009", frozenset({CALLBACK_ROLE, "agent"}))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def missed(
    call_id: str,
    number: str | None = "13800138000",
    t: float = 0,
    source: CallbackSource = CallbackSource.ABANDONED,
    **kwargs: object,
) -> MissedCall:
    return MissedCall(call_id, number, source, at(t), **kwargs)  # type: ignore[arg-type]


def book_with(*calls: MissedCall) -> CallbackBook:
    book = CallbackBook()
    for call in calls:
        book, _ = record_missed_call(book, call, POLICY)
    return book


# ------------------------------------------------------------------------------------------ creation


@pytest.mark.parametrize("source", list(CallbackSource))
def test_every_missed_call_kind_creates_a_task(source: CallbackSource) -> None:
    book, task = record_missed_call(
        CallbackBook(), missed("c1", source=source, queue="mn-legal", language="mn"), POLICY
    )
    assert task is not None
    assert book.tasks == (task,)
    assert (task.id, task.number, task.status, task.sources) == (
        "cb-1",
        "13800138000",
        TaskStatus.OPEN,
        (source,),
    )
    assert (task.created_at, task.due_at, task.first_due_at) == (at(0), at(60), at(60))
    assert (task.queue, task.language, task.call_count, task.latest_call_id) == ("mn-legal", "mn", 1, "c1")
    assert (task.attempts, task.assigned_to, task.crisis, task.priority) == (0, None, False, 0)
    assert book.next_id == 2


@pytest.mark.parametrize(
    "number",
    [
        None,
        "",
        "  ",
        "anonymous",
        "Anonymous",
        "unknown",
        "<unknown>",
        "UNKNOWN",
        "private",
        "restricted",
        "sip:x@y",
    ],
)
def test_anonymous_callers_never_get_a_task(number: str | None) -> None:
    book, task = record_missed_call(CallbackBook(), missed("c1", number), POLICY)
    assert task is None and book == CallbackBook()
    assert book.open_task_for(number) is None


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13800138000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        (" (0471) 123 4567 ", "04711234567"),
        ("+1 555 0100", "+15550100"),
        ("+86", None),
    ],
)
def test_number_normalisation(raw: str, normal: str | None) -> None:
    assert normalise_number(raw) == normal


@given(st.text(alphabet="0123456789+abnoy<>@:", max_size=16))
def test_the_callback_seat_and_the_ivr_agree_on_who_has_no_number(raw: str) -> None:
    """One rule with routing/callerid for what the PBX sends: a caller the IVR treats as anonymous (no
    callback offered) never gets a callback task, and every other caller does."""
    if is_anonymous(raw) or raw in ("+86", "0086"):
        assert normalise_number(raw) is None
    else:
        assert normalise_number(raw) is not None


def test_a_crisis_call_is_due_at_once_with_crisis_priority() -> None:
    _, task = record_missed_call(CallbackBook(), missed("c1", crisis=True, t=5), POLICY)
    assert task is not None
    assert (task.crisis, task.priority, task.due_at, task.first_due_at) == (True, 10, at(5), at(5))


def test_a_higher_explicit_priority_is_kept() -> None:
    _, task = record_missed_call(CallbackBook(), missed("c1", crisis=True, priority=20), POLICY)
    assert task is not None and task.priority == 20


# --------------------------------------------------------------------------------------------- merging


def test_repeat_calls_merge_into_the_open_task() -> None:
    book = book_with(
        missed("c1", "13800138000", 0),
        missed("c2", "+86 138 0013 8000", 30, CallbackSource.QUEUE_TIMEOUT, queue="zh-legal"),
        missed("c3", "13800138000", 90),
    )
    (task,) = book.tasks
    assert task.call_ids == ("c1", "c2", "c3") and task.call_count == 3 and task.latest_call_id == "c3"
    assert task.sources == (CallbackSource.ABANDONED, CallbackSource.QUEUE_TIMEOUT)
    assert task.queue == "zh-legal"
    assert task.due_at == at(60)  # a repeat call does not push the callback back


def test_the_same_call_reported_twice_is_not_counted_twice() -> None:
    book = book_with(missed("c1"), missed("c1", t=5))
    assert book.tasks[0].call_count == 1


def test_a_crisis_repeat_call_escalates_the_task() -> None:
    book = book_with(missed("c1", t=0), missed("c2", t=20, crisis=True))
    (task,) = book.tasks
    assert (task.crisis, task.priority, task.due_at) == (True, 10, at(20))
    assert task.first_due_at == at(60)


def test_different_numbers_get_different_tasks() -> None:
    book = book_with(missed("c1", "13800000001"), missed("c2", "13800000002"))
    assert [t.id for t in book.tasks] == ["cb-1", "cb-2"]


def test_a_new_miss_after_the_task_closed_opens_a_new_task() -> None:
    book = book_with(missed("c1"))
    book, _ = record_attempt(book, "cb-1", AttemptOutcome.REACHED, at(100), POLICY)
    book, task = record_missed_call(book, missed("c2", t=200), POLICY)
    assert task is not None and task.id == "cb-2" and task.call_ids == ("c2",)
    assert [t.status for t in book.tasks] == [TaskStatus.DONE, TaskStatus.OPEN]


# -------------------------------------------------------------------------------------------- attempts


def test_attempts_follow_the_delays_and_fail_at_the_limit() -> None:
    book = book_with(missed("c1"))
    book, task = record_attempt(book, "cb-1", AttemptOutcome.NO_ANSWER, at(60), POLICY)
    assert (task.attempts, task.status, task.due_at, task.first_attempt_at) == (
        1,
        TaskStatus.OPEN,
        at(660),
        at(60),
    )
    assert task.last_outcome is AttemptOutcome.NO_ANSWER
    book, task = record_attempt(book, "cb-1", AttemptOutcome.BUSY, at(700), POLICY)
    assert (task.attempts, task.due_at, task.first_attempt_at) == (2, at(2500), at(60))
    book, task = record_attempt(book, "cb-1", AttemptOutcome.FAILED, at(2600), POLICY)
    assert (task.attempts, task.status, task.closed_at) == (3, TaskStatus.FAILED, at(2600))
    with pytest.raises(TaskNotOpen, match="callback task cb-1 is failed, not open"):
        record_attempt(book, "cb-1", AttemptOutcome.NO_ANSWER, at(2700), POLICY)


def test_reaching_the_caller_closes_the_task_as_done() -> None:
    book = book_with(missed("c1"))
    book, _ = assign_next(book, SEAT, at(60))
    book, task = record_attempt(book, "cb-1", AttemptOutcome.REACHED, at(70), POLICY)
    assert (task.status, task.closed_at, task.attempts, task.assigned_to) == (
        TaskStatus.DONE,
        at(70),
        1,
        None,
    )


def test_delays_past_the_end_of_the_list_repeat_the_last() -> None:
    policy = CallbackPolicy(delays_seconds=(0, 300), max_attempts=5)
    assert [policy.delay_before(n).total_seconds() for n in (0, 1, 2, 3, 9)] == [0, 0, 300, 300, 300]


@pytest.mark.parametrize(
    "changes", [{"delays_seconds": ()}, {"delays_seconds": (0, -1)}, {"max_attempts": 0}]
)
def test_policy_validation(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CallbackPolicy(**changes)  # type: ignore[arg-type]


def test_unknown_task() -> None:
    with pytest.raises(UnknownTask, match="no callback task 'cb-9'"):
        record_attempt(CallbackBook(), "cb-9", AttemptOutcome.REACHED, at(0), POLICY)


# ------------------------------------------------------------------------------------- caller got through


def test_an_answered_call_from_the_caller_closes_the_task() -> None:
    book = book_with(missed("c1"))
    book, _ = assign_next(book, SEAT, at(60))
    book, task = record_answered_call(book, "+8613800138000", "c9", at(65))
    assert task is not None
    assert (task.status, task.closed_at, task.answered_call_id, task.assigned_to) == (
        TaskStatus.CALLER_GOT_THROUGH,
        at(65),
        "c9",
        None,
    )
    assert book.open_tasks() == ()
    with pytest.raises(TaskNotOpen):
        record_attempt(book, "cb-1", AttemptOutcome.REACHED, at(70), POLICY)


@pytest.mark.parametrize("number", ["13900000000", None, "anonymous"])
def test_an_answered_call_from_someone_else_changes_nothing(number: str | None) -> None:
    book = book_with(missed("c1"))
    assert record_answered_call(book, number, "c9", at(65)) == (book, None)


# ------------------------------------------------------------------------------------------ assignment


def test_assignment_order_crisis_then_priority_then_due_then_age() -> None:
    book = book_with(
        missed("a", "13800000001", 0),  # due 60
        missed("b", "13800000002", -30),  # due 30: earlier
        missed("c", "13800000003", 10, priority=5),  # higher priority
        missed("d", "13800000004", 50, crisis=True),  # crisis, due 50
        missed("e", "13800000005", 1000),  # not due yet
    )
    order: list[str] = []
    for i in range(6):
        agent = CallbackAgent(f"10{i:02}", frozenset({CALLBACK_ROLE}))
        book, task = assign_next(book, agent, at(100))
        if task is not None:
            order.append(task.latest_call_id)
    assert order == ["d", "c", "b", "a"]
    assert [t.latest_call_id for t in due_tasks(book, at(2000))] == ["d", "c", "b", "a", "e"]


def test_ties_go_to_the_older_task() -> None:
    book = book_with(missed("a", "13800000001", 0), missed("b", "13800000002", 0))
    task = next_task(book, at(60))
    assert task is not None and task.id == "cb-1"


def test_an_agent_keeps_the_task_they_hold() -> None:
    book = book_with(missed("a", "13800000001"), missed("b", "13800000002"))
    book, first = assign_next(book, SEAT, at(60))
    again_book, again = assign_next(book, SEAT, at(61))
    assert first == again and again_book is book


def test_nothing_due_nothing_assigned() -> None:
    book = book_with(missed("a"))
    assert assign_next(book, SEAT, at(59)) == (book, None)
    assert next_task(CallbackBook(), at(0)) is None


def test_only_callback_agents_get_tasks() -> None:
    with pytest.raises(NotACallbackAgent, match="agent 1001 does not have the 'callback' role"):
        assign_next(book_with(missed("a")), CallbackAgent("1001", frozenset({"agent"})), at(100))


def test_release_gives_the_task_back() -> None:
    book, task = assign_next(book_with(missed("a")), SEAT, at(60))
    assert task is not None and task.assigned_to == "1009"
    book = release(book, task.id)
    assert book.get(task.id).assigned_to is None
    assert next_task(book, at(60)) == book.get(task.id)


def test_a_failed_attempt_unassigns_and_the_task_comes_back_when_due() -> None:
    book, task = assign_next(book_with(missed("a")), SEAT, at(60))
    assert task is not None
    book, task = record_attempt(book, task.id, AttemptOutcome.NO_ANSWER, at(70), POLICY)
    assert next_task(book, at(669)) is None
    assert next_task(book, at(670)) == task


def test_prune_closed_keeps_open_and_recent_tasks() -> None:
    book = book_with(missed("a", "13800000001"), missed("b", "13800000002"), missed("c", "13800000003"))
    book, _ = record_attempt(book, "cb-1", AttemptOutcome.REACHED, at(100), POLICY)
    book, _ = record_attempt(book, "cb-2", AttemptOutcome.REACHED, at(300), POLICY)
    pruned = prune_closed(book, at(200))
    assert [t.id for t in pruned.tasks] == ["cb-2", "cb-3"] and pruned.next_id == 4


# ------------------------------------------------------------------------------------------- properties

NUMBERS = st.sampled_from(["13800000001", "+8613800000001", "13800000002", "anonymous", None, "13800000003"])


@dataclass(frozen=True)
class Miss:
    number: str | None
    crisis: bool
    source: CallbackSource


@dataclass(frozen=True)
class Answered:
    number: str | None


@dataclass(frozen=True)
class Assign:
    extension: str


@dataclass(frozen=True)
class Attempt:
    outcome: AttemptOutcome


OPS = st.one_of(
    st.builds(Miss, NUMBERS, st.booleans(), st.sampled_from(list(CallbackSource))),
    st.builds(Answered, NUMBERS),
    st.builds(Assign, st.sampled_from(["1009", "1010"])),
    st.builds(Attempt, st.sampled_from(list(AttemptOutcome))),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(OPS, st.floats(0, 900)), max_size=40))
def test_book_invariants(ops: list[tuple[Miss | Answered | Assign | Attempt, float]]) -> None:
    book, now = CallbackBook(), T0
    for n, (op, gap) in enumerate(ops):
        now += timedelta(seconds=gap)
        if isinstance(op, Miss):
            call = MissedCall(f"c{n}", op.number, op.source, now, crisis=op.crisis)
            book, _ = record_missed_call(book, call, POLICY)
        elif isinstance(op, Answered):
            book, _ = record_answered_call(book, op.number, f"c{n}", now)
        elif isinstance(op, Assign):
            book, _ = assign_next(book, CallbackAgent(op.extension, frozenset({CALLBACK_ROLE})), now)
        else:
            held = [t for t in book.open_tasks() if t.assigned_to is not None]
            if held:
                book, _ = record_attempt(book, held[0].id, op.outcome, now, POLICY)
        open_numbers = [t.number for t in book.open_tasks()]
        assert len(open_numbers) == len(set(open_numbers))  # one open task per caller
        assert all(t.number not in ("anonymous", "") for t in book.tasks)
        holders = [t.assigned_to for t in book.open_tasks() if t.assigned_to is not None]
        assert len(holders) == len(set(holders))  # one task per agent at a time
        for t in book.tasks:
            assert 0 <= t.attempts <= POLICY.max_attempts
            assert (t.closed_at is None) == (t.status is TaskStatus.OPEN)
            assert t.status is not TaskStatus.FAILED or t.attempts == POLICY.max_attempts
            assert t.call_count >= 1 and len(set(t.call_ids)) == t.call_count
        assert len({t.id for t in book.tasks}) == len(book.tasks)
