"""Pure pieces: survey keys, caller numbers, the satisfied keys, app_queue's announcement timetable."""

from __future__ import annotations

from pathlib import Path

from ivr.hours_gate import caller_number
from ivr.menu import IvrResult
from ivr.session import result_variables
from ivr.survey import parse_rating
from pbxsim.announce import AnnounceConfig, WaitAnnouncer, exit_key, parse_announce_option
from pbxsim.channel import Channel
from pbxsim.dialplan import Dialplan
from pbxsim.events import EventBus
from pbxsim.sounds import Sounds
from routing.plan import SurveyPlan, SurveyQuestion


def test_a_rating_is_one_key_within_the_scale() -> None:
    assert parse_rating("4", 5) == 4
    assert parse_rating("5", 5) == 5
    assert [parse_rating(k, 3) for k in ("", "0", "4", "12", "#", "*")] == [None] * 6


def test_anonymous_callers_have_no_number() -> None:
    assert caller_number("13800138000") == "13800138000"
    assert caller_number("+8613800138000") == "+8613800138000"
    assert [caller_number(v) for v in (None, "", "anonymous", "Restricted", "+", " ")] == [None] * 6


def test_satisfied_keys_come_from_the_yaml_or_are_the_top_two() -> None:
    questions = (SurveyQuestion("satisfaction", "p", 5),)
    given = SurveyPlan("i", questions, "t", satisfied=frozenset({1}))  # "1 very satisfied … 3 dissatisfied"
    assert [given.is_satisfied(k) for k in (1, 2, 3)] == [True, False, False]
    default = SurveyPlan("i", questions, "t")
    assert [default.is_satisfied(k) for k in (1, 2, 3, 4, 5)] == [False, False, False, True, True]


async def test_position_on_joining_then_every_interval_and_the_offer_from_joining() -> None:
    cfg = AnnounceConfig()
    for key, value in [
        ("announce-frequency", "30"),
        ("min-announce-frequency", "15"),
        ("announce-holdtime", "yes"),
        ("periodic-announce", "callback-offer-key"),
        ("periodic-announce-frequency", "45"),
    ]:
        assert parse_announce_option(cfg, key, value)
    assert not parse_announce_option(cfg, "strategy", "ringall")
    announcer = WaitAnnouncer(cfg, joined=100.0)
    assert announcer.next_in(100.0) == 0.0
    channel = _channel()
    channel.language = "mn"
    announcer.announce(channel, position=3, holdtime=150, now=100.0, sounds=Sounds())
    assert channel.heard == [
        (
            100.0,
            "mn/queue-thereare&digits:3&mn/queue-callswaiting&mn/queue-holdtime&digits:2&mn/queue-minutes"
            "&mn/queue-thankyou",
        )
    ]
    assert announcer.next_in(100.0) == 30.0
    announcer.announce(channel, position=2, holdtime=0, now=130.0, sounds=Sounds())
    assert channel.heard[-1] == (130.0, "mn/queue-thereare&digits:2&mn/queue-callswaiting&mn/queue-thankyou")
    assert announcer.next_in(130.0) == 15.0  # the offer at 145
    announcer.announce(channel, position=1, holdtime=0, now=145.0, sounds=Sounds())
    assert channel.heard[-1] == (145.0, "mn/callback-offer-key")


async def test_the_exit_key_needs_a_number_matching_the_caller_id_pattern() -> None:
    plan = Dialplan.parse("[exit]\nexten => 1/_[+0123456789].,1,NoOp()\n same => n,Hangup()\n")
    anonymous, withheld = _channel(""), _channel("anonymous")
    known, international = _channel("13800138000"), _channel("+8613800138000")
    for channel in (anonymous, withheld, known, international):
        channel.digits.extend(["9", "1"])
    assert exit_key(plan, "exit", anonymous) is None and anonymous.redirect is None
    assert exit_key(plan, "exit", withheld) is None and withheld.redirect is None
    assert exit_key(plan, "exit", known) == "1" and known.redirect == ("exit", "1", 1)
    assert exit_key(plan, "exit", international) == "1" and international.redirect == ("exit", "1", 1)


def test_a_language_variant_plays_its_own_sounds_and_the_base_language_for_the_rest(tmp_path: Path) -> None:
    # Asterisk main/file.c: LANG_variant/sound, then LANG/sound
    (tmp_path / "zh_anonymous").mkdir()
    (tmp_path / "zh_anonymous" / "callback-offer-key.wav").touch()
    sounds = Sounds(tmp_path)
    assert sounds.lookup("zh_anonymous", "callback-offer-key") == "zh_anonymous/callback-offer-key"
    assert sounds.lookup("zh_anonymous", "queue-youarenext") == "zh/queue-youarenext"
    assert sounds.lookup("zh", "callback-offer-key") == "zh/callback-offer-key"
    assert sounds.lookup("", "beep") == "beep"
    # without the sounds directory no variant file is known: the base language plays
    assert Sounds().lookup("mn_anonymous", "callback-offer-key") == "mn/callback-offer-key"


def test_the_ivr_tells_the_dialplan_about_a_caller_without_a_number() -> None:
    anonymous = IvrResult("zh", "1", "zh-psychology", 0, 600, anonymous=True)
    assert ("HOTLINE_ANONYMOUS", "1") in result_variables(anonymous)
    assert result_variables(anonymous)[-1] == ("HOTLINE_QUEUE", "zh-psychology")  # still set last
    known = IvrResult("zh", "1", "zh-psychology", 0, 600)
    assert "HOTLINE_ANONYMOUS" not in dict(result_variables(known))


def _channel(number: str = "13800138000") -> Channel:
    return Channel(
        EventBus(), "PJSIP/trunk-1", "1.1", "1.1", caller_num=number, caller_name="", context="c", exten="s"
    )
