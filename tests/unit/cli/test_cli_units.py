"""Sizes, durations and times as docker prints and parses them."""
from __future__ import annotations

import pytest

from dockyard.cli.units import (bytes_size, format_go_duration, human_duration, human_size, parse_go_duration,
                                parse_timestamp, ram_in_bytes)


@pytest.mark.parametrize("n,prec,want", [(0, 3, "0B"), (1984512, 3, "1.98MB"), (1984512, 4, "1.985MB"),
                                          (4260000, 3, "4.26MB"), (999, 3, "999B"), (1000, 3, "1kB"),
                                          (36412, 4, "36.41kB"), (1122603, 4, "1.123MB"), (10**13, 3, "10TB"),
                                          (1234567, 3, "1.23MB"), (123456789, 3, "123MB")])
def test_human_size(n, prec, want):
    assert human_size(n, prec) == want


@pytest.mark.parametrize("n,want", [(335872, "328KiB"), (25275351040, "23.54GiB"), (512, "512B"), (1536, "1.5KiB")])
def test_bytes_size(n, want):
    assert bytes_size(n) == want


@pytest.mark.parametrize("secs,want", [(0.4, "Less than a second"), (1, "1 second"), (59, "59 seconds"),
                                        (60, "About a minute"), (119, "About a minute"), (120, "2 minutes"),
                                        (3599, "59 minutes"), (3600, "About an hour"), (5399, "About an hour"),
                                        (5400, "2 hours"), (47 * 3600, "47 hours"), (48 * 3600, "2 days"),
                                        (14 * 86400, "2 weeks"), (60 * 86400, "2 months"), (730 * 86400, "2 years")])
def test_human_duration(secs, want):
    assert human_duration(secs) == want


@pytest.mark.parametrize("text,want", [("1024", 1024), ("1k", 1024), ("64m", 64 << 20), ("1.5g", 1610612736),
                                        ("2GB", 2 << 30), ("10MiB", 10 << 20), ("1 k", 1024), ("7b", 7)])
def test_ram_in_bytes(text, want):
    assert ram_in_bytes(text) == want


@pytest.mark.parametrize("text", ["x", "", "1x", "-1", "1.", "m", "1kk"])
def test_ram_in_bytes_errors(text):
    with pytest.raises(ValueError, match=f"invalid size: '{text}'"):
        ram_in_bytes(text)


@pytest.mark.parametrize("text,secs", [("1h30m", 5400), ("2.5s", 2.5), ("300ms", 0.3), ("-1s", -1), ("0", 0),
                                        ("1h2m3s4ms", 3723.004), ("10us", 1e-5)])
def test_go_duration(text, secs):
    assert parse_go_duration(text) == pytest.approx(secs)


@pytest.mark.parametrize("text,msg", [("x", 'time: invalid duration "x"'), ("10", 'time: missing unit in duration "10"'),
                                       ("1y", 'time: unknown unit "y" in duration "1y"')])
def test_go_duration_errors(text, msg):
    with pytest.raises(ValueError) as e:
        parse_go_duration(text)
    assert str(e.value) == msg


@pytest.mark.parametrize("secs,want", [(0, "0s"), (90, "1m30s"), (3723, "1h2m3s"), (0.5, "500ms"), (2.5, "2.5s")])
def test_format_duration(secs, want):
    assert format_go_duration(secs) == want


def test_parse_timestamp():
    assert parse_timestamp("10m", now=1000.0) == "400.000000000"
    assert parse_timestamp("1700000000") == "1700000000.000000000"
    assert parse_timestamp("1700000000.5") == "1700000000.500000000"
    assert parse_timestamp("2023-11-14T22:13:20Z") == "1700000000.000000000"
    assert parse_timestamp("2023-11-14T22:13:20.25Z") == "1700000000.250000000"
    with pytest.raises(ValueError):
        parse_timestamp("yesterday")
