"""exp enclosures (checker/exp_bounds.py) against mpmath at 2000 bits (about 600 digits)."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.errors import CertificateError
from checker.exp_bounds import EXP_ARG_LIMIT, ExpRangeError, exp_bounds, exp_dyadic, exp_fixed, exp_interval

MP_PREC = 2000


def mp_of(x: Fraction) -> mpmath.mpf:
    return mpmath.mpf(x.numerator) / x.denominator


def mp_exp(x: Fraction) -> mpmath.mpf:
    with mpmath.workprec(MP_PREC):
        return mpmath.exp(mp_of(x))


def assert_encloses(x: Fraction, lo: Fraction, hi: Fraction) -> None:
    with mpmath.workprec(MP_PREC):
        e = mp_exp(x)
        assert mp_of(lo) <= e <= mp_of(hi), (x, lo, hi)


SPECIAL = [Fraction(0), Fraction(1), Fraction(-1), Fraction(700), Fraction(-700), Fraction(5000), Fraction(-5000),
           Fraction(1, 10**30), Fraction(-1, 10**30), Fraction(EXP_ARG_LIMIT), Fraction(-EXP_ARG_LIMIT),
           Fraction(1, 3), Fraction(-2, 3), Fraction(123456789, 1000003), Fraction(-(2**200) + 1, 2**190),
           Fraction(1, 2**300), Fraction(255, 256), Fraction(-1023, 4)]

rationals = st.one_of(
    st.fractions(min_value=-5000, max_value=5000, max_denominator=10**30),
    st.fractions(min_value=-30, max_value=30, max_denominator=10**6),
    st.builds(lambda num, k: Fraction(num, 10**k), st.integers(-10**6, 10**6), st.integers(10, 60)),  # tiny
    st.builds(Fraction, st.integers(-10**12, 10**12), st.integers(1, 10**12)).filter(lambda x: abs(x) <= EXP_ARG_LIMIT),
    st.sampled_from(SPECIAL),
)


@pytest.mark.parametrize("x", SPECIAL)
@pytest.mark.parametrize("bits", [1, 20, 60, 200])
def test_special_arguments_are_enclosed_with_requested_width(x: Fraction, bits: int) -> None:
    lo, hi = exp_bounds(x, bits)
    assert 0 < lo <= hi
    assert_encloses(x, lo, hi)
    assert (hi - lo) * 2**bits <= lo


@settings(max_examples=300, deadline=None)
@given(rationals, st.integers(1, 160))
def test_random_rationals_are_enclosed_with_requested_width(x: Fraction, bits: int) -> None:
    lo, hi = exp_bounds(x, bits)
    assert 0 < lo <= hi
    assert_encloses(x, lo, hi)
    assert (hi - lo) * 2**bits <= lo


def test_zero_is_exact() -> None:
    assert exp_bounds(Fraction(0), 60) == (1, 1)


@settings(max_examples=100, deadline=None)
@given(rationals, st.integers(1, 100))
def test_dyadic_form_matches_fraction_form(x: Fraction, bits: int) -> None:
    (lm, le), (hm, he) = exp_dyadic(x, bits)
    lo, hi = exp_bounds(x, bits)
    assert lo == Fraction(lm) * Fraction(2) ** le and hi == Fraction(hm) * Fraction(2) ** he


@settings(max_examples=150, deadline=None)
@given(rationals, rationals, st.integers(1, 80))
def test_interval_encloses_both_ends(a: Fraction, b: Fraction, bits: int) -> None:
    a, b = min(a, b), max(a, b)
    lo, hi = exp_interval(a, b, bits)
    assert 0 <= lo <= hi
    with mpmath.workprec(MP_PREC):
        assert mp_of(lo) <= mp_exp(a) and mp_exp(b) <= mp_of(hi)


def test_interval_below_the_range_has_zero_lower_bound() -> None:
    lo, hi = exp_interval(Fraction(-10 * EXP_ARG_LIMIT), Fraction(-2 * EXP_ARG_LIMIT), 30)
    assert lo == 0 and 0 < hi
    assert_encloses(Fraction(-EXP_ARG_LIMIT), Fraction(0), hi)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.fractions(min_value=-60, max_value=40, max_denominator=10**9), st.sampled_from(SPECIAL[:9])),
       st.integers(0, 120))
def test_fixed_point_enclosure_is_within_two_units(x: Fraction, scale: int) -> None:
    lo, hi = exp_fixed(x, scale)
    assert 0 <= lo <= hi <= lo + 2
    with mpmath.workprec(MP_PREC + 8000):
        e = mpmath.exp(mp_of(x)) * mpmath.mpf(2) ** scale
        assert lo <= e <= hi


@pytest.mark.parametrize("x", [Fraction(EXP_ARG_LIMIT + 1), Fraction(-EXP_ARG_LIMIT - 1), Fraction(10**100)])
def test_arguments_beyond_the_limit_raise_a_certificate_error(x: Fraction) -> None:
    with pytest.raises(ExpRangeError) as info:
        exp_bounds(x, 30)
    assert isinstance(info.value, CertificateError)
