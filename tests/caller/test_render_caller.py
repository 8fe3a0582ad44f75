"""What the renderer writes for the caller's experience (the golden files hold the whole text)."""

from __future__ import annotations

from dataclasses import replace

from callcenter.config.render import render
from tests.integration.harness import quick_plan


def _section(text: str, name: str) -> str:
    return text.split(f"[{name}]\n", 1)[1].split("\n[", 1)[0]


def test_survey_plans_queue_with_option_c_and_continue_to_the_survey() -> None:
    files = render(quick_plan())
    inbound = _section(files["extensions.conf"], "hotline-inbound")
    assert "Queue(${HOTLINE_QUEUE},tc,,,${HOTLINE_QUEUE_TIMEOUT})" in inbound
    assert 'GotoIf($["${QUEUESTATUS}" = "CONTINUE"]?hotline-survey,s,1)' in inbound
    # every Queue() is preceded by the caller's voice: the prompt set, or its anonymous variant
    lines = inbound.splitlines()
    queue_lines = [i for i, line in enumerate(lines) if ",Queue(" in line]
    assert queue_lines and all(
        "Gosub(hotline-queue-voice,s,1)" in " ".join(lines[i - 2 : i]) for i in queue_lines
    )
    voice = _section(files["extensions.conf"], "hotline-queue-voice")
    assert "Set(CHANNEL(language)=${HOTLINE_PROMPT_SET})" in voice
    assert (
        'ExecIf($["${HOTLINE_ANONYMOUS}" = "1" | "${CALLERID(num)}" = ""]?'
        "Set(CHANNEL(language)=${HOTLINE_PROMPT_SET}_anonymous))" in voice
    )
    without = render(replace(quick_plan(), survey=None))
    assert "CONTINUE" not in without["extensions.conf"] and ",tc," not in without["extensions.conf"]


def test_announcements_and_the_callback_offer_per_queue() -> None:
    files = render(quick_plan())
    psychology = _section(files["queues.conf"], "zh-psychology")
    assert "announce-frequency = 60\nannounce-position = yes\nannounce-holdtime = yes" in psychology
    assert "periodic-announce = callback-offer-key\nperiodic-announce-frequency = 120" in psychology
    assert "context = hotline-queue-exit" in psychology
    crisis = _section(files["queues.conf"], "zh-crisis")
    assert "periodic-announce" not in crisis and "context =" not in crisis
    exit_context = _section(files["extensions.conf"], "hotline-queue-exit")
    assert exit_context.splitlines()[3].startswith("exten => 1/_[+0123456789].,1,")
    assert "UserEvent(HotlineCallback,Reason: queue-offer," in exit_context
    plan = quick_plan()
    quiet = replace(plan, queues=tuple(replace(q, callback_offer_after_seconds=0) for q in plan.queues))
    assert "[hotline-queue-exit]" not in render(quiet)["extensions.conf"]
