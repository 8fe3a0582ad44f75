"""Business hours: is a service line open at a given moment? Pure functions over :class:`HoursPlan`.

Rules, in order:

1. A line whose schedule is ``24x7`` (or that names no schedule while the default is ``24x7``) is open at
   every moment, public holidays included.
2. ``now`` is read in the plan's time zone (Asia/Shanghai by default); a naive ``now`` is taken as already
   local, so tests can write plain wall-clock times.
3. On a date inside a public holiday (法定节假日) the schedule's ``holiday`` windows apply: closed unless
   the schedule says otherwise.
4. On a make-up working day (调休上班: a Saturday or Sunday the State Council declares a working day) the
   schedule's ``workday`` windows apply, Monday's when it names none.
5. Otherwise the windows of the weekday.

A window is ``[start, end)`` in whole minutes and never crosses midnight: a night service from 20:00 to
02:00 is written as ``20:00-24:00`` on one day and ``00:00-02:00`` on the next, so that a holiday or a
make-up day decides each side of midnight on its own date (the loader rejects ``20:00-02:00``).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from routing.plan import HoursPlan, Schedule, TimeWindow

__all__ = ["DayKind", "day_kind", "is_open", "local_time", "windows_on"]

DayKind = str
"""``"holiday"``, ``"workday"`` (a make-up working day) or ``"weekday"`` (an ordinary day)."""


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def day_kind(hours: HoursPlan, day: date) -> DayKind:
    """Which rule decides ``day``: a public holiday, a make-up working day, or its ordinary weekday."""
    if any(h.first <= day <= h.last for h in hours.holidays):
        return "holiday"
    if day in hours.workdays:
        return "workday"
    return "weekday"


def windows_on(schedule: Schedule, hours: HoursPlan, day: date) -> tuple[TimeWindow, ...]:
    """The open windows of ``schedule`` on ``day`` (holidays and make-up days applied)."""
    if schedule.always_open:
        return (TimeWindow(0, 24 * 60),)
    kind = day_kind(hours, day)
    if kind == "holiday":
        return schedule.holiday
    if kind == "workday":
        return schedule.workday if schedule.workday is not None else schedule.weekdays[0]
    return schedule.weekdays[day.weekday()]


def local_time(hours: HoursPlan, now: datetime) -> datetime:
    """``now`` in the plan's time zone; a naive ``now`` is already local."""
    if now.tzinfo is None:
        return now
    return now.astimezone(_zone(hours.timezone))


def is_open(hours: HoursPlan, service_line: str, now: datetime) -> bool:
    """Is ``service_line`` open at ``now``? See the module's rules."""
    schedule = hours.schedule_for(service_line)
    if schedule is None:
        # 24x7, or a schedule name the loader would have refused: a caller is never turned away by a
        # plan built by hand with a typo.
        return True
    local = local_time(hours, now)
    minute = local.hour * 60 + local.minute
    return any(w.start_minute <= minute < w.end_minute for w in windows_on(schedule, hours, local.date()))
