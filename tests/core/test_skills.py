"""Queue membership and penalties from skills and languages, the widening rule, and ``eligible`` as app_queue
applies penalty rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.plan import AgentPlan, QueuePlan
from routing.skills import (
    EVERYONE_MAX_PENALTY,
    SPEAKERS_MAX_PENALTY,
    AgentProfile,
    InvalidLevel,
    LanguageWidening,
    Member,
    PenaltyChange,
    PenaltyRule,
    PenaltyValue,
    PenaltyWindow,
    eligible,
    eligible_in,
    memberships_of,
    parse_penaltychange,
    penalty,
    profile_from_plan,
    queue_routing,
    render_rules,
    routing_table,
    window_after,
)

MN_PSY = QueuePlan("mn-psychology", "psychology", "mn")
ZH_PSY = QueuePlan("zh-psychology", "psychology", "zh")
ZH_LEGAL = QueuePlan("zh-legal", "legal", "zh")

BATU = AgentProfile("1005", {"psychology": 5, "legal": 3}, {"mn": 5, "zh": 4})  # native Mongolian
QIQIGE = AgentProfile("1006", {"psychology": 2}, {"mn": 3, "zh": 5})  # learnt Mongolian
WANG = AgentProfile("1001", {"psychology": 4, "family": 5}, {"zh": 5})  # Mandarin only
LI = AgentProfile("1002", {"legal": 5}, {"zh": 5})  # no psychology
AGENTS = (BATU, QIQIGE, WANG, LI)
WIDEN_MN = (LanguageWidening("mn", 30),)


@pytest.mark.parametrize(
    ("agent", "queue", "expected"),
    [
        (BATU, MN_PSY, 0),  # native, top skill
        (BATU, ZH_PSY, 10),  # zh level 4 → one language step
        (BATU, ZH_LEGAL, 12),  # zh 4, legal 3
        (QIQIGE, MN_PSY, 23),  # mn 3 → 2 steps; psychology 2 → 3
        (QIQIGE, ZH_PSY, 3),
        (WANG, MN_PSY, 51),  # does not speak mn: beyond every speaker
        (WANG, ZH_PSY, 1),
        (WANG, ZH_LEGAL, None),  # no legal skill: not a member
        (LI, ZH_PSY, None),
        (LI, ZH_LEGAL, 0),
    ],
)
def test_penalty_formula(agent: AgentProfile, queue: QueuePlan, expected: int | None) -> None:
    assert penalty(agent, queue) == expected


def test_penalty_bounds() -> None:
    weakest_speaker = AgentProfile("9", {"psychology": 1}, {"mn": 1})
    weakest_other = AgentProfile("9", {"psychology": 1}, {"zh": 1})
    assert penalty(weakest_speaker, MN_PSY) == SPEAKERS_MAX_PENALTY - 5 == 44
    assert penalty(weakest_other, MN_PSY) == EVERYONE_MAX_PENALTY == 54


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(1, 5),
    st.one_of(st.none(), st.integers(1, 5)),
)
def test_language_always_outranks_skill(skill_a: int, skill_b: int, lang_a: int, lang_b: int | None) -> None:
    """A better speaker is preferred whatever the skills; any speaker beats a non-speaker."""
    a = AgentProfile("a", {"psychology": skill_a}, {"mn": lang_a})
    b = AgentProfile("b", {"psychology": skill_b}, {} if lang_b is None else {"mn": lang_b})
    pa, pb = penalty(a, MN_PSY), penalty(b, MN_PSY)
    assert pa is not None and pb is not None
    assert 0 <= pa <= SPEAKERS_MAX_PENALTY
    if lang_b is None:
        assert SPEAKERS_MAX_PENALTY < pb <= EVERYONE_MAX_PENALTY
    if lang_b is not None and lang_a > lang_b:
        assert pa < pb
    if lang_b == lang_a:
        assert (pa < pb) == (skill_a > skill_b)


@pytest.mark.parametrize("level", [0, 6, -1])
def test_levels_outside_one_to_five_are_refused(level: int) -> None:
    with pytest.raises(InvalidLevel, match=f"agent 7: level {level} for 'legal' is outside 1..5"):
        AgentProfile("7", {"legal": level}, {})
    with pytest.raises(InvalidLevel):
        AgentProfile("7", {}, {"mn": level})


def test_profile_from_plan() -> None:
    plan = AgentPlan("1005", "巴特尔", ("psychology", "legal"), ("mn", "zh"))
    profile = profile_from_plan(plan)
    assert profile == AgentProfile("1005", {"psychology": 3, "legal": 3}, {"mn": 5, "zh": 5})
    assert profile.interface == "PJSIP/1005"
    assert profile_from_plan(plan, skill_level=5, language_level=2).languages == {"mn": 2, "zh": 2}


def test_mongolian_queue_with_widening() -> None:
    routing = queue_routing(MN_PSY, AGENTS, WIDEN_MN)
    assert routing.members == (
        Member("mn-psychology", "1005", 0, True),
        Member("mn-psychology", "1006", 23, True),
        Member("mn-psychology", "1001", 51, False),
    )
    assert routing.initial_max_penalty == SPEAKERS_MAX_PENALTY
    assert routing.rule == PenaltyRule(
        "widen-mn-psychology", (PenaltyChange(30, PenaltyValue(EVERYONE_MAX_PENALTY)),)
    )
    assert routing.members[0].interface == "PJSIP/1005"


def test_without_widening_non_speakers_are_not_members_and_no_limit_is_set() -> None:
    routing = queue_routing(MN_PSY, AGENTS)
    assert [m.extension for m in routing.members] == ["1005", "1006"]
    assert routing.initial_max_penalty is None and routing.rule is None


def test_widening_of_another_language_does_not_apply() -> None:
    routing = queue_routing(ZH_PSY, AGENTS, WIDEN_MN)
    assert [(m.extension, m.penalty) for m in routing.members] == [("1001", 1), ("1006", 3), ("1005", 10)]
    assert routing.rule is None


def test_ties_are_broken_by_extension() -> None:
    twins = (AgentProfile("2002", {"legal": 5}, {"zh": 5}), AgentProfile("2001", {"legal": 5}, {"zh": 5}))
    assert [m.extension for m in queue_routing(ZH_LEGAL, twins).members] == ["2001", "2002"]


def test_routing_table_memberships_and_rules_file() -> None:
    table = routing_table((ZH_PSY, ZH_LEGAL, MN_PSY), AGENTS, WIDEN_MN)
    assert [r.queue for r in table] == ["zh-psychology", "zh-legal", "mn-psychology"]
    assert [(m.queue, m.penalty) for m in memberships_of("1005", table)] == [
        ("zh-psychology", 10),
        ("zh-legal", 12),
        ("mn-psychology", 0),
    ]
    assert memberships_of("9999", table) == ()
    assert render_rules(table) == "[widen-mn-psychology]\npenaltychange => 30,54\n"


# ------------------------------------------------------------------------------------------ eligible


@pytest.mark.parametrize(
    ("waited", "expected"),
    [
        (0, ["1005", "1006"]),
        (29.9, ["1005", "1006"]),
        (30, ["1005", "1006", "1001"]),
        (600, ["1005", "1006", "1001"]),
    ],
)
def test_mongolian_caller_reaches_mandarin_speakers_after_the_wait(
    waited: float, expected: list[str]
) -> None:
    routing = queue_routing(MN_PSY, AGENTS, WIDEN_MN)
    assert [m.extension for m in eligible_in(routing, waited)] == expected


def test_without_an_initial_maximum_rules_change_nothing() -> None:
    """app_queue: the rules only modify QUEUE_MAX_PENALTY when the dialplan set it."""
    routing = queue_routing(MN_PSY, AGENTS, WIDEN_MN)
    rule = PenaltyRule("r", (PenaltyChange(0, PenaltyValue(5)),))
    assert len(eligible(routing.members, 100, rule)) == 3
    assert len(eligible(routing.members, 100, None)) == 3


def test_relative_and_minimum_changes_and_clamping() -> None:
    changes = (
        PenaltyChange(60, PenaltyValue(10), PenaltyValue(5)),  # given out of order on purpose
        PenaltyChange(30, PenaltyValue(3, relative=True)),
        PenaltyChange(90, PenaltyValue(-100, relative=True), PenaltyValue(-2, relative=True)),
    )
    start = PenaltyWindow(max_penalty=1, min_penalty=0)
    assert window_after(0, changes, start) == PenaltyWindow(1, 0)
    assert window_after(30, changes, start) == PenaltyWindow(4, 0)
    assert window_after(60, changes, start) == PenaltyWindow(10, 5)
    assert window_after(90, changes, start) == PenaltyWindow(0, 3)  # max clamped at 0
    assert window_after(90, changes) == PenaltyWindow(None, None)


def test_min_penalty_excludes_the_best_members() -> None:
    members = (Member("q", "a", 0, True), Member("q", "b", 5, True), Member("q", "c", 9, True))
    rule = PenaltyRule("r", (PenaltyChange(20, None, PenaltyValue(5)),))
    initial = PenaltyWindow(max_penalty=9, min_penalty=0)
    assert [m.extension for m in eligible(members, 10, rule, initial)] == ["a", "b", "c"]
    assert [m.extension for m in eligible(members, 20, rule, initial)] == ["b", "c"]


def test_eligible_sorts_best_first() -> None:
    members = (Member("q", "b", 5, True), Member("q", "a", 5, True), Member("q", "c", 1, True))
    assert [m.extension for m in eligible(members, 0, None)] == ["c", "a", "b"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 54), max_size=10),
    st.lists(st.tuples(st.integers(0, 120), st.integers(0, 60)), max_size=4),
    st.floats(0, 200),
    st.floats(0, 200),
)
def test_raising_maximums_only_widen_with_time(
    penalties: list[int], steps: list[tuple[int, int]], t1: float, t2: float
) -> None:
    """With non-decreasing absolute maximums (what widening renders), waiting longer never loses members."""
    members = tuple(Member("q", f"{i:03}", p, True) for i, p in enumerate(penalties))
    steps.sort()
    maxima = [m for _, m in steps]
    changes = tuple(PenaltyChange(t, PenaltyValue(max(maxima[: i + 1]))) for i, (t, _) in enumerate(steps))
    rule = PenaltyRule("r", changes)
    start = PenaltyWindow(max_penalty=0)
    early, late = sorted((t1, t2))
    assert set(eligible(members, early, rule, start)) <= set(eligible(members, late, rule, start))


# ---------------------------------------------------------------------------------- rendering/parsing


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (PenaltyChange(30, PenaltyValue(54)), "penaltychange => 30,54"),
        (PenaltyChange(30, PenaltyValue(3, relative=True)), "penaltychange => 30,+3"),
        (PenaltyChange(60, PenaltyValue(10), PenaltyValue(5)), "penaltychange => 60,10,5"),
        (PenaltyChange(75, None, PenaltyValue(7)), "penaltychange => 75,,7"),
        (
            PenaltyChange(90, PenaltyValue(-2, relative=True), PenaltyValue(-1, relative=True)),
            "penaltychange => 90,-2,-1",
        ),
    ],
)
def test_render_and_parse(change: PenaltyChange, line: str) -> None:
    assert change.render() == line
    assert parse_penaltychange(line) == change


@pytest.mark.parametrize(
    "line", ["penaltychange => ", "penaltychange => x,1", "maxlen => 3", "penaltychange => 1,2,3,4,5"]
)
def test_parse_refuses_other_lines(line: str) -> None:
    with pytest.raises(ValueError, match="not a penaltychange line"):
        parse_penaltychange(line)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 3600),
    st.one_of(st.none(), st.builds(PenaltyValue, st.integers(-60, 60), st.booleans())),
    st.one_of(st.none(), st.builds(PenaltyValue, st.integers(-60, 60), st.booleans())),
)
def test_render_parse_round_trip(
    seconds: int, max_p: PenaltyValue | None, min_p: PenaltyValue | None
) -> None:
    def normal(v: PenaltyValue | None) -> PenaltyValue | None:
        # "-5" absolute is not writable (a sign means relative); "+0" is "no change".
        if v is None or (v.relative and v.value == 0):
            return None
        return PenaltyValue(v.value, v.relative or v.value < 0)

    change = PenaltyChange(seconds, normal(max_p), normal(min_p))
    assert parse_penaltychange(change.render()) == change
