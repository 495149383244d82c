# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for plugins/module_utils/_units.py (sizes, durations, rates)."""

from __future__ import annotations

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.units import (
    InvalidSize,
    format_duration,
    format_rate,
    format_size,
    parse_size,
)

GIB = 1024**3

VALID_SIZES = [
    (0, 0),
    (1, 1),
    (4700000000, 4700000000),
    (10**18, 10**18),
    (1.5, 2),
    (0.4, 0),
    (4.7e9, 4700000000),
    ("0", 0),
    ("123", 123),
    ("  123  ", 123),
    ("4.7 GB", 4700000000),
    ("4.7GB", 4700000000),
    ("4.7  GB", 4700000000),
    ("512MB", 512000000),
    ("512 mb", 512000000),
    ("1.5G", 1500000000),
    ("1.5g", 1500000000),
    ("5 Gb", 5000000000),
    ("5 gB", 5000000000),
    ("1 B", 1),
    ("2.5 b", 3),
    ("1.5", 2),
    ("1K", 1000),
    ("1 KB", 1000),
    ("2 M", 2000000),
    ("3T", 3 * 10**12),
    ("3 TB", 3 * 10**12),
    ("1 P", 10**15),
    ("1 PB", 10**15),
    ("1 KiB", 1024),
    ("1.5 MiB", 1572864),
    ("8 GiB", 8 * GIB),
    ("8 gib", 8 * GIB),
    ("8Gi", 8 * GIB),
    ("1 TiB", 1024**4),
    ("1 PiB", 1024**5),
    (".5k", 500),
    ("0.0005 KB", 1),  # 0.5 bytes rounds half up
    ("0.0004 KB", 0),
    ("1.0000001 GB", 1000000100),
]


@pytest.mark.parametrize(("value", "expected"), VALID_SIZES, ids=[repr(v[0]) for v in VALID_SIZES])
def test_parse_size_valid(value, expected):
    result = parse_size(value)
    assert result == expected
    assert isinstance(result, int)
    assert not isinstance(result, bool)


EXAMPLES = "give a byte count such as 4700000000, or a number and a unit such as '4.7 GB'"

INVALID_SIZES = [
    (-1, "a size cannot be negative"),
    (-0.5, "a size cannot be negative"),
    ("-5 GB", "a size cannot be negative"),
    ("-5", "a size cannot be negative"),
    ("", "the size is empty"),
    ("   ", "the size is empty"),
    ("NaN", "'NaN' is not a finite number"),
    ("nan", "'nan' is not a finite number"),
    ("inf", "'inf' is not a finite number"),
    ("-Infinity", "'-Infinity' is not a finite number"),
    (float("nan"), "nan is not a finite number"),
    (float("inf"), "inf is not a finite number"),
    ("1e9", "scientific notation is not supported"),
    ("1.5E+3 MB", "scientific notation is not supported"),
    ("5 GBs", "unknown unit 'GBs'"),
    ("5 XB", "unknown unit 'XB'"),
    ("5 bytes", "unknown unit 'bytes'"),
    ("5 Gbit", "unknown unit 'Gbit'"),
    ("5 KIBB", "unknown unit 'KIBB'"),
    ("1,5 GB", "it contains ',' at position 1; use '.' as the decimal separator"),
    ("1,000,000", "it contains ',' at position 1"),
    ("1 2", "it contains more than one number"),
    ("1GB 2GB", "it contains more than one number"),
    ("1.2.3 GB", "it contains more than one number"),
    ("GB", "it does not start with a number"),
    ("5 G B", "it is not a number followed by a unit"),
    ("5;rm -rf /", "it contains ';' at position 1"),
    ("5$(id)", "it contains '$' at position 1"),
    ("5\tGB", "it contains '\\t' (tab) at position 1"),
    ("5GB\n6", "it contains '\\n' (newline) at position 3"),
    ("+5GB", "it contains '+' at position 0"),
    ("5_000", "it contains '_' at position 1"),
    ("\u0663 GB", "it contains '\u0663' (non-ASCII character) at position 0"),
    ("5\x00", "it contains '\\x00' (control character) at position 1"),
    (None, "expected an integer, a number or a string, got NoneType"),
    ([1], "expected an integer, a number or a string, got list"),
    ({"size": 1}, "got dict"),
    (True, "got bool"),
    (False, "got bool"),
    (b"5", "got bytes"),
]


