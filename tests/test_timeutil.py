"""The one conversion from a wall-clock time in Asia/Shanghai to the naive UTC stored."""

from datetime import date, datetime, time

from portal.timeutil import local_to_utc, to_local


def test_midnight_in_shanghai_is_four_in_the_afternoon_utc_the_day_before():
    assert local_to_utc(date(2026, 1, 1)) == datetime(2025, 12, 31, 16, 0)


def test_a_time_of_day_round_trips_through_to_local():
    stored = local_to_utc(date(2026, 7, 1), time(9, 30))
    assert stored == datetime(2026, 7, 1, 1, 30)
    assert to_local(stored).strftime("%Y-%m-%d %H:%M") == "2026-07-01 09:30"
