"""Certified rational enclosures of square roots (integer square root only).

Claims (docs/proofs/enclosures.md):
- inv_sqrt_bounds(d, bits): Fractions lo <= 1/sqrt(d) <= hi, hi - lo <= lo * 2^-bits, and
  lo == hi exactly when d is a perfect square.
- sqrt_bounds(x, bits): Fractions lo <= sqrt(x) <= hi for a rational x >= 0, same width
  guarantee, lo == hi exactly when sqrt(x) is rational.
Both rest on s = isqrt(N) satisfying s^2 <= N < (s + 1)^2.
"""

from __future__ import annotations

from fractions import Fraction
from math import isqrt


def _sqrt_int_scaled(n: int, bits: int) -> tuple[int, int, int]:
    """(s, s_hi, k) with s * 2^-k <= sqrt(n) <= s_hi * 2^-k, s_hi - s <= s * 2^-bits (n >= 1)."""
    s = isqrt(n)
    if s * s == n:
        return s, s, 0
    k = max(0, bits + 1 - (s.bit_length() - 1))
    while True:
        s = isqrt(n << (2 * k))  # s^2 <= n 4^k < (s+1)^2
        if 1 << bits <= s:  # (s+1) - s = 1 <= s * 2^-bits
            return s, s + 1, k
        k += 1  # pragma: no cover - the first k is chosen to suffice


def inv_sqrt_bounds(d: int, bits: int) -> tuple[Fraction, Fraction]:
    """Fractions (lo, hi): lo <= 1/sqrt(d) <= hi, hi - lo <= lo * 2^-bits; lo == hi iff d is a square.

    1/sqrt(d) = sqrt(d) / d, and sqrt(d) lies in [s, s + 1] / 2^k with s = isqrt(d 4^k).
    """
    if type(d) is not int or d < 1:
        raise ValueError("inv_sqrt_bounds needs a positive integer")
    s, s_hi, k = _sqrt_int_scaled(d, max(bits, 1))
    if s == s_hi:
        return Fraction(1, s), Fraction(1, s)
    return Fraction(s, d << k), Fraction(s_hi, d << k)


def sqrt_bounds(x: Fraction | int, bits: int) -> tuple[Fraction, Fraction]:
    """Fractions (lo, hi): lo <= sqrt(x) <= hi, hi - lo <= lo * 2^-bits (x >= 0); exact when sqrt(x) is rational.

    sqrt(a/b) = sqrt(a b) / b.
    """
    x = Fraction(x)
    if x < 0:
        raise ValueError("sqrt_bounds needs x >= 0")
    if x == 0:
        return Fraction(0), Fraction(0)
    a, b = x.numerator, x.denominator
    s, s_hi, k = _sqrt_int_scaled(a * b, max(bits, 1))
    return Fraction(s, b << k), Fraction(s_hi, b << k)
