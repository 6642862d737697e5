"""A per-check table of certified exp enclosures at the dyadic arguments N * 2^-F.

Claim (docs/proofs/enclosures.md, section 4): ExpTable(F).enclose(N) returns dyadics
((lm, le), (hm, he)) with 0 < lm 2^le <= exp(N 2^-F) <= hm 2^he, for every integer N.

Method: write x = N 2^-F = a + b/256 + r with integers a, 0 <= b < 256 and 0 <= r < 2^-8.
exp(x) = exp(a) exp(b/256) exp(r). The first two factors come from checker.exp_bounds.exp_dyadic,
computed once per distinct a and b and kept in this object (which lives for one check only).
exp(r) is enclosed by its Taylor polynomial: for 0 <= r < 1/2,
  sum_{k<=5} r^k/k!  <=  exp(r)  <=  sum_{k<=5} r^k/k! + 2 r^6/720,
since the tail sum_{k>=6} r^k/k! <= r^6/720 * sum_j r^j <= 2 r^6/720. Each term is computed in
fixed point at 2^-P with floor (lower) or ceiling (upper) rounding. Products of enclosures of
positive numbers are enclosures of the product; mantissas are shortened rounding outward.
"""

from __future__ import annotations

from checker.dyadic import ceil_div, ceil_shift, floor_shift, to_fraction
from checker.exp_bounds import Dyadic, exp_dyadic

P = 72  # fixed-point precision of the Taylor part
KEEP = 48  # significant bits kept in products (rounded outward)
TABLE_BITS = 40  # relative precision requested from exp_dyadic for the tables


def _shorten(m: int, e: int, up: bool) -> Dyadic:
    """m 2^e with at most KEEP significant bits, rounded down (up=False) or up (up=True)."""
    s = m.bit_length() - KEEP
    if s <= 0:
        return m, e
    return (ceil_shift(m, s) if up else floor_shift(m, s)), e + s


class ExpTable:
    """Per-check cache of exp enclosures of integers and of multiples of 1/256."""

    def __init__(self, frac_bits: int):
        if frac_bits < 8:
            raise ValueError("frac_bits must be >= 8")
        self.F = frac_bits
        self._int: dict[int, tuple[Dyadic, Dyadic]] = {}
        self._frac: dict[int, tuple[Dyadic, Dyadic]] = {}

    def _table(self, cache: dict[int, tuple[Dyadic, Dyadic]], num: int, den_bits: int) -> tuple[Dyadic, Dyadic]:
        hit = cache.get(num)
        if hit is None:
            hit = exp_dyadic(to_fraction(num, -den_bits), TABLE_BITS)
            cache[num] = hit
        return hit

    def _taylor(self, j: int) -> tuple[int, int]:
        """(lo, hi) integers with lo <= exp(j 2^-F) 2^P <= hi, for 0 <= j 2^-F < 2^-8."""
        r = j << (P - self.F)  # exact: r 2^-P = j 2^-F
        one = 1 << P
        lo_t, hi_t = one, one
        lo_s, hi_s = one, one
        for k in range(1, 6):
            lo_t = floor_shift(lo_t * r, P) // k
            hi_t = ceil_div(ceil_shift(hi_t * r, P), k)
            lo_s += lo_t
            hi_s += hi_t
        tail = ceil_div(ceil_shift(hi_t * r, P), 6)  # >= r^6/6! * 2^P
        return lo_s, hi_s + 2 * tail + 1

    def enclose(self, N: int) -> tuple[Dyadic, Dyadic]:
        """Dyadic (lo, hi) enclosing exp(N 2^-F)."""
        a = N >> self.F  # floor
        rest = N - (a << self.F)  # 0 <= rest < 2^F
        b = rest >> (self.F - 8)
        j = rest - (b << (self.F - 8))
        (ilm, ile), (ihm, ihe) = self._table(self._int, a, 0)
        (flm, fle), (fhm, fhe) = self._table(self._frac, b, 8)
        tl, th = self._taylor(j)
        return _shorten(ilm * flm * tl, ile + fle - P, False), _shorten(ihm * fhm * th, ihe + fhe - P, True)
