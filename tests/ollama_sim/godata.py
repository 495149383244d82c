# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Encodings the way Ollama's Go code produces them.

- ``go_json``: ``encoding/json`` output (compact, ``<``/``>``/``&`` escaped, whole floats
  without ``.0``); ``go_json_line`` adds the newline ``json.Encoder`` writes. Digests of
  config, params and manifest blobs depend on these bytes.
- ``parse_go_duration``: ``time.ParseDuration`` with Go's error texts.
- ``go_time``: RFC 3339 with nanoseconds, as ``time.Time`` marshals.
- ``go_value``: ``fmt`` ``%v`` / ``%#v`` of a JSON value (``ollama show`` parameters).
"""

from __future__ import annotations

import json
import math
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

# the largest time.Duration, in seconds: what a negative keep_alive means
FOREVER_SECONDS = 9223372036.854775807

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_NUMBER = re.compile(r"(\d*)(?:\.(\d*))?")


class GoDurationError(ValueError):
    """time.ParseDuration refused the text; str() is Go's message."""


def _normalize_floats(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value) and value == int(value) and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {key: _normalize_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalize_floats(item) for item in value]
    return value


def go_json(value: Any, sort_keys: bool = False) -> bytes:
    """json.Marshal: compact, HTML characters escaped, 4096.0 written as 4096."""
    text = json.dumps(_normalize_floats(value), ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode("utf-8")


def go_json_line(value: Any, sort_keys: bool = False) -> bytes:
    """json.NewEncoder(w).Encode(v): go_json plus a newline."""
    return go_json(value, sort_keys=sort_keys) + b"\n"


def go_quote(text: str) -> str:
    """strconv.Quote for the texts the simulator quotes (close enough outside control characters)."""
    return json.dumps(text, ensure_ascii=False)


def parse_go_duration(text: str) -> float:
    """time.ParseDuration, in seconds; raises GoDurationError with Go's message."""
    original = text
    negative = False
    if text[:1] in ("-", "+"):
        negative = text[0] == "-"
        text = text[1:]
    if text == "0":
        return 0.0
    if not text:
        raise GoDurationError("time: invalid duration %s" % go_quote(original))
    total = 0.0
    while text:
        match = _NUMBER.match(text)
        whole, frac = (match.group(1), match.group(2)) if match else ("", None)
        if not whole and not frac:
            raise GoDurationError("time: invalid duration %s" % go_quote(original))
        value = float("%s.%s" % (whole or "0", frac or "0"))
        text = text[match.end() :] if match else text
        unit_end = 0
        while unit_end < len(text) and text[unit_end] != "." and not text[unit_end].isdigit():
            unit_end += 1
        unit, text = text[:unit_end], text[unit_end:]
        if not unit:
            raise GoDurationError("time: missing unit in duration %s" % go_quote(original))
        if unit not in _UNITS:
            raise GoDurationError("time: unknown unit %s in duration %s" % (go_quote(unit), go_quote(original)))
        total += value * _UNITS[unit]
    if total > FOREVER_SECONDS:
        raise GoDurationError("time: invalid duration %s" % go_quote(original))
    return -total if negative else total


def go_time(epoch_ns: int | None = None, utc: bool = False) -> str:
    """A time.Time as JSON: RFC 3339, nanoseconds without trailing zeros, Z for UTC."""
    if epoch_ns is None:
        epoch_ns = time.time_ns()
    seconds, nanos = divmod(epoch_ns, 1_000_000_000)
    if utc:
        moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    else:
        moment = (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)).astimezone()
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += ("." + "%09d" % nanos).rstrip("0")
    offset = moment.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return "%s%s%02d:%02d" % (text, sign, minutes // 60, minutes % 60)


def _go_float(value: float) -> str:
    """strconv.FormatFloat(v, 'g', -1, 64), which %v uses for float64."""
    if value == 0:
        return "0"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    sign = "-" if value < 0 else ""
    # the shortest digits that read back as the same value, in scientific form
    sci = "%.16e" % abs(value)
    for precision in range(1, 18):
        candidate = "%.*e" % (precision - 1, abs(value))
        if float(candidate) == abs(value):
            sci = candidate
            break
    head, _sep, exp_text = sci.partition("e")
    exp = int(exp_text)
    digits = head.replace(".", "")
    if exp < -4 or exp >= 6:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return "%s%se%s%02d" % (sign, body, "-" if exp < 0 else "+", abs(exp))
    if exp < 0:
        return "%s0.%s%s" % (sign, "0" * (-exp - 1), digits)
    if len(digits) <= exp + 1:
        return sign + digits + "0" * (exp + 1 - len(digits))
    return "%s%s.%s" % (sign, digits[: exp + 1], digits[exp + 1 :])


def go_value(value: Any, sharp: bool = False) -> str:
    """fmt %v (or %#v with sharp) of a decoded JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _go_float(float(value))
    if isinstance(value, str):
        return go_quote(value) if sharp else value
    if value is None:
        return "<nil>" if not sharp else "interface {}(nil)"
    if isinstance(value, list):
        return "[" + " ".join(go_value(item) for item in value) + "]"
    return json.dumps(value)
