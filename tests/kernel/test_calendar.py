"""The working-day calendar, checked against dates worked out by hand from the KZ holidays."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import holidays
import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from kernel.calendar import CalendarOverride, Period, WorkingDayCalendar, load_calendar
from kernel.db import create_engine, create_sessionmaker
from kernel.migrations import create_kernel_tables_v1

# One shared instance: the calendar is pure, and sharing it keeps the years the library
# has already loaded (hypothesis runs many examples).
CALENDAR = WorkingDayCalendar()


# --- what the library knows ------------------------------------------------------------

def test_new_year_2025_transfer() -> None:
    assert not CALENDAR.is_working_day(date(2025, 1, 1))
    assert not CALENDAR.is_working_day(date(2025, 1, 2))
    assert not CALENDAR.is_working_day(date(2025, 1, 3))  # Friday, day off moved from Sun 5 Jan
    assert not CALENDAR.is_working_day(date(2025, 1, 4))  # Saturday
    assert CALENDAR.is_working_day(date(2025, 1, 5))  # Sunday, worked instead of 3 Jan
    assert CALENDAR.is_working_day(date(2025, 1, 6))
    assert not CALENDAR.is_working_day(date(2025, 1, 7))  # Orthodox Christmas


def test_nauryz_2026() -> None:
    for day in range(21, 26):  # 21-23 March, plus 24-25 March observed
        assert not CALENDAR.is_working_day(date(2026, 3, day))
    assert CALENDAR.is_working_day(date(2026, 3, 20))
    assert CALENDAR.is_working_day(date(2026, 3, 26))


def test_next_and_previous_working_day() -> None:
    assert CALENDAR.next_working_day(date(2026, 3, 20)) == date(2026, 3, 26)
    assert CALENDAR.previous_working_day(date(2026, 3, 26)) == date(2026, 3, 20)
    assert CALENDAR.next_working_day(date(2025, 1, 3)) == date(2025, 1, 5)
    assert CALENDAR.working_day_on_or_after(date(2026, 3, 20)) == date(2026, 3, 20)
    assert CALENDAR.working_day_on_or_after(date(2026, 3, 21)) == date(2026, 3, 26)


# --- working-day periods --------------------------------------------------------------

def test_three_working_days_across_nauryz_2026() -> None:
    # From Thu 19 March: Fri 20 (1); 21-25 off; Thu 26 (2); Fri 27 (3).
    assert CALENDAR.add_working_days(date(2026, 3, 19), 3) == date(2026, 3, 27)


def test_three_working_days_across_new_year_2025() -> None:
    # From Tue 31 Dec 2024: 1-4 Jan off; Sun 5 (1, worked); Mon 6 (2); Tue 7 off; Wed 8 (3).
    assert CALENDAR.add_working_days(date(2024, 12, 31), 3) == date(2025, 1, 8)


def test_event_on_a_day_off_is_not_counted() -> None:
    # An event on Saturday 21 March 2026: the first working day after it is Thu 26.
    assert CALENDAR.add_working_days(date(2026, 3, 21), 1) == date(2026, 3, 26)


def test_working_days_between() -> None:
    assert CALENDAR.working_days_between(date(2024, 12, 31), date(2025, 1, 8)) == 3
    assert CALENDAR.working_days_between(date(2026, 3, 20), date(2026, 3, 25)) == 0
    assert CALENDAR.working_days_between(date(2026, 3, 27), date(2026, 3, 27)) == 0
    assert CALENDAR.working_days_between(date(2026, 3, 27), date(2026, 3, 19)) == 0


# --- calendar-day periods -------------------------------------------------------------

def test_calendar_days_ending_on_saturday_roll_to_monday() -> None:
    start = date(2026, 6, 1)  # Monday
    assert CALENDAR.add_calendar_days(start, 5) == date(2026, 6, 8)
    assert CALENDAR.add_calendar_days(start, 5, roll_to_working_day=False) == date(2026, 6, 6)


def test_calendar_days_roll_past_holidays() -> None:
    # Ends on Sat 21 March 2026, the first day of Nauryz; next working day is Thu 26.
    assert CALENDAR.add_calendar_days(date(2026, 3, 13), 8) == date(2026, 3, 26)
    # Ends on Tue 16 December 2025, Independence Day.
    assert CALENDAR.add_calendar_days(date(2025, 12, 9), 7) == date(2025, 12, 17)
    # A working last day stays put.
    assert CALENDAR.add_calendar_days(date(2026, 6, 1), 3) == date(2026, 6, 4)


# --- periods as rule data ---------------------------------------------------------------

def test_deadline_from_period() -> None:
    assert CALENDAR.deadline(date(2026, 3, 19), Period(3, "working_days")) == date(2026, 3, 27)
    assert CALENDAR.deadline(date(2026, 3, 13), Period(8, "calendar_days")) == date(2026, 3, 26)


def test_bad_periods_are_refused() -> None:
    with pytest.raises(ValueError):
        Period(0, "working_days")
    with pytest.raises(ValueError):
        Period(3, "weeks")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(date(2026, 3, 19), 0)
    with pytest.raises(ValueError):
        CALENDAR.add_calendar_days(date(2026, 3, 19), 0)


def test_only_dates_in_covered_years() -> None:
    with pytest.raises(TypeError):
        CALENDAR.is_working_day(datetime(2026, 3, 19, 12, 0))
    with pytest.raises(ValueError):
        CALENDAR.is_working_day(date(2101, 1, 3))


# --- overrides ------------------------------------------------------------------------

def test_override_declares_a_weekday_off() -> None:
    monday = date(2026, 6, 8)
    calendar = WorkingDayCalendar({monday: False})
    assert CALENDAR.is_working_day(monday)
    assert not calendar.is_working_day(monday)
    assert calendar.add_calendar_days(date(2026, 6, 1), 5) == date(2026, 6, 9)
    assert calendar.add_working_days(date(2026, 6, 5), 1) == date(2026, 6, 9)


def test_override_declares_a_saturday_working() -> None:
    saturday = date(2026, 6, 6)
    calendar = WorkingDayCalendar({saturday: True})
    assert not CALENDAR.is_working_day(saturday)
    assert calendar.is_working_day(saturday)
    assert calendar.add_working_days(date(2026, 6, 5), 1) == saturday
    assert calendar.add_calendar_days(date(2026, 6, 1), 5) == saturday


def test_override_wins_over_a_library_holiday() -> None:
    calendar = WorkingDayCalendar({date(2025, 1, 3): True, date(2025, 1, 5): False})
    assert calendar.is_working_day(date(2025, 1, 3))
    assert not calendar.is_working_day(date(2025, 1, 5))


# --- properties -------------------------------------------------------------------------

starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
lengths = st.integers(min_value=1, max_value=60)
KZ = holidays.country_holidays("KZ", years=())


@settings(deadline=None)  # the first date in a year loads that year: slower, not wrong
@given(start=starts, n=lengths)
def test_add_working_days_properties(start: date, n: int) -> None:
    end = CALENDAR.add_working_days(start, n)
    assert end > start
    assert CALENDAR.is_working_day(end)
    assert CALENDAR.working_days_between(start, end) == n
    assert CALENDAR.working_days_between(start, CALENDAR.previous_working_day(end)) == n - 1
    # Without overrides the count agrees with the library's own (closed-interval) one.
    assert KZ.get_working_days_count(start + timedelta(days=1), end) == n


@settings(deadline=None)
@given(start=starts, n=lengths)
def test_add_calendar_days_properties(start: date, n: int) -> None:
    end = CALENDAR.add_calendar_days(start, n)
    assert CALENDAR.is_working_day(end)
    assert end >= start + timedelta(days=n)
    # It rolls only over days off.
    assert all(not CALENDAR.is_working_day(start + timedelta(days=k))
               for k in range(n, (end - start).days))


# --- the override table -----------------------------------------------------------------

async def test_load_calendar_reads_overrides(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/cal.db")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all, tables=[CalendarOverride.__table__])
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            session.add(CalendarOverride(day=date(2026, 6, 8), working=False,
                                         reason="Day off moved by decree", source="Decree No. 1 (test)"))
            session.add(CalendarOverride(day=date(2026, 6, 6), working=True, reason="Working Saturday"))
            await session.commit()
        async with sessionmaker() as session:
            calendar = await load_calendar(session)
            stored = await session.get(CalendarOverride, date(2026, 6, 8))
    finally:
        await engine.dispose()

    assert calendar.overrides == {date(2026, 6, 8): False, date(2026, 6, 6): True}
    assert not calendar.is_working_day(date(2026, 6, 8))
    assert calendar.is_working_day(date(2026, 6, 6))
    assert calendar.add_working_days(date(2026, 6, 5), 2) == date(2026, 6, 9)
    assert stored is not None and stored.created_at.tzinfo is not None


async def test_model_matches_the_kernel_migration(tmp_path: Path) -> None:
    def migrate_and_describe(conn: Connection) -> list[tuple[str, bool, bool]]:
        with Operations.context(MigrationContext.configure(conn)):
            create_kernel_tables_v1()
        return [(c["name"], c["nullable"], c["primary_key"] > 0)
                for c in inspect(conn).get_columns("calendar_override")]

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/migrated.db")
    try:
        async with engine.begin() as conn:
            migrated = await conn.run_sync(migrate_and_describe)
        async with create_sessionmaker(engine)() as session:
            session.add(CalendarOverride(day=date(2026, 6, 8), working=False, reason="test"))
            await session.commit()
            calendar = await load_calendar(session)
    finally:
        await engine.dispose()

    modelled = [(c.name, bool(c.nullable), c.primary_key) for c in CalendarOverride.__table__.columns]
    assert sorted(migrated) == sorted(modelled)
    assert not calendar.is_working_day(date(2026, 6, 8))
