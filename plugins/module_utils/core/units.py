# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Byte sizes, durations and transfer rates: parse what users write, and print them steadily.

Sizes in:  ``parse_size(4700000000)``, ``parse_size('4.7 GB')``, ``'512MB'``,
``'1.5G'``, ``'8 GiB'`` (the decimal forms are how Ollama prints sizes).
Sizes out: ``format_size(4700000000) == '4.7 GB'``, always one decimal place.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Union

_KILO = 1000
_KIBI = 1024

# Unit (lower case) -> bytes. Decimal units are powers of 1000 as Ollama
# prints them; binary units are powers of 1024 (``Ki`` .. ``Pi`` as in
# Kubernetes are accepted too).
_UNITS = {"": 1, "b": 1}
for _power, _letter in enumerate("kmgtp", start=1):
    _UNITS[_letter] = _KILO**_power
    _UNITS[_letter + "b"] = _KILO**_power
    _UNITS[_letter + "i"] = _KIBI**_power
    _UNITS[_letter + "ib"] = _KIBI**_power

_SIZE_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+) *([A-Za-z]*)")
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
_SCIENTIFIC_RE = re.compile(r"[0-9.][eE][-+]?[0-9]")
_NOT_FINITE = ("nan", "inf", "infinity")

_EXAMPLES = (
    "give a byte count such as 4700000000, or a number and a unit such as '4.7 GB', '512MB', '1.5G' or '8 GiB' "
    "(units B, KB, MB, GB, TB, PB or K, M, G, T, P count in 1000s; KiB, MiB, GiB, TiB, PiB in 1024s; any case)"
)

# format_size: units from the smallest up; the first one in which the value
# stays below 1000.0 is used.
_FORMAT_UNITS = (("KB", _KILO), ("MB", _KILO**2), ("GB", _KILO**3), ("TB", _KILO**4), ("PB", _KILO**5))


class InvalidSize(ValueError):
    """A size that cannot be read; the message quotes it and shows accepted forms."""


def _invalid(value: Any, reason: str) -> InvalidSize:
    return InvalidSize("invalid size %r: %s; %s" % (value, reason, _EXAMPLES))


def _round_half_up(amount: Decimal) -> int:
    """Round a non-negative amount half up to an integer."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _tenths(size: int, factor: int) -> int:
    """size / factor in tenths, rounded half up (integer arithmetic, no float error)."""
    return (size * 10 + factor // 2) // factor


def _describe_char(char: str) -> str:
    names = {" ": "space", "\t": "tab", "\n": "newline", "\r": "carriage return"}
    if char in names:
        return "%r (%s)" % (char, names[char])
    if ord(char) < 32 or ord(char) == 127:
        return "%r (control character)" % char
    if ord(char) > 127:
        return "%r (non-ASCII character)" % char
    return repr(char)


def _parse_size_text(value: str) -> int:
    text = value.strip()
    if not text:
        raise _invalid(value, "the size is empty")
    if text.lower().lstrip("+-") in _NOT_FINITE:
        raise _invalid(value, "%r is not a finite number" % text)
    if text.startswith("-"):
        raise _invalid(value, "a size cannot be negative")
    if "," in text:
        raise _invalid(value, "it contains ',' at position %d; use '.' as the decimal separator and no thousands separators" % value.index(","))
    match = _SIZE_RE.fullmatch(text)
    if match is None:
        if _SCIENTIFIC_RE.search(text):
            raise _invalid(value, "scientific notation is not supported")
        for index, char in enumerate(value):
            if not (char.isascii() and (char.isalnum() or char in ". ")):
                raise _invalid(value, "it contains %s at position %d" % (_describe_char(char), index))
        if len(_NUMBER_RE.findall(text)) > 1:
            raise _invalid(value, "it contains more than one number")
        if not _NUMBER_RE.search(text):
            raise _invalid(value, "it does not start with a number")
        raise _invalid(value, "it is not a number followed by a unit")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise _invalid(value, "unknown unit %r" % unit)
    return _round_half_up(Decimal(number) * factor)


def parse_size(value: Union[int, float, str]) -> int:
    """Return a size in bytes.

    Accepts a non-negative int; a finite, non-negative float; or a string:
    digits with an optional fraction, optional spaces, and an optional unit
    (case-insensitive): ``B``; ``KB MB GB TB PB`` or ``K M G T P`` (powers of
    1000, as Ollama prints sizes); ``KiB MiB GiB TiB PiB`` or ``Ki .. Pi``
    (powers of 1024). Fractions are rounded half up to whole bytes.

    Rejected with InvalidSize: bool, None, lists and other types; negative,
    empty, NaN and infinite values; scientific notation (``1e9``); unknown
    units (``5 GBs``); more than one number; a comma (``1,5 GB``).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _invalid(value, "expected an integer, a number or a string, got %s" % type(value).__name__)
    if isinstance(value, int):
        if value < 0:
            raise _invalid(value, "a size cannot be negative")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _invalid(value, "%r is not a finite number" % value)
        if value < 0:
            raise _invalid(value, "a size cannot be negative")
        return _round_half_up(Decimal(repr(value)))
    return _parse_size_text(value)


