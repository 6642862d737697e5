"""1/sqrt(d) and sqrt(x) enclosures (checker/sqrt_bounds.py): exact squared checks and mpmath."""

from __future__ import annotations

from fractions import Fraction
from math import isqrt

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.sqrt_bounds import inv_sqrt_bounds, sqrt_bounds


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.integers(1, 100), st.integers(1, 10**40)), st.integers(1, 300))
def test_inv_sqrt_encloses_with_requested_width(d: int, bits: int) -> None:
    lo, hi = inv_sqrt_bounds(d, bits)
    assert 0 < lo <= hi
    assert lo * lo * d <= 1 <= hi * hi * d  # exact: lo <= 1/sqrt(d) <= hi
    assert (hi - lo) * 2**bits <= lo
    with mpmath.workprec(bits + 200):
        r = 1 / mpmath.sqrt(d)
        assert mpmath.mpf(lo.numerator) / lo.denominator <= r <= mpmath.mpf(hi.numerator) / hi.denominator


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 8, 9, 16, 32, 64, 1000, 4096, 10**6, 10**6 + 1])
def test_inv_sqrt_is_exact_exactly_for_perfect_squares(d: int) -> None:
    lo, hi = inv_sqrt_bounds(d, 60)
    assert (lo == hi) == (isqrt(d) ** 2 == d)
    if lo == hi:
        assert lo == Fraction(1, isqrt(d))


def test_inv_sqrt_32_brackets_sqrt2_over_8() -> None:
    lo, hi = inv_sqrt_bounds(32, 100)
    assert lo < hi and lo * lo * 32 < 1 < hi * hi * 32


@settings(max_examples=300, deadline=None)
@given(st.fractions(min_value=0, max_value=10**30, max_denominator=10**20), st.integers(1, 200))
def test_sqrt_of_rationals_encloses_with_requested_width(x: Fraction, bits: int) -> None:
    lo, hi = sqrt_bounds(x, bits)
    assert 0 <= lo <= hi
    assert lo * lo <= x <= hi * hi
    assert (hi - lo) * 2**bits <= lo
    root_rational = isqrt(x.numerator) ** 2 == x.numerator and isqrt(x.denominator) ** 2 == x.denominator
    assert (lo == hi) == root_rational


@pytest.mark.parametrize("bad", [0, -4])
def test_inv_sqrt_rejects_non_positive(bad: int) -> None:
    with pytest.raises(ValueError):
        inv_sqrt_bounds(bad, 10)
