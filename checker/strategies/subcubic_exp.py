"""Fast certified exp enclosures at dyadic arguments N * 2^-32, for the subcubic case loop.

Claim: ExpTable(frac_bits).enclose(N) returns dyadics (lo, hi) = ((lm, le), (hm, he)) with
0 < lm 2^le <= exp(N 2^-frac_bits) <= hm 2^he.

Method: write x = N 2^-F = a + b/256 + r with integers a, 0 <= b < 256 and 0 <= r < 2^-8.
exp(x) = exp(a) exp(b/256) exp(r). The first two factors come from checker.exp_bounds.exp_dyadic
(the trusted enclosure), computed once per distinct a and b and kept in this object (which
lives for one check only). exp(r) is enclosed by its Taylor polynomial: for 0 <= r < 1/2,
  sum_{k<=5} r^k/k!  <=  exp(r)  <=  sum_{k<=5} r^k/k! + 2 r^6/720,
since the tail sum_{k>=6} r^k/k! <= r^6/720 * sum_j r^j <= 2 r^6/720. Each term is computed in
fixed point at 2^-P with floor (lower) or ceiling (upper) rounding. Products of enclosures of
positive numbers are enclosures of the product; mantissas are shortened rounding outward.
"""

from __future__ import annotations

from checker.exp_bounds import exp_dyadic

P = 72  # fixed-point precision of the Taylor part
KEEP = 48  # significant bits kept in products (rounded outward)
TABLE_BITS = 40  # relative precision requested from exp_dyadic for the tables


def _shorten_down(m: int, e: int) -> tuple[int, int]:
    s = m.bit_length() - KEEP
    return (m >> s, e + s) if s > 0 else (m, e)


def _shorten_up(m: int, e: int) -> tuple[int, int]:
    s = m.bit_length() - KEEP
    return (-((-m) >> s), e + s) if s > 0 else (m, e)


class ExpTable:
    """Per-check cache of exp enclosures of integers and of multiples of 1/256."""

    def __init__(self, frac_bits: int):
        if frac_bits < 8:
            raise ValueError("frac_bits must be >= 8")
        self.F = frac_bits
        self._int: dict[int, tuple[tuple[int, int], tuple[int, int]]] = {}
        self._frac: dict[int, tuple[tuple[int, int], tuple[int, int]]] = {}

    def _table(self, cache: dict, key: int, num: int, den_bits: int):
        hit = cache.get(key)
        if hit is None:
            from fractions import Fraction

            hit = exp_dyadic(Fraction(num, 1 << den_bits), TABLE_BITS)
            cache[key] = hit
        return hit

    def _taylor(self, j: int) -> tuple[int, int]:
        """(lo, hi) integers with lo <= exp(j 2^-F) 2^P <= hi, for 0 <= j 2^-F < 2^-8."""
        r = j << (P - self.F)  # exact: r 2^-P = j 2^-F
        one = 1 << P
        lo_t, hi_t = one, one
        lo_s, hi_s = one, one
        for k in range(1, 6):
            lo_t = (lo_t * r >> P) // k
            hi_t = -((-(hi_t * r) >> P) // k)
            lo_s += lo_t
            hi_s += hi_t
        tail = -((-(hi_t * r) >> P) // 6)  # >= r^6/6! * 2^P
        return lo_s, hi_s + 2 * tail + 1

    def enclose(self, N: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """Dyadic (lo, hi) enclosing exp(N 2^-F)."""
        a = N >> self.F  # floor
        rest = N - (a << self.F)  # 0 <= rest < 2^F
        b = rest >> (self.F - 8)
        j = rest - (b << (self.F - 8))
        (ilm, ile), (ihm, ihe) = self._table(self._int, a, a, 0)
        (flm, fle), (fhm, fhe) = self._table(self._frac, b, b, 8)
        tl, th = self._taylor(j)
        lo = _shorten_down(ilm * flm * tl, ile + fle - P)
        hi = _shorten_up(ihm * fhm * th, ihe + fhe - P)
        return lo, hi
