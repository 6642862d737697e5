"""Strict validators for JSON values read from a certificate.

Every function either returns the value in the documented Python form or raises
CertificateError(field, message) naming the dotted field path and what was expected.
Integers may be JSON integers or decimal strings ("-123"); booleans, floats, null and any
other spelling are rejected. No function here creates or accepts a float.

Limits (certificates/FORMAT.md, "Limits"): an integer has at most MAX_INT_BITS bits unless
the caller passes explicit bounds lo/hi.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from checker.errors import CertificateError

MAX_INT_BITS = 1024
# A decimal string of more digits than this cannot be a MAX_INT_BITS-bit integer
# (1024 * log10(2) < 309); checked before int() so no huge conversion ever runs.
MAX_INT_DIGITS = 309
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)\Z")


def describe(value: Any) -> str:
    """A short, safe description of a JSON value for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, str):
        s = value if len(value) <= 24 else value[:21] + "..."
        return f"the string {s!r}"
    if isinstance(value, list):
        return f"an array of length {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _range_text(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f" in [{lo}, {hi}]"
    if lo is not None:
        return f" >= {lo}"
    if hi is not None:
        return f" <= {hi}"
    return f" of at most {MAX_INT_BITS} bits"


def _check_range(x: int, field: str, lo: int | None, hi: int | None) -> int:
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise CertificateError(field, f"expected an integer{_range_text(lo, hi)}, got {x if x.bit_length() <= 64 else 'a ' + str(x.bit_length()) + '-bit integer'}")
    if lo is None or hi is None:
        if x.bit_length() > MAX_INT_BITS:
            raise CertificateError(field, f"integer of {x.bit_length()} bits exceeds the limit of {MAX_INT_BITS} bits")
    return x


def expect_int(value: Any, field: str, lo: int | None = None, hi: int | None = None) -> int:
    """The integer denoted by a JSON integer or a canonical decimal string, within [lo, hi].

    Without explicit bounds the integer must have at most MAX_INT_BITS bits.
    """
    if type(value) is int:
        return _check_range(value, field, lo, hi)
    if isinstance(value, str):
        if len(value) > MAX_INT_DIGITS + 1:
            raise CertificateError(field, f"decimal string of {len(value)} characters exceeds the limit of {MAX_INT_BITS} bits")
        if not _DECIMAL.match(value) or value == "-0":
            raise CertificateError(field, f"expected an integer (JSON number or decimal string), got {describe(value)}")
        return _check_range(int(value), field, lo, hi)
    raise CertificateError(field, f"expected an integer{_range_text(lo, hi)}, got {describe(value)}")


def expect_str(value: Any, field: str, choices: Iterable[str] | None = None) -> str:
    """A JSON string, one of ``choices`` if given."""
    if not isinstance(value, str):
        raise CertificateError(field, f"expected a string, got {describe(value)}")
    if choices is not None:
        allowed = tuple(choices)
        if value not in allowed:
            raise CertificateError(field, f"expected one of {', '.join(repr(c) for c in allowed)}, got {describe(value)}")
    return value


def expect_object(value: Any, field: str, required: Iterable[str], optional: Iterable[str] = ()) -> dict[str, Any]:
    """A JSON object having every key of ``required``, and no key outside required + optional."""
    if not isinstance(value, dict):
        raise CertificateError(field, f"expected an object, got {describe(value)}")
    req = tuple(required)
    allowed = set(req) | set(optional)
    for key in value:
        if key not in allowed:
            raise CertificateError(_join(field, key), f"unknown key; expected only {', '.join(sorted(allowed)) or 'no keys'}")
    for key in req:
        if key not in value:
            raise CertificateError(_join(field, key), "missing required key")
    return value


def expect_list(value: Any, field: str, length: int | None = None, max_length: int | None = None) -> list[Any]:
    """A JSON array (of exactly ``length`` items, or at most ``max_length`` items, if given)."""
    if not isinstance(value, list):
        raise CertificateError(field, f"expected an array, got {describe(value)}")
    if length is not None and len(value) != length:
        raise CertificateError(field, f"expected an array of length {length}, got length {len(value)}")
    if max_length is not None and len(value) > max_length:
        raise CertificateError(field, f"expected an array of at most {max_length} items, got {len(value)}")
    return value


def expect_int_list(value: Any, field: str, length: int | None = None, lo: int | None = None, hi: int | None = None) -> list[int]:
    """A JSON array of integers (see expect_int), of the given length if any, each within [lo, hi]."""
    items = expect_list(value, field, length)
    if all(type(x) is int for x in items):  # fast path: plain JSON integers
        if not items:
            return []
        mn, mx = min(items), max(items)
        if (lo is None or mn >= lo) and (hi is None or mx <= hi) and (
            (lo is not None and hi is not None) or max(mn.bit_length(), mx.bit_length()) <= MAX_INT_BITS
        ):
            return list(items)
    return [expect_int(x, f"{field}[{i}]", lo, hi) for i, x in enumerate(items)]


def expect_int_matrix(value: Any, field: str, shape: tuple[int, int], lo: int | None = None, hi: int | None = None) -> list[list[int]]:
    """A JSON array of ``shape[0]`` arrays of ``shape[1]`` integers each (no ragged rows)."""
    rows = expect_list(value, field, shape[0])
    return [expect_int_list(r, f"{field}[{i}]", shape[1], lo, hi) for i, r in enumerate(rows)]


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key