@pytest.mark.parametrize(("value", "fragment"), INVALID_SIZES, ids=[repr(v[0]) for v in INVALID_SIZES])
def test_parse_size_invalid(value, fragment):
    with pytest.raises(InvalidSize) as caught:
        parse_size(value)
    message = str(caught.value)
    assert message.startswith("invalid size %r: " % (value,))
    assert fragment in message
    assert EXAMPLES in message
    assert not any(ord(char) < 32 for char in message)
    assert isinstance(caught.value, ValueError)


FORMAT_SIZES = [
    (0, "0 B"),
    (1, "1 B"),
    (999, "999 B"),
    (1000, "1.0 KB"),
    (1024, "1.0 KB"),
    (1049, "1.0 KB"),
    (1050, "1.1 KB"),
    (999949, "999.9 KB"),
    (999950, "1.0 MB"),
    (1300000, "1.3 MB"),
    (512000000, "512.0 MB"),
    (4700000000, "4.7 GB"),
    (4661224676, "4.7 GB"),
    (8 * GIB, "8.6 GB"),
    (999950000000, "1.0 TB"),
    (10**15, "1.0 PB"),
    (10**18, "1000.0 PB"),
    (1234 * 10**15, "1234.0 PB"),
]


@pytest.mark.parametrize(("size", "expected"), FORMAT_SIZES)
def test_format_size(size, expected):
    assert format_size(size) == expected


@pytest.mark.parametrize("text", ["0 B", "999 B", "1.0 KB", "4.7 GB", "1.3 MB", "12.5 TB"])
def test_format_size_round_trip(text):
    assert format_size(parse_size(text)) == text


@pytest.mark.parametrize(("value", "error"), [(-1, ValueError), (1.5, TypeError), ("1", TypeError), (None, TypeError), (True, TypeError)])
def test_format_size_invalid(value, error):
    with pytest.raises(error, match="format_size"):
        format_size(value)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (0.4, "0s"),
        (1, "1s"),
        (45, "45s"),
        (59, "59s"),
        (59.4, "59s"),
        (59.5, "1m00s"),
        (60, "1m00s"),
        (185, "3m05s"),
        (3599, "59m59s"),
        (3600, "1h00m"),
        (3725, "1h02m"),
        (3779, "1h02m"),
        (86399, "23h59m"),
        (86400, "1d00h"),
        (90061, "1d01h"),
        (10 * 86400, "10d00h"),
    ],
)
def test_format_duration(seconds, expected):
    assert format_duration(seconds) == expected


@pytest.mark.parametrize(
    ("value", "error"),
    [(-1, ValueError), (-0.1, ValueError), (float("nan"), ValueError), (float("inf"), ValueError), ("5", TypeError), (None, TypeError), (True, TypeError)],
)
def test_format_duration_invalid(value, error):
    with pytest.raises(error, match="format_duration"):
        format_duration(value)


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (0, "0 B/s"),
        (0.0, "0 B/s"),
        (512, "512 B/s"),
        (999.4, "999 B/s"),
        (1234.5, "1.2 KB/s"),
        (12500000, "12.5 MB/s"),
        (12.5e6, "12.5 MB/s"),
        (1.1e9, "1.1 GB/s"),
    ],
)
def test_format_rate(rate, expected):
    assert format_rate(rate) == expected


@pytest.mark.parametrize(("value", "error"), [(-1, ValueError), (float("nan"), ValueError), (float("inf"), ValueError), ("1", TypeError), (False, TypeError)])
def test_format_rate_invalid(value, error):
    with pytest.raises(error, match="format_rate"):
        format_rate(value)
