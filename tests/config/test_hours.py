"""Business hours (routing/hours.py): weekdays, the 2025 holidays and make-up working days, 7x24 lines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from callcenter.config.loader import load_plan
from callcenter.settings import PROJECT_ROOT
from routing.hours import day_kind, is_open, windows_on
from routing.plan import HoursPlan, Schedule, TimeWindow

GD = load_plan(PROJECT_ROOT / "config" / "guangdong.yaml").hours
IM = load_plan(PROJECT_ROOT / "config" / "hotline.yaml").hours


def at(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}")


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2025-03-03 07:59", False),  # Monday, before opening
        ("2025-03-03 08:00", True),  # opening minute
        ("2025-03-03 19:59", True),  # last minute
        ("2025-03-03 20:00", False),  # closing is exclusive
        ("2025-03-08 12:00", True),  # an ordinary Saturday: daily hours
        ("2025-03-09 23:59", False),
    ],
)
def test_twelve_hour_line_on_ordinary_days(when: str, expected: bool) -> None:
    assert is_open(GD, "legal", datetime.fromisoformat(when)) is expected


@pytest.mark.parametrize("day", [f"2025-10-0{d}" for d in range(1, 9)])
def test_national_day_week_is_closed(day: str) -> None:
    assert day_kind(GD, date.fromisoformat(day)) == "holiday"
    assert not is_open(GD, "psychology", at(day, "10:00"))


@pytest.mark.parametrize("day", ["2025-09-28", "2025-10-11"])  # Sunday and Saturday made working days
def test_make_up_working_days_open_with_mondays_hours(day: str) -> None:
    assert day_kind(GD, date.fromisoformat(day)) == "workday"
    assert is_open(GD, "legal", at(day, "08:00"))
    assert not is_open(GD, "legal", at(day, "20:00"))


def test_days_around_national_day() -> None:
    assert is_open(GD, "legal", at("2025-09-30", "19:59"))  # Tuesday before
    assert not is_open(GD, "legal", at("2025-10-08", "19:59"))  # last day of the holiday
    assert is_open(GD, "legal", at("2025-10-09", "08:00"))  # Thursday after


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-01-26", True),  # Sunday, make-up working day
        ("2025-01-27", True),  # Monday before the holiday
        ("2025-01-28", False),  # New Year's Eve, first day of the holiday
        ("2025-01-29", False),  # 春节
        ("2025-02-04", False),  # last day
        ("2025-02-05", True),
        ("2025-02-08", True),  # Saturday, make-up working day
    ],
)
def test_spring_festival(day: str, expected: bool) -> None:
    assert is_open(GD, "family", at(day, "12:00")) is expected


@pytest.mark.parametrize(
    "when", ["2025-01-29 03:00", "2025-10-01 00:00", "2025-03-03 23:59", "2025-03-09 05:00"]
)
def test_seven_by_twenty_four_lines_never_close(when: str) -> None:
    moment = datetime.fromisoformat(when)
    assert is_open(GD, "crisis", moment)  # the crisis line of a 12 h hotline
    assert is_open(IM, "legal", moment)  # every line of the Inner Mongolia hotline


def test_an_aware_moment_is_read_in_the_plan_time_zone() -> None:
    # 00:30 UTC is 08:30 in Beijing: open; 12:30 UTC is 20:30: closed.
    assert is_open(GD, "legal", datetime(2025, 3, 3, 0, 30, tzinfo=UTC))
    assert not is_open(GD, "legal", datetime(2025, 3, 3, 12, 30, tzinfo=UTC))
    # 2025-09-30 16:30 UTC is already 2025-10-01 00:30 in Beijing: the holiday.
    night = HoursPlan(
        schedules=(Schedule("n", weekdays=((TimeWindow(0, 1440),),) * 7),),
        default_schedule="n",
        holidays=GD.holidays,
    )
    assert not is_open(night, "x", datetime(2025, 9, 30, 16, 30, tzinfo=UTC))
    assert is_open(night, "x", datetime(2025, 9, 30, 15, 59, tzinfo=UTC))


def test_overnight_service_split_at_midnight() -> None:
    # 20:00-02:00 is written 20:00-24:00 and 00:00-02:00; each side follows its own date's rule.
    evening, morning = TimeWindow(20 * 60, 1440), TimeWindow(0, 120)
    night = Schedule("night", weekdays=((morning, evening),) * 7)
    hours = HoursPlan(schedules=(night,), default_schedule="night", holidays=GD.holidays)
    assert is_open(hours, "x", at("2025-03-03", "23:59"))
    assert is_open(hours, "x", at("2025-03-04", "01:59"))
    assert not is_open(hours, "x", at("2025-03-04", "02:00"))
    assert is_open(hours, "x", at("2025-09-30", "23:00"))
    assert not is_open(hours, "x", at("2025-10-01", "01:00"))  # the holiday morning is closed


def test_holiday_and_workday_windows_of_a_schedule() -> None:
    s = Schedule(
        "s",
        weekdays=((TimeWindow(480, 1080),),) * 5 + ((),) * 2,
        holiday=(TimeWindow(600, 720),),
        workday=(TimeWindow(540, 1020),),
    )
    hours = HoursPlan(schedules=(s,), default_schedule="s", holidays=GD.holidays, workdays=GD.workdays)
    assert windows_on(s, hours, date(2025, 10, 2)) == (TimeWindow(600, 720),)
    assert windows_on(s, hours, date(2025, 10, 11)) == (TimeWindow(540, 1020),)
    assert windows_on(s, hours, date(2025, 10, 12)) == ()  # an ordinary Sunday
    assert is_open(hours, "x", at("2025-10-02", "10:00"))
    assert not is_open(hours, "x", at("2025-10-02", "12:00"))


def test_named_line_uses_its_schedule_and_unknown_schedules_stay_open() -> None:
    assert GD.schedule_for("crisis") is None
    assert GD.schedule_for("legal") is not None and GD.schedule_for("legal").name == "day12"  # type: ignore[union-attr]
    assert is_open(HoursPlan(default_schedule="missing"), "x", at("2025-10-01", "03:00"))
    assert is_open(HoursPlan(), "anything", at("2025-10-01", "03:00"))


def test_every_minute_of_a_week_agrees_with_the_rule() -> None:
    start = at("2025-03-03", "00:00")
    for minute in range(7 * 24 * 60):
        moment = start + timedelta(minutes=minute)
        expected = 8 * 60 <= moment.hour * 60 + moment.minute < 20 * 60
        assert is_open(GD, "legal", moment) is expected, moment
