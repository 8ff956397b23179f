"""Kazakhstan's working-day calendar: statutory deadlines are computed, never typed.

Public holidays, days off transferred by government decree and the weekend days that
became working days come from the maintained ``holidays`` library (country "KZ"), not
from a hand-kept list. A decree the installed library does not know yet goes into the
``calendar_override`` table; an override always wins over the library.

`WorkingDayCalendar` is pure (no I/O); `load_calendar` builds one from the table.
Periods are counted the way statutes count them: the day of the event is not counted,
the period runs from the next day (see `WorkingDayCalendar.add_working_days`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from kernel.db import UTCDateTime, utcnow
from kernel.problems import invalid

PeriodUnit = Literal["working_days", "calendar_days"]

_ONE_DAY = timedelta(days=1)

# Statutory days are Kazakhstan's days (one time zone, UTC+5, since March 2024).
KAZAKHSTAN = ZoneInfo("Asia/Almaty")


def kazakhstan_now() -> datetime:
    return datetime.now(KAZAKHSTAN)


def kazakhstan_today() -> date:
    return kazakhstan_now().date()


def checked_day(value: date | None, pointer: str, *, not_before: date | None = None, what: str = "") -> date:
    """A date a party says something happened on (default: today): never in the future, and
    not before ``not_before`` (``what`` names it in the answer)."""
    day = value or kazakhstan_today()
    if day > kazakhstan_today():
        raise invalid(pointer, "not_in_future", "the date cannot be in the future")
    if not_before is not None and day < not_before:
        raise invalid(pointer, "not_before", f"the date cannot precede {what} ({not_before.isoformat()})")
    return day


@dataclass(frozen=True, slots=True)
class Period:
    """A statutory period as rule data, e.g. ``Period(3, "working_days")``."""

    length: int
    unit: PeriodUnit

    def __post_init__(self) -> None:
        # Periods come from rule sets (data), so check what the type hints cannot.
        if self.unit not in get_args(PeriodUnit):
            raise ValueError(f"unknown period unit {self.unit!r}")
        if self.length < 1:
            raise ValueError(f"a period lasts at least one day, got {self.length}")


class CalendarOverride(SQLModel, table=True):
    """A day decreed a day off (or a working day) later than the holiday library knows.

    Matches ``calendar_override`` in `kernel.migrations.create_kernel_tables_v1`.
    """

    __tablename__ = "calendar_override"

    day: date = Field(primary_key=True)
    working: bool = Field(description="True: declared a working day; False: declared a day off")
    reason: str = Field(max_length=300)
    source: str | None = Field(default=None, max_length=300, description="e.g. the government decree")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _require_date(value: date) -> date:
    # A datetime is a date subclass; letting one through would silently carry a time of
    # day (and a time zone question) into deadline arithmetic.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"expected a datetime.date, got {type(value).__name__}")
    return value


def _require_positive(n: int) -> int:
    if n < 1:
        raise ValueError(f"a period lasts at least one day, got {n}")
    return n


class WorkingDayCalendar:
    """Working days in Kazakhstan: weekends, public holidays and decreed transfers excluded.

    ``overrides`` maps a day to True (declared a working day) or False (declared a day
    off); an override always wins over the library. Years are loaded lazily by the
    library on first use, so a period may cross any year boundary.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._overrides: dict[date, bool] = dict(overrides or {})
        # expand=True (the default) makes the library load a year the first time a date
        # in it is looked up; years=() loads nothing up front.
        self._holidays = holidays.country_holidays("KZ", years=())

    @property
    def overrides(self) -> Mapping[date, bool]:
        return dict(self._overrides)

    def is_working_day(self, day: date) -> bool:
        _require_date(day)
        if day in self._overrides:
            return self._overrides[day]
        # Outside its supported years the library knows no holidays at all and would
        # silently count only weekends; refuse rather than compute a wrong deadline.
        if not self._holidays.start_year <= day.year <= self._holidays.end_year:
            raise ValueError(f"{day} is outside the years the holiday calendar covers")
        return self._holidays.is_working_day(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day = _require_date(day) + _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        day = _require_date(day) - _ONE_DAY
        while not self.is_working_day(day):
            day -= _ONE_DAY
        return day

    def working_day_on_or_after(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next working day."""
        return day if self.is_working_day(day) else self.next_working_day(day)

    def add_working_days(self, start: date, n: int) -> date:
        """The day on which a period of ``n`` working days from an event on ``start`` ends.

        The day of the event is not counted (it may itself be a day off); the result is
        the n-th working day after ``start``, hence always a working day.
        Raises ValueError for ``n < 1``: a zero-length period in rule data is a mistake.
        """
        day = _require_date(start)
        for _ in range(_require_positive(n)):
            day = self.next_working_day(day)
        return day

    def add_calendar_days(self, start: date, n: int, *, roll_to_working_day: bool = True) -> date:
        """The day on which a period of ``n`` calendar days from an event on ``start`` ends.

        The day of the event is not counted. With ``roll_to_working_day`` (the default) a
        period whose last day is a day off ends on the next working day, the general rule
        for periods in Kazakhstan's Civil Code, art. 178 (verify).
        Raises ValueError for ``n < 1``.
        """
        end = _require_date(start) + timedelta(days=_require_positive(n))
        return self.working_day_on_or_after(end) if roll_to_working_day else end

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``; 0 if ``end <= start``."""
        _require_date(start)
        _require_date(end)
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += _ONE_DAY
        return count

    def deadline(self, start: date, period: Period) -> date:
        """The last day of ``period`` counted from an event on ``start``."""
        if period.unit == "working_days":
            return self.add_working_days(start, period.length)
        return self.add_calendar_days(start, period.length)


async def load_calendar(session: AsyncSession) -> WorkingDayCalendar:
    """A calendar with the overrides stored in ``calendar_override``."""
    result = await session.execute(select(CalendarOverride))
    return WorkingDayCalendar({row.day: row.working for row in result.scalars()})
