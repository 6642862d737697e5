"""Certified enclosures of exp at rational arguments, in integer arithmetic only.

Claims (proved in docs/proofs/enclosures.md):
- exp_dyadic(x, bits) returns ((lo_m, lo_e), (hi_m, hi_e)) with
  0 < lo_m * 2^lo_e <= exp(x) <= hi_m * 2^hi_e  and  hi - lo <= lo * 2^-bits.
- exp_bounds(x, bits) is the same pair as Fractions (lo, hi).
- exp_interval(a, b, bits) gives lo <= exp(t) <= hi for every t in [a, b] (lo may be 0 when a
  is below -EXP_ARG_LIMIT, where exp(a) has more than ~94,000 leading zero bits).
- exp_fixed(x, scale) gives integers lo <= exp(x) * 2^scale <= hi with hi - lo <= 2: a
  fixed-point enclosure at the absolute scale 2^-scale, for strategies that work in scaled
  integers.

Method, for y = |x| > 0: reduce r = y / 2^k <= 2^-8 (k halvings), round r down and up to
fixed point at scale 2^-p, sum the Taylor series with floor (lower) and ceiling (upper)
divisions, add a rigorous bound of the tail to the upper sum, square k times rounding
outward and keeping p + 2 significant bits, and for x < 0 take reciprocals rounding outward.
The working precision grows (and the computation is repeated) until the requested relative
width is met.
"""

from __future__ import annotations

from fractions import Fraction

from checker.dyadic import ceil_div, ceil_pow2, ceil_shift, floor_pow2, floor_shift, to_fraction
from checker.errors import CertificateError

EXP_ARG_LIMIT = 1 << 16
_REDUCE_BITS = 8  # r = |x| / 2^k <= 2^-_REDUCE_BITS

Dyadic = tuple[int, int]  # (mantissa, exponent): mantissa * 2^exponent


class ExpRangeError(CertificateError):
    """An exp argument beyond +-EXP_ARG_LIMIT: the certificate's numbers are out of the supported range."""

    def __init__(self, x: Fraction):
        super().__init__("weights", f"an exp argument of magnitude above {EXP_ARG_LIMIT} arose (about {int(x)}); scores out of the supported range")


