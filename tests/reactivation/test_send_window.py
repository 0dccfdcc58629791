"""Send windows in the customer's local time: weekdays, weekends, overnight windows, DST, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from reactivation.send_window import SendWindowError, next_send_time, parse_window, zone

BUSINESS = parse_window("Mon-Fri 09:00-17:00")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_inside_the_window_sends_now():
    now = utc(2026, 11, 23, 15, 0)  # Monday 10:00 in New York
    assert next_send_time(now, BUSINESS, NEW_YORK) == now


def test_before_opening_waits_for_local_nine():
    now = utc(2026, 11, 23, 12, 0)  # Monday 07:00 in New York
    assert next_send_time(now, BUSINESS, NEW_YORK) == utc(2026, 11, 23, 14, 0)


def test_friday_evening_waits_for_monday_morning():
    now = utc(2026, 11, 27, 23, 30)  # Friday 18:30 in New York
    assert next_send_time(now, BUSINESS, NEW_YORK) == utc(2026, 11, 30, 14, 0)


def test_the_same_instant_differs_by_customer_timezone():
    now = utc(2026, 11, 23, 8, 0)  # Monday: 09:00 in Berlin, 03:00 in New York
    assert next_send_time(now, BUSINESS, ZoneInfo("Europe/Berlin")) == now
    assert next_send_time(now, BUSINESS, NEW_YORK) == utc(2026, 11, 23, 14, 0)


def test_end_is_exclusive():
    now = utc(2026, 11, 23, 22, 0)  # Monday 17:00 sharp in New York
    assert next_send_time(now, BUSINESS, NEW_YORK) == utc(2026, 11, 24, 14, 0)


def test_across_a_dst_change_local_nine_is_kept():
    # Sunday 8 March 2026: New York moves to EDT (UTC-4). Monday 09:00 local is 13:00 UTC, not 14:00.
    now = utc(2026, 3, 7, 12, 0)  # Saturday
    assert next_send_time(now, BUSINESS, NEW_YORK) == utc(2026, 3, 9, 13, 0)


def test_overnight_window_and_day_lists():
    window = parse_window("Sat,Sun 22:00-02:00")
    assert window.days == frozenset({5, 6}) and window.start == time(22) and window.end == time(2)
    assert next_send_time(utc(2026, 11, 22, 1, 0), window, ZoneInfo("UTC")) == utc(2026, 11, 22, 1, 0)  # Sun 01:00 (Sat night)
    assert next_send_time(utc(2026, 11, 23, 1, 0), window, ZoneInfo("UTC")) == utc(2026, 11, 23, 1, 0)  # Mon 01:00 (Sun night)
    assert next_send_time(utc(2026, 11, 24, 1, 0), window, ZoneInfo("UTC")) == utc(2026, 11, 28, 22, 0)  # Tue -> Sat
    assert parse_window("Fri-Mon 10:00-11:00").days == frozenset({4, 5, 6, 0})


@pytest.mark.parametrize("spec", ["", "always", None, "ANY"])
def test_no_window(spec):
    assert parse_window(spec) is None
    now = utc(2026, 11, 22, 3, 0)
    assert next_send_time(now, None, NEW_YORK) == now


@pytest.mark.parametrize("spec, word", [("Mon-Fri", "time range"), ("Mon-Fry 09:00-17:00", "'Fry'"),
                                        ("Mon-Fri 9:00am-5pm", "'9:00am'"), ("Mon 09:00-09:00", "empty")])
def test_bad_windows_name_the_setting_and_reason(spec, word):
    with pytest.raises(SendWindowError) as err:
        parse_window(spec)
    assert "DORMANT_SEND_WINDOW" in str(err.value) and word in str(err.value)


def test_unknown_customer_timezone_falls_back_to_the_default():
    assert zone("Mars/Olympus", "Europe/Paris") == ZoneInfo("Europe/Paris")
    assert zone(None, "UTC") == ZoneInfo("UTC")
    with pytest.raises(SendWindowError, match="DORMANT_DEFAULT_TIMEZONE"):
        zone("Mars/Olympus", "Nowhere/Special")