def format_size(size: int) -> str:
    """Print a byte count in decimal units (powers of 1000), always with one decimal place.

    This is not Ollama's format.HumanBytes, which drops the decimal at 10 and
    above and for whole values (``'512 MB'``, ``'1 KB'``, ``'1.5 GB'``) and has
    switched between powers of 1000 and 1024 across releases. A fixed decimal
    place keeps messages and facts steady; parse_size reads both forms back.

    Below 1000: ``'0 B'``, ``'999 B'``. From 1000 on: the largest unit
    (KB, MB, GB, TB, PB) in which the value is at least 1, always with one
    decimal place, rounded half up: ``'1.0 KB'``, ``'1.3 MB'``, ``'4.7 GB'``.
    A value that would round to 1000.0 moves up a unit (``'1.0 MB'``, not
    ``'1000.0 KB'``). Raises TypeError for non-integers (bool included) and
    ValueError for negative sizes.
    """
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError("format_size() needs an int number of bytes, got %s" % type(size).__name__)
    if size < 0:
        raise ValueError("format_size() needs a non-negative number of bytes, got %d" % size)
    if size < _KILO:
        return "%d B" % size
    index = 0
    while index < len(_FORMAT_UNITS) - 1 and _tenths(size, _FORMAT_UNITS[index][1]) >= 10000:
        index += 1
    unit, factor = _FORMAT_UNITS[index]
    tenths = _tenths(size, factor)
    return "%d.%d %s" % (tenths // 10, tenths % 10, unit)


def format_duration(seconds: Union[int, float]) -> str:
    """Print a duration compactly, for progress and ETA messages.

    Rounded half up to whole seconds, then: ``'45s'`` (under a minute),
    ``'3m05s'`` (under an hour), ``'1h02m'`` (under a day, seconds
    dropped), ``'2d03h'`` (minutes dropped). Raises TypeError for
    non-numbers (bool included) and ValueError for negative, NaN or
    infinite values.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError("format_duration() needs a number of seconds, got %s" % type(seconds).__name__)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("format_duration() needs a finite, non-negative number of seconds, got %r" % seconds)
    total = int(seconds) if isinstance(seconds, int) else _round_half_up(Decimal(repr(seconds)))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return "%dd%02dh" % (days, hours)
    if hours:
        return "%dh%02dm" % (hours, minutes)
    if minutes:
        return "%dm%02ds" % (minutes, secs)
    return "%ds" % secs


def format_rate(bytes_per_second: Union[int, float]) -> str:
    """Print a transfer rate as :func:`format_size` per second: ``'12.5 MB/s'``, ``'512 B/s'``.

    Raises TypeError for non-numbers (bool included) and ValueError for
    negative, NaN or infinite values.
    """
    if isinstance(bytes_per_second, bool) or not isinstance(bytes_per_second, (int, float)):
        raise TypeError("format_rate() needs a number of bytes per second, got %s" % type(bytes_per_second).__name__)
    if not math.isfinite(bytes_per_second) or bytes_per_second < 0:
        raise ValueError("format_rate() needs a finite, non-negative number of bytes per second, got %r" % bytes_per_second)
    if isinstance(bytes_per_second, float):
        bytes_per_second = _round_half_up(Decimal(repr(bytes_per_second)))
    return "%s/s" % format_size(bytes_per_second)