def _exp_pos_fixed(y: Fraction, p: int) -> tuple[Dyadic, Dyadic]:
    """Dyadic (lo, hi) with lo <= exp(y) <= hi for 0 < y <= EXP_ARG_LIMIT, about p significant bits."""
    a, b = y.numerator, y.denominator
    k = max(0, (a // b).bit_length()) + _REDUCE_BITS  # y < 2^bitlen(floor y + ...) so r = y/2^k <= 2^-_REDUCE_BITS
    shift = p - k
    num = a << shift if shift >= 0 else a
    den = b if shift >= 0 else b << -shift
    r_lo = num // den  # r_lo <= r * 2^p
    r_hi = ceil_div(num, den)  # r_hi >= r * 2^p
    one = 1 << p
    # Lower Taylor sum with r_lo, floor divisions: every term is <= r^j / j! * 2^p.
    t, s_lo, j = one, one, 1
    while t:
        t = (t * r_lo >> p) // j
        s_lo += t
        j += 1
    # Upper Taylor sum with r_hi, ceiling divisions: every term is >= r^j / j! * 2^p.
    # The loop stops at a term t_N = 1; the tail sum_{j>N} r^j/j! <= t_N * r/(1-r) <= t_N since r <= 1/2.
    den_p = one
    t, s_hi, j = one, one, 1
    while t > 1:
        den_j = den_p * j
        t = ceil_div(t * r_hi, den_j)
        s_hi += t
        j += 1
    s_hi += t  # tail bound
    lo_m, lo_e, hi_m, hi_e = s_lo, -p, s_hi, -p
    width = p + 2
    for _ in range(k):
        lo_m, lo_e = lo_m * lo_m, 2 * lo_e
        hi_m, hi_e = hi_m * hi_m, 2 * hi_e
        sl = lo_m.bit_length() - width
        if sl > 0:
            lo_m = floor_shift(lo_m, sl)
            lo_e += sl
        sh = hi_m.bit_length() - width
        if sh > 0:
            hi_m = ceil_shift(hi_m, sh)
            hi_e += sh
    return (lo_m, lo_e), (hi_m, hi_e)


def _reciprocal(lo: Dyadic, hi: Dyadic, p: int) -> tuple[Dyadic, Dyadic]:
    """Dyadic (1/hi rounded down, 1/lo rounded up), about p significant bits."""
    (lm, le), (hm, he) = lo, hi
    sh = p + hm.bit_length()
    new_lo = ((1 << sh) // hm, -he - sh)
    sl = p + lm.bit_length()
    new_hi = (ceil_div(1 << sl, lm), -le - sl)
    return new_lo, new_hi


def _width_ok(lo: Dyadic, hi: Dyadic, bits: int) -> bool:
    """hi - lo <= lo * 2^-bits (exact integer comparison)."""
    (lm, le), (hm, he) = lo, hi
    e = min(le, he)
    lm <<= le - e
    hm <<= he - e
    return (hm - lm) << bits <= lm


def exp_dyadic(x: Fraction | int, bits: int) -> tuple[Dyadic, Dyadic]:
    """Dyadic (lo, hi) with 0 < lo <= exp(x) <= hi and hi - lo <= lo * 2^-bits.

    Raises ExpRangeError when |x| > EXP_ARG_LIMIT.
    """
    x = Fraction(x)
    if bits < 1:
        bits = 1
    if x == 0:
        return (1, 0), (1, 0)
    y = -x if x < 0 else x
    if y > EXP_ARG_LIMIT:
        raise ExpRangeError(x)
    k = (y.numerator // y.denominator).bit_length() + _REDUCE_BITS
    p = bits + k + 12
    while True:
        lo, hi = _exp_pos_fixed(y, p)
        if x < 0:
            lo, hi = _reciprocal(lo, hi, p + 2)
        if _width_ok(lo, hi, bits):
            return lo, hi
        p += 16  # pragma: no cover - the first precision is chosen to suffice


def exp_bounds(x: Fraction | int, bits: int) -> tuple[Fraction, Fraction]:
    """Fractions (lo, hi) with 0 < lo <= exp(x) <= hi and hi - lo <= lo * 2^-bits."""
    lo, hi = exp_dyadic(x, bits)
    return to_fraction(*lo), to_fraction(*hi)


def exp_interval(a: Fraction | int, b: Fraction | int, bits: int) -> tuple[Fraction, Fraction]:
    """Fractions (lo, hi) with lo <= exp(t) <= hi for every t in [a, b] (requires a <= b).

    lo = 0 when a < -EXP_ARG_LIMIT; hi uses exp(-EXP_ARG_LIMIT) when b < -EXP_ARG_LIMIT.
    """
    a, b = Fraction(a), Fraction(b)
    if a > b:
        raise ValueError("exp_interval needs a <= b")
    lo = Fraction(0) if a < -EXP_ARG_LIMIT else exp_bounds(a, bits)[0]
    hi = exp_bounds(max(b, Fraction(-EXP_ARG_LIMIT)), bits)[1]
    return lo, hi


def exp_fixed(x: Fraction | int, scale: int) -> tuple[int, int]:
    """Integers (lo, hi) with lo <= exp(x) * 2^scale <= hi and hi - lo <= 2 (scale >= 0).

    Uses 1/ln 2 < 3/2 and ln 2 < 7/10 to pick the relative precision: for x > 0 the value is
    below 2^(3x/2); for x <= -(scale + 1) * 7/10 the value is below 2^-(scale+1), so (0, 1).
    """
    x = Fraction(x)
    if scale < 0:
        raise ValueError("exp_fixed needs scale >= 0")
    if x <= -(scale + 1) * Fraction(7, 10):
        return 0, 1
    extra = ceil_div(3 * x.numerator, 2 * x.denominator) if x > 0 else 0  # ceil(3x/2) >= log2(exp(x))
    lo, hi = exp_dyadic(x, scale + extra + 2)
    (lm, le), (hm, he) = lo, hi
    return floor_pow2(lm, le + scale), ceil_pow2(hm, he + scale)
