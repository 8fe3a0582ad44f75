"""Every branch of the pure IVR menu walk, on the example plan and small variations of it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ivr.menu import Finished, IvrResult, MenuWalk, MenuWalkError, Prompt, Step
from routing.plan import ActionKind, HotlinePlan, Language, MenuAction, QueuePlan

from .plans import LANGUAGES, SERVICE_KEYS, example_plan, with_menu


def walk_through(plan: HotlinePlan, inputs: list[str | None]) -> tuple[list[Step], IvrResult]:
    walk = MenuWalk(plan)
    steps: list[Step] = [walk.start()]
    for digits in inputs:
        current = steps[-1]
        assert isinstance(current, Prompt), f"walk finished early: {steps}"
        steps.append(walk.on_input(digits))
    last = steps[-1]
    assert isinstance(last, Finished), f"walk not finished: {last}"
    assert walk.result == last.result
    return steps, last.result


def prompts(steps: list[Step]) -> list[Prompt]:
    return [s for s in steps if isinstance(s, Prompt)]


def test_start_plays_the_bilingual_language_menu() -> None:
    step = MenuWalk(example_plan()).start()
    assert step == Prompt("hotline/choose-language", 5.0, 1, "language", notice=None)


@pytest.mark.parametrize("lang_key,language", [("1", "zh"), ("2", "mn")])
@pytest.mark.parametrize("service_key", sorted(SERVICE_KEYS))
def test_every_menu_path_of_the_example_plan(lang_key: str, language: str, service_key: str) -> None:
    steps, result = walk_through(example_plan(), [lang_key, service_key])
    assert steps[1] == Prompt(f"{language}/choose-service", 5.0, 1, "service")
    assert result == IvrResult(
        language=language,
        menu_path=f"{lang_key}-{service_key}",
        queue=f"{language}-{SERVICE_KEYS[service_key]}",
        priority=0,
        queue_timeout_seconds=600,
        action=ActionKind.QUEUE,
        target="",
        disposition=None,
    )


def test_language_menu_timeouts_repeat_prompt_then_default_queue() -> None:
    steps, result = walk_through(example_plan(), [None, None, None])
    assert prompts(steps) == [Prompt("hotline/choose-language", 5.0, 1, "language")] * 3
    assert (result.queue, result.language, result.menu_path) == ("zh-psychology", "zh", "t-t-t")
    assert result.priority == 0 and result.action is ActionKind.QUEUE


def test_language_menu_invalid_keys_play_invalid_notice_then_default_queue() -> None:
    steps, result = walk_through(example_plan(), ["9", "*", "3"])
    assert (
        prompts(steps)[1:]
        == [Prompt("hotline/choose-language", 5.0, 1, "language", notice="hotline/invalid")] * 2
    )
    assert (result.queue, result.language, result.menu_path) == ("zh-psychology", "zh", "i-i-i")


def test_hash_alone_is_an_invalid_key() -> None:
    walk = MenuWalk(example_plan())
    walk.start()
    step = walk.on_input("")
    assert isinstance(step, Prompt) and step.notice == "hotline/invalid"
    assert walk.menu_path == "i"


def test_timeout_then_invalid_then_valid_choices() -> None:
    _, result = walk_through(example_plan(), [None, "7", "1", "2"])
    assert (result.queue, result.menu_path) == ("zh-legal", "t-i-1-2")


def test_failures_do_not_carry_over_into_the_submenu() -> None:
    _, result = walk_through(example_plan(), [None, None, "2", None, "x", "5"])
    assert (result.queue, result.language, result.menu_path) == ("mn-family", "mn", "t-t-2-t-i-5")


@pytest.mark.parametrize("lang_key,language", [("1", "zh"), ("2", "mn")])
def test_service_menu_retries_exhausted_keep_chosen_language(lang_key: str, language: str) -> None:
    steps, result = walk_through(example_plan(), [lang_key, None, "8", None])
    assert prompts(steps)[1:] == [
        Prompt(f"{language}/choose-service", 5.0, 1, "service"),
        Prompt(f"{language}/choose-service", 5.0, 1, "service"),
        Prompt(f"{language}/choose-service", 5.0, 1, "service", notice=f"{language}/invalid"),
    ]
    assert result.language == language
    assert result.queue == "zh-psychology"  # the plan's default queue, whatever the language
    assert result.menu_path == f"{lang_key}-t-i-t"


def test_default_language_applies_when_none_chosen_and_fills_default_queue() -> None:
    plan = replace(example_plan(), default_language="mn", default_queue="{language}-psychology")
    _, result = walk_through(plan, [None, None, None])
    assert (result.language, result.queue) == ("mn", "mn-psychology")


def test_retries_zero_means_one_try() -> None:
    plan = example_plan()
    plan = with_menu(plan, replace(plan.menus["language"], retries=0))
    steps, result = walk_through(plan, [None])
    assert len(prompts(steps)) == 1
    assert result.menu_path == "t" and result.queue == "zh-psychology"


def test_after_retries_queue_with_language_substitution() -> None:
    plan = example_plan()
    service = replace(plan.menus["service"], after_retries=MenuAction(ActionKind.QUEUE, "{language}-family"))
    _, result = walk_through(with_menu(plan, service), ["2", None, None, None])
    assert (result.queue, result.menu_path, result.language) == ("mn-family", "2-t-t-t", "mn")


def test_after_retries_submenu_resets_the_retry_count() -> None:
    plan = example_plan()
    language = replace(
        plan.menus["language"], after_retries=MenuAction(ActionKind.SUBMENU, "service", language="zh")
    )
    steps, result = walk_through(with_menu(plan, language), [None, None, None, None, "4"])
    assert [p.prompt_file for p in prompts(steps)] == ["hotline/choose-language"] * 3 + [
        "zh/choose-service"
    ] * 2
    assert (result.queue, result.menu_path) == ("zh-adolescent", "t-t-t-t-4")


def test_after_retries_crisis() -> None:
    plan = replace(example_plan(), crisis_queue="zh-psychology", crisis_priority=7)
    language = replace(plan.menus["language"], after_retries=MenuAction(ActionKind.CRISIS))
    _, result = walk_through(with_menu(plan, language), ["x", None, "x"])
    assert (result.queue, result.priority, result.action) == ("zh-psychology", 7, ActionKind.CRISIS)


def test_after_retries_submenu_loop_is_bounded() -> None:
    plan = example_plan()
    language = replace(
        plan.menus["language"], retries=0, after_retries=MenuAction(ActionKind.SUBMENU, "language")
    )
    walk = MenuWalk(with_menu(plan, language), max_prompts=4)
    step = walk.start()
    count = 0
    while isinstance(step, Prompt):
        count += 1
        step = walk.on_input(None)
    assert count == 4
    assert step.result.queue == "zh-psychology" and step.result.menu_path == "t-t-t-t"


def _plan_with_service_option(action: MenuAction, **plan_changes: object) -> HotlinePlan:
    plan = replace(example_plan(), **plan_changes)  # type: ignore[arg-type]
    service = plan.menus["service"]
    return with_menu(plan, replace(service, options={**service.options, "9": action}))


def test_crisis_option_goes_to_crisis_queue_with_crisis_priority() -> None:
    crisis = QueuePlan("crisis", "psychology", "zh", max_wait_seconds=120)
    plan = _plan_with_service_option(
        MenuAction(ActionKind.CRISIS), crisis_queue="crisis", queues=(*example_plan().queues, crisis)
    )
    _, result = walk_through(plan, ["2", "9"])
    assert result == IvrResult("mn", "2-9", "crisis", 10, 120, ActionKind.CRISIS)


def test_crisis_option_without_crisis_queue_uses_default_queue() -> None:
    plan = _plan_with_service_option(MenuAction(ActionKind.CRISIS), crisis_priority=5)
    _, result = walk_through(plan, ["1", "9"])
    assert (result.queue, result.priority, result.menu_path) == ("zh-psychology", 5, "1-9")


def test_crisis_option_priority_override_and_language_queue() -> None:
    plan = _plan_with_service_option(
        MenuAction(ActionKind.CRISIS, priority=99), crisis_queue="{language}-psychology"
    )
    _, result = walk_through(plan, ["2", "9"])
    assert (result.queue, result.priority) == ("mn-psychology", 99)


def test_queue_option_priority_override() -> None:
    plan = _plan_with_service_option(MenuAction(ActionKind.QUEUE, "{language}-legal", priority=3))
    _, result = walk_through(plan, ["2", "9"])
    assert (result.queue, result.priority) == ("mn-legal", 3)


def test_default_priority_from_plan() -> None:
    _, result = walk_through(replace(example_plan(), default_priority=2), ["1", "1"])
    assert result.priority == 2


def test_queue_timeout_is_the_queues_max_wait() -> None:
    plan = example_plan()
    queues = tuple(replace(q, max_wait_seconds=300) if q.name == "mn-legal" else q for q in plan.queues)
    _, result = walk_through(replace(plan, queues=queues), ["2", "2"])
    assert (result.queue, result.queue_timeout_seconds) == ("mn-legal", 300)


@pytest.mark.parametrize("kind", [ActionKind.CALLBACK, ActionKind.TRANSFER, ActionKind.MESSAGE])
def test_not_yet_implemented_kinds_finish_with_kind_target_and_default_queue(kind: ActionKind) -> None:
    plan = _plan_with_service_option(MenuAction(kind, "12345-key"))
    _, result = walk_through(plan, ["2", "9"])
    assert result == IvrResult("mn", "2-9", "zh-psychology", 0, 600, kind, "12345-key")


def test_unknown_submenu_target_goes_to_default_queue() -> None:
    plan = _plan_with_service_option(MenuAction(ActionKind.SUBMENU, "nowhere"))
    _, result = walk_through(plan, ["1", "9"])
    assert (result.queue, result.menu_path, result.action) == ("zh-psychology", "1-9", ActionKind.QUEUE)


def test_unknown_queue_after_substitution_goes_to_default_queue() -> None:
    plan = example_plan()
    plan = replace(plan, queues=tuple(q for q in plan.queues if q.language == "zh"))
    _, result = walk_through(plan, ["2", "2"])
    assert (result.queue, result.language) == ("zh-psychology", "mn")


def test_default_queue_missing_from_plan_still_finishes() -> None:
    _, result = walk_through(replace(example_plan(), default_queue="ghost"), [None, None, None])
    assert (result.queue, result.queue_timeout_seconds) == ("ghost", 600)


def test_option_with_language_on_a_queue_action() -> None:
    plan = example_plan()
    language = replace(
        plan.menus["language"],
        options={
            **plan.menus["language"].options,
            "0": MenuAction(ActionKind.QUEUE, "{language}-legal", "mn"),
        },
    )
    _, result = walk_through(with_menu(plan, language), ["0"])
    assert (result.language, result.queue) == ("mn", "mn-legal")


def test_prompt_set_differs_from_language_code() -> None:
    plan = replace(
        example_plan(), languages=(Language("zh", "普通话", "cmn"), Language("mn", "蒙古语", "mon"))
    )
    walk = MenuWalk(plan)
    walk.start()
    step = walk.on_input("2")
    assert isinstance(step, Prompt) and step.prompt_file == "mon/choose-service"
    step = walk.on_input("0")
    assert isinstance(step, Prompt) and step.notice == "mon/invalid"


def test_language_without_prompt_set_uses_code() -> None:
    plan = replace(example_plan(), languages=())
    walk = MenuWalk(plan)
    walk.start()
    step = walk.on_input("2")
    assert isinstance(step, Prompt) and step.prompt_file == "mn/choose-service"


def test_custom_invalid_prompt_timeout_and_multi_digit_options() -> None:
    plan = example_plan()
    service = replace(
        plan.menus["service"],
        invalid_prompt="wrong-key",
        timeout_seconds=8.5,
        options={**plan.menus["service"].options, "12": MenuAction(ActionKind.QUEUE, "{language}-legal")},
    )
    walk = MenuWalk(with_menu(plan, service))
    walk.start()
    step = walk.on_input("1")
    assert step == Prompt("zh/choose-service", 8.5, 2, "service")
    step = walk.on_input("99")
    assert step == Prompt("zh/choose-service", 8.5, 2, "service", notice="zh/wrong-key")
    step = walk.on_input("12")
    assert isinstance(step, Finished) and step.result.queue == "zh-legal"
    assert step.result.menu_path == "1-i-12"


def test_menu_without_options_collects_one_digit() -> None:
    plan = example_plan()
    plan = with_menu(plan, replace(plan.menus["language"], options={}))
    step = MenuWalk(plan).start()
    assert isinstance(step, Prompt) and step.max_digits == 1


def test_misuse_is_refused() -> None:
    with pytest.raises(MenuWalkError):
        MenuWalk(replace(example_plan(), entry_menu="missing"))
    walk = MenuWalk(example_plan())
    assert walk.language is None and walk.result is None
    with pytest.raises(MenuWalkError):
        walk.on_input("1")
    walk.start()
    with pytest.raises(MenuWalkError):
        walk.start()
    walk.on_input("1")
    assert walk.language == "zh"
    walk.on_input("1")
    with pytest.raises(MenuWalkError):
        walk.on_input("1")


def test_every_language_of_the_example_is_reachable() -> None:
    reached = {walk_through(example_plan(), [k, "1"])[1].language for k in ("1", "2")}
    assert reached == set(LANGUAGES)
