"""One test per class of problem ``hotline config check`` reports, each with its exact FILE:LINE:COL.

The base file is small and valid; each test changes one thing and expects exactly these problems.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.cli import main as cli_main
from callcenter.config.loader import ConfigError, parse_plan

BASE = """\
hotline:
  number: "12355"
  default_queue: zh-legal
languages:
  zh: {name: 普通话, prompt_set: zh}
prompts:
  hotline: {welcome: 欢迎, invalid: 错误, closed: 休息}
  zh: {more: 更多, invalid: 错误, info: 信息, closed: 休息}
service_lines:
  legal: {name: 法律}
queues:
  zh-legal: {service_line: legal, language: zh}
ivr:
  entry: main
  menus:
    main:
      prompt: welcome
      options:
        "1": {queue: zh-legal}
        "2": {language: zh, submenu: more}
    more:
      prompt: more
      options:
        "1": {message: info}
hours:
  schedules:
    day: {daily: "08:00-20:00"}
  service_lines: {default: day}
  out_of_hours: {message: closed}
seats: {base: 2, max: 4}
agents:
  "1001": {name: 甲, skills: [legal], languages: [zh]}
"""


def problems(*edits: tuple[str, str]) -> list[str]:
    text = BASE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    with pytest.raises(ConfigError) as info:
        parse_plan(text, "h.yaml")
    return [str(p) for p in info.value.problems]


def test_the_base_file_is_valid() -> None:
    plan = parse_plan(BASE, "h.yaml")
    assert plan.entry_menu == "main" and plan.seats.base == 2


def test_yaml_syntax() -> None:
    assert problems(('  number: "12355"', "  number: [12355")) == [
        "h.yaml:3:16: YAML syntax: expected ',' or ']', but got ':'"
    ]


def test_unknown_key_with_a_suggestion() -> None:
    assert problems(("seats: {base: 2, max: 4}", "seats: {base: 2, maximum: 4}")) == [
        "h.yaml:30:18: seats: unknown key 'maximum' (did you mean 'max'?)"
    ]


def test_unknown_top_level_section() -> None:
    assert problems(("seats: {base", "seat: {base")) == [
        "h.yaml:30:1: the file: unknown key 'seat' (did you mean 'seats'?)"
    ]


def test_wrong_types() -> None:
    assert problems(
        ("seats: {base: 2, max: 4}", "seats: {base: two, max: 4}"),
        ('        "1": {queue: zh-legal}\n        "2"', '        "1": [zh-legal]\n        "2"'),
        ("  zh: {name: 普通话, prompt_set: zh}", "  zh: 普通话"),
    ) == [
        "h.yaml:5:7: languages.zh must be a mapping (key: value)",
        "h.yaml:19:14: ivr.menus.main.options.1 must be a mapping (key: value), e.g. {queue: zh-legal}",
        "h.yaml:30:15: seats.base must be a whole number",
    ]


def test_missing_prompt_in_the_language_set() -> None:
    assert problems(("zh: {more: 更多, invalid", "zh: {mor: 更多, invalid")) == [
        "h.yaml:22:15: ivr.menus.more.prompt: prompt 'more' is missing from prompt set 'zh' (prompts.zh)"
    ]


def test_missing_prompt_in_the_bilingual_set() -> None:
    assert problems(
        ("hotline: {welcome: 欢迎, invalid: 错误, closed: 休息}", "hotline: {welcome: 欢迎, invalid: 错误}")
    ) == [
        "h.yaml:29:17: hours.out_of_hours: prompt 'closed' is missing from prompt set 'hotline' "
        "(prompts.hotline)"
    ]


def test_missing_message_prompt() -> None:
    assert problems(('"1": {message: info}', '"1": {message: infos}')) == [
        "h.yaml:24:14: ivr.menus.more.options.1: prompt 'infos' is missing from prompt set 'zh' (prompts.zh)"
    ]


def test_a_callback_offer_needs_what_anonymous_callers_hear_instead() -> None:
    offer = "zh-legal: {service_line: legal, language: zh, callback_offer_after: 60}"
    assert problems(
        ("zh-legal: {service_line: legal, language: zh}", offer),
        ("zh: {more: 更多,", "zh: {callback-offer-key: 请按1, more: 更多,"),
    ) == [
        "h.yaml:12:71: queues.zh-legal.callback_offer_after: callers without a number would hear the "
        "callback offer they cannot take: add prompts.zh_anonymous.callback-offer-key (what they hear "
        "instead, e.g. a request to hold)"
    ]
    # the offer itself must be there too
    assert problems(("zh-legal: {service_line: legal, language: zh}", offer)) == [
        "h.yaml:12:71: queues.zh-legal.callback_offer_after: prompt 'callback-offer-key' is missing from "
        "prompt set 'zh' (prompts.zh)",
        "h.yaml:12:71: queues.zh-legal.callback_offer_after: callers without a number would hear the "
        "callback offer they cannot take: add prompts.zh_anonymous.callback-offer-key (what they hear "
        "instead, e.g. a request to hold)",
    ]
    text = (
        BASE.replace("zh-legal: {service_line: legal, language: zh}", offer)
        .replace("zh: {more: 更多,", "zh: {callback-offer-key: 请按1, more: 更多,")
        .replace("prompts:\n", "prompts:\n  zh_anonymous: {callback-offer-key: 请稍候}\n")
    )
    assert parse_plan(text, "h.yaml").prompts["zh_anonymous"] == {"callback-offer-key": "请稍候"}


def test_an_anonymous_variant_of_a_prompt_set_that_does_not_exist() -> None:
    assert problems(("prompts:\n", "prompts:\n  en_anonymous: {callback-offer-key: hold on}\n")) == [
        "h.yaml:7:3: prompts.en_anonymous: no prompt set 'en' for this variant of it (callers without a "
        "number hear its sounds, the others come from 'en')"
    ]


def test_option_to_a_queue_that_does_not_exist() -> None:
    assert problems(('"1": {queue: zh-legal}', '"1": {queue: zh-legall}')) == [
        "h.yaml:19:14: ivr.menus.main.options.1: no queue 'zh-legall'"
    ]


def test_option_to_a_language_queue_that_does_not_exist() -> None:
    assert problems(('"1": {queue: zh-legal}', '"1": {queue: "{language}-family"}')) == [
        "h.yaml:19:14: ivr.menus.main.options.1: no queue 'zh-family'"
    ]


def test_unreachable_submenu() -> None:
    assert problems(('        "2": {language: zh, submenu: more}\n', "")) == [
        "h.yaml:20:5: ivr.menus.more: unreachable: no option or after_retries of a menu reached from "
        "ivr.entry 'main' leads to it"
    ]


def test_submenu_that_does_not_exist() -> None:
    assert problems(('"2": {language: zh, submenu: more}', '"2": {language: zh, submenu: mroe}')) == [
        "h.yaml:20:14: ivr.menus.main.options.2: no menu 'mroe'",
        "h.yaml:21:5: ivr.menus.more: unreachable: no option or after_retries of a menu reached from "
        "ivr.entry 'main' leads to it",
    ]


def test_agent_skill_nobody_defined() -> None:
    assert problems(("skills: [legal]", "skills: [legal, psychology]")) == [
        "h.yaml:32:29: agents.1001.skills: nobody defined the service line 'psychology'"
    ]


def test_overlapping_hours() -> None:
    assert problems(('day: {daily: "08:00-20:00"}', 'day: {daily: ["08:00-12:00", "11:00-20:00"]}')) == [
        "h.yaml:27:34: hours.schedules.day.daily: 11:00-20:00 overlaps 08:00-12:00"
    ]


def test_impossible_hours() -> None:
    assert problems(('day: {daily: "08:00-20:00"}', 'day: {daily: "08:00-25:00"}')) == [
        "h.yaml:27:18: hours.schedules.day.daily: 25:00 is not a time of day (00:00 to 24:00)"
    ]


def test_hours_crossing_midnight_are_rejected() -> None:
    assert problems(('day: {daily: "08:00-20:00"}', 'day: {daily: "20:00-02:00"}')) == [
        "h.yaml:27:18: hours.schedules.day.daily: 20:00-02:00 ends before it starts; a window cannot cross "
        "midnight: write 20:00-24:00 on this day and 00:00-02:00 on the next"
    ]


def test_unknown_schedule() -> None:
    assert problems(("  service_lines: {default: day}", "  service_lines: {default: dya}")) == [
        "h.yaml:28:28: hours.service_lines.default: no schedule 'dya' (hours.schedules: 24x7, day)"
    ]


def test_make_up_day_inside_a_holiday_or_on_a_weekday() -> None:
    extra = (
        "  service_lines: {default: day}\n  holidays: {国庆节: 2025-10-01..2025-10-08}\n"
        "  workdays: [2025-10-03, 2025-10-09]"
    )
    assert problems(("  service_lines: {default: day}", extra)) == [
        "h.yaml:30:14: hours.workdays: 2025-10-03 is inside the holiday '国庆节'; it cannot be both",
        "h.yaml:30:26: hours.workdays: 2025-10-09 is a Thursday, already a working day; make-up working days "
        "are Saturdays or Sundays",
    ]


def test_seats_outside_one_to_twenty() -> None:
    assert problems(("seats: {base: 2, max: 4}", "seats: {base: 0, max: 21}")) == [
        "h.yaml:30:15: seats.base must be from 1 to 20, not 0",
        "h.yaml:30:23: seats.max must be from 1 to 20, not 21",
    ]


def test_base_seats_above_maximum() -> None:
    assert problems(("seats: {base: 2, max: 4}", "seats: {base: 9, max: 4}")) == [
        "h.yaml:30:15: seats.base (9) is above seats.max (4)"
    ]


def test_standby_agent_that_does_not_exist() -> None:
    assert problems(("seats: {base: 2, max: 4}", 'seats: {base: 2, max: 4, standby: ["1002"]}')) == [
        "h.yaml:30:35: seats.standby: no agent '1002'"
    ]


def test_transfer_to_an_undefined_external_hotline() -> None:
    assert problems(('"1": {message: info}', '"1": {transfer: "110"}')) == [
        "h.yaml:24:14: ivr.menus.more.options.1: no external hotline '110' (external_hotlines: none defined)"
    ]


def test_duplicate_key() -> None:
    assert problems(("  legal: {name: 法律}", "  legal: {name: 法律}\n  legal: {name: 法}")) == [
        "h.yaml:11:3: service_lines: key 'legal' appears twice"
    ]


def test_queue_overflow_loop() -> None:
    assert problems(
        (
            "  zh-legal: {service_line: legal, language: zh}",
            "  zh-legal: {service_line: legal, language: zh, on_timeout: {queue: zh-b}}\n"
            "  zh-b: {service_line: legal, language: zh, on_timeout: {queue: zh-legal}}",
        ),
    ) == [
        "h.yaml:12:61: queues.zh-legal.on_timeout: overflow from 'zh-legal' comes back to it; "
        "a caller would never leave",
        "h.yaml:13:57: queues.zh-b.on_timeout: overflow from 'zh-b' comes back to it; "
        "a caller would never leave",
    ]


def test_every_problem_at_once_sorted_by_place() -> None:
    found = problems(
        ("skills: [legal]", "skills: [legel]"),
        ('"1": {queue: zh-legal}', '"1": {queue: zh-legall}'),
        ("seats: {base: 2, max: 4}", "seats: {base: 9, max: 4}"),
    )
    assert [p.split(":")[1] for p in found] == ["19", "30", "32"]


def test_cli_check_prints_problems_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "h.yaml"
    bad.write_text(BASE.replace("seats: {base: 2, max: 4}", "seats: {base: 9, max: 4}"), encoding="utf-8")
    assert cli_main(["config", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:30:15: seats.base (9) is above seats.max (4)" in err
    assert "Traceback" not in err
