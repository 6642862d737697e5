"""Fixed-point enclosures used by the brute-force check (docs/proofs/brute_force.md, sections 2-4).

Everything here is exact integer arithmetic; numpy int64 arrays are used only for integer
vectorisation, and every quantity that enters an int64 array is bounded first (the bounds
are asserted from the actual data, not assumed).

Claims established:
- ``attention_factors(paths, q, rho_lo, rho_hi, ops)``: integer arrays (lo, hi, e) with
  lo[i] 2^-e[i] <= exp(rho (S[i] - max S)) <= hi[i] 2^-e[i] for the rows S = EQKE[q, :] (tokens)
  and S = EQKP[q, :] (positions), for every rho in [rho_lo, rho_hi]; 0 <= lo <= hi <= 2^FACTOR_BITS.
- ``logit_tables(paths, n, ops)``: floor((M - row minimum) 2^g) for M = EUPU, EVOU, PVOU,
  with a scale g chosen so that every product and sum formed from them fits in int64.
- ``BlockTables(fac, tabs, q, m, ops)``: for a query q and a max m, an integer table with
      C w_p(t) h_p(x_j) 2^g <= T_hi[p, j, t]
  for every position p, key token t <= m and competitor x_j != m, where
  w_p(t) = exp(rho (EQKE[q,t] + EQKP[q,p])), h_p(x) is the logit difference of semantics.md
  for a sequence with query q, max m and t_p = t, and C > 0 is one constant for the group
  (and on demand the lower table T_lo with T_lo[p, j, t] <= C w_p(t) h_p(x_j) 2^g).
- ``rows_bounds(...)``: the same with lower and upper bounds for given sequences, with one
  positive constant per sequence (higher relative precision for the sequence's own weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from checker.dyadic import DMatrix, ceil_div, ceil_pow2, ceil_shift, floor_pow2, floor_shift, to_fraction
from checker.exp_bounds import EXP_ARG_LIMIT, exp_dyadic
from checker.ops import OpCounter
from checker.paths import ExactPaths

FACTOR_BITS = 30  # mantissa width of one attention factor: products of two fit in 2^60
EXP_BITS = 36  # relative precision requested from each exp enclosure (FACTOR_BITS + 6)
SQRT_BITS = 96  # relative precision of the enclosure of 1/sqrt(d_head)
INT64_LIMIT = 1 << 62  # every int64 magnitude formed here stays below this (2^63 is the hard limit)


GAP_BITS = 40  # 1 + delta >= (2^GAP_BITS - D) / 2^GAP_BITS with D = ceil(|delta| 2^GAP_BITS)


def factor_enclosure(y: Fraction, rho_lo: Fraction, rho_hi: Fraction) -> tuple[int, int, int]:
    """Integers (a, b, e) with a 2^-e <= exp(rho y) <= b 2^-e for every rho in [rho_lo, rho_hi].

    Requires y <= 0 and 0 < rho_lo <= rho_hi. Guarantees 0 <= a <= b <= 2^FACTOR_BITS.
    One exp enclosure, at rho_lo y: exp(rho y) <= exp(rho_lo y) (y <= 0), and
    exp(rho y) >= exp(rho_hi y) = exp(rho_lo y) exp(delta) >= exp(rho_lo y) (1 + delta) with
    delta = (rho_hi - rho_lo) y <= 0 (exp(z) >= 1 + z for all real z); the factor 1 + delta is
    bounded below by (2^GAP_BITS - D) 2^-GAP_BITS, D = ceil(-delta 2^GAP_BITS), or by 0.
    """
    if y > 0 or rho_lo <= 0 or rho_hi < rho_lo:
        raise ValueError("factor_enclosure needs y <= 0 < rho_lo <= rho_hi")
    x = rho_lo * y
    if x < -EXP_ARG_LIMIT:  # exp(x) is below exp(-EXP_ARG_LIMIT): upper bound only, lower bound 0
        lo_d, hi_d = None, exp_dyadic(-EXP_ARG_LIMIT, EXP_BITS)[1]
    else:
        lo_d, hi_d = exp_dyadic(x, EXP_BITS)
    hm, he = hi_d
    sh = FACTOR_BITS - hm.bit_length()  # hm 2^sh lies in [2^(FACTOR_BITS-1), 2^FACTOR_BITS)
    e = sh - he
    b = ceil_pow2(hm, sh)  # ceil(hi 2^e) <= 2^FACTOR_BITS
    if lo_d is None:
        return 0, b, e
    delta = (rho_hi - rho_lo) * -y  # = -delta >= 0
    D = ceil_div(delta.numerator << GAP_BITS, delta.denominator)  # ceil(-delta 2^GAP_BITS)
    if D >= 1 << GAP_BITS:
        return 0, b, e
    lm, le = lo_d
    num = lm * ((1 << GAP_BITS) - D)  # lower bound = num 2^(le - GAP_BITS)
    s2 = le - GAP_BITS + e
    a = floor_pow2(num, s2)
    return a, b, e


@dataclass(frozen=True)
class Factors:
    """lo[i] 2^-e[i] <= factor_i <= hi[i] 2^-e[i] (int64 arrays, 0 <= lo <= hi <= 2^FACTOR_BITS)."""

    lo: np.ndarray
    hi: np.ndarray
    e: np.ndarray


def _row_factors(row: tuple[int, ...], exp: int, rho_lo: Fraction, rho_hi: Fraction, ops: OpCounter) -> Factors:
    """Enclosures of exp(rho (row[i] - max row) 2^exp) for every rho in [rho_lo, rho_hi] (rho_lo > 0)."""
    top = max(row)
    unit = to_fraction(1, exp)
    los, his, es = [], [], []
    for r in row:
        a, b, e = factor_enclosure((r - top) * unit, rho_lo, rho_hi)  # argument exact, <= 0
        los.append(a)
        his.append(b)
        es.append(e)
    # counted: the max (len-1 compares); per entry one subtraction, the products with rho and
    # the gap, one exp enclosure and the lower-bound correction
    ops.add(len(row) - 1 + 6 * len(row))
    return Factors(np.array(los, dtype=np.int64), np.array(his, dtype=np.int64), np.array(es, dtype=np.int64))


@dataclass(frozen=True)
class QueryFactors:
    """Attention factors of one query q: ``tok`` indexed by key token t, ``pos`` by position p."""

    tok: Factors
    pos: Factors


def attention_factors(paths: ExactPaths, q: int, rho_lo: Fraction, rho_hi: Fraction, ops: OpCounter) -> QueryFactors:
    """Enclosures of exp(rho (EQKE[q,t] - max_t EQKE[q,t])) and exp(rho (EQKP[q,p] - max_p EQKP[q,p])).

    Since exp(rho (EQKE[q,t] + EQKP[q,p])) = K_q * tok(t) * pos(p) with the constant
    K_q = exp(rho (max EQKE[q] + max EQKP[q])) > 0, these two vectors determine every attention
    weight of query q up to one positive factor.
    """
    return QueryFactors(
        tok=_row_factors(paths.EQKE.rows[q], paths.EQKE.exp, rho_lo, rho_hi, ops),
        pos=_row_factors(paths.EQKP.rows[q], paths.EQKP.exp, rho_lo, rho_hi, ops),
    )


def _floor_matrix(M: DMatrix, g: int) -> np.ndarray:
    """floor((M[i,j] - min_j M[i,j]) 2^g) entrywise as int64 (each row shifted by its own minimum).

    Only differences within a row are ever used, and a row shift cancels in them; the entries
    lie in [0, range 2^g], asserted below INT64_LIMIT.
    """
    s = M.exp + g
    rows = []
    for r in M.rows:
        lo = min(r)
        rows.append([floor_pow2(x - lo, s) for x in r])
    if max(max(r) for r in rows) >= INT64_LIMIT:
        raise OverflowError("brute-force: a fixed-point logit entry does not fit in int64")
    return np.array(rows, dtype=np.int64).reshape(M.shape)


def _max_row_range(M: DMatrix) -> Fraction:
    """max_i (max_j M[i,j] - min_j M[i,j]), exactly."""
    r = max(max(row) - min(row) for row in M.rows)
    return to_fraction(r, M.exp)


@dataclass(frozen=True)
class LogitTables:
    """EU, EV, PV = floor((M - row min) 2^g) for M = EUPU, EVOU, PVOU (int64); ``hbound`` >= |h_f|.

    ``hbound`` is an exact integer bound on every fixed-point difference
    h_f = (EU[q,x]-EU[q,m]) + (EV[t,x]-EV[t,m]) + (PV[p,x]-PV[p,m]); ``weight_bits`` = F.
    """

    EU: np.ndarray
    EV: np.ndarray
    PV: np.ndarray
    g: int
    weight_bits: int
    hbound: int


ROUNDING_SLACK = 3  # |h 2^g - h_f| < 3: each of the three floor differences is off by less than 1


def weight_bits_for(n: int) -> int:
    """F: the fixed-point width of block weights, balanced against the logit scale (see the doc, 4)."""
    nb = max(1, (n - 1).bit_length())  # n <= 2^nb
    return (60 - nb) // 2


def choose_scale(R: Fraction, n: int, F: int) -> int:
    """The fixed-point exponent g of the logit tables: the largest g with R 2^g <= 2^L, L = 58 - nb - F.

    Then n 2^F (R 2^g + 6) <= 2^(nb + F) 2^(L + 1) = 2^(59) < INT64_LIMIT whenever 2^L >= 6.
    """
    nb = max(1, (n - 1).bit_length())
    L = 62 - nb - F - 4
    if L < 3:
        raise OverflowError(f"brute-force: n_ctx = {n} leaves no room for int64 fixed point")
    g = L - (R.numerator.bit_length() - R.denominator.bit_length() + 1) if R > 0 else L
    while R * Fraction(2) ** g > (1 << L):  # the bit-length guess may be one too large
        g -= 1
    return g


def logit_tables(paths: ExactPaths, n: int, ops: OpCounter) -> LogitTables:
    """Fixed-point logit tables with a scale g such that n 2^F (hbound + 3) < INT64_LIMIT.

    Proof of the bound: |h 2^g| <= R 2^g with R the sum of the three maximal row ranges, and
    |h_f - h 2^g| < 3, so |h_f| <= R 2^g + 3 (choose_scale keeps R 2^g <= 2^L); the final bound
    is re-checked from the integer tables, so a wrong scale raises instead of overflowing.
    """
    F = weight_bits_for(n)
    R = _max_row_range(paths.EUPU) + _max_row_range(paths.EVOU) + _max_row_range(paths.PVOU)
    ops.add(3 * (paths.EUPU.shape[0] + paths.EVOU.shape[0] + paths.PVOU.shape[0]))
    g = choose_scale(R, n, F)
    EU, EV, PV = (_floor_matrix(M, g) for M in (paths.EUPU, paths.EVOU, paths.PVOU))
    ops.add(EU.size + EV.size + PV.size)
    # exact bound from the integer tables: |h_f| <= sum of the three maximal row ranges
    hb = sum(int((A.max(axis=1) - A.min(axis=1)).max()) for A in (EU, EV, PV))
    if n * (1 << F) * (hb + ROUNDING_SLACK) >= INT64_LIMIT:
        raise OverflowError("brute-force: fixed-point scale too large for int64 (internal error)")
    return LogitTables(EU, EV, PV, g, F, hb)


def _shift_to_fixed(Wl: np.ndarray, Wh: np.ndarray, E: np.ndarray, Emin: np.ndarray, F: int) -> tuple[np.ndarray, np.ndarray]:
    """floor / ceil of W 2^-(E - Emin + 60 - F): a fixed-point scale shared by entries with the same Emin.

    Requires 0 <= Wl <= Wh <= 2^60 and E >= Emin; then the results lie in [0, 2^F].
    """
    s = E - Emin + (2 * FACTOR_BITS - F)
    np.minimum(s, 62, out=s)  # every product is <= 2^60 < 2^62, so a shift by 62 gives floor 0 / ceil 0 or 1
    wl = floor_shift(Wl, s)
    wh = ceil_shift(Wh, s)
    if wh.size and (int(wh.max()) > (1 << F) or int(wl.min()) < 0):
        raise OverflowError("brute-force: block weight out of range (internal error)")
    return wl, wh


def block_weights(fac: QueryFactors, m: int, F: int, ops: OpCounter) -> tuple[np.ndarray, np.ndarray]:
    """Integer arrays wl, wh [n, m+1] with wl[p,t] <= C w_p(t) <= wh[p,t] <= 2^F for one constant C > 0.

    Products of two factors are at most 2^(2 FACTOR_BITS) = 2^60 (exact in int64) with exponent
    e_tok[t] + e_pos[p]; all are shifted right by (exponent - min exponent + 60 - F), rounding
    down for wl and up for wh, i.e. multiplied by the common 2^-(60 - F - min exponent).
    """
    tl, th, te = fac.tok.lo[: m + 1], fac.tok.hi[: m + 1], fac.tok.e[: m + 1]
    pl, ph, pe = fac.pos.lo, fac.pos.hi, fac.pos.e
    E = pe[:, None] + te[None, :]
    ops.add(4 * E.size)
    return _shift_to_fixed(pl[:, None] * tl[None, :], ph[:, None] * th[None, :], E, E.min(), F)


def row_weights(fac: QueryFactors, tokens: np.ndarray, F: int, ops: OpCounter) -> tuple[np.ndarray, np.ndarray]:
    """Integer arrays wl, wh [rows, n] with wl[r,p] <= C_r w_p(t_p) <= wh[r,p] <= 2^F, C_r > 0 per sequence r.

    The same as block_weights, but normalised per sequence (row), so the largest weight of every
    sequence keeps F bits whatever the other tokens of the group do.
    """
    tl, th, te = fac.tok.lo[tokens], fac.tok.hi[tokens], fac.tok.e[tokens]
    E = te + fac.pos.e[None, :]
    ops.add(4 * E.size)
    return _shift_to_fixed(tl * fac.pos.lo[None, :], th * fac.pos.hi[None, :], E, E.min(axis=1, keepdims=True), F)


@dataclass(frozen=True)
class BlockDiffs:
    """Fixed-point logit differences of group (q, m): h_f[p, t, j] = du[j] + dv[t, j] + dp[p, j]."""

    cols: np.ndarray  # competitors x_j != m, increasing
    du: np.ndarray  # [v-1]   EU[q, x_j] - EU[q, m]
    dv: np.ndarray  # [m+1, v-1]  EV[t, x_j] - EV[t, m]
    dp: np.ndarray  # [n, v-1]  PV[p, x_j] - PV[p, m]


def block_diffs(tabs: LogitTables, q: int, m: int, ops: OpCounter) -> BlockDiffs:
    """The fixed-point differences of group (q, m); |h_f| <= tabs.hbound and |h 2^g - h_f| < 3."""
    v = tabs.EU.shape[1]
    cols = np.concatenate([np.arange(m), np.arange(m + 1, v)])
    du = tabs.EU[q, cols] - tabs.EU[q, m]
    dv = tabs.EV[: m + 1, cols] - tabs.EV[: m + 1, m : m + 1]
    dp = tabs.PV[:, cols] - tabs.PV[:, m : m + 1]
    ops.add(du.size + dv.size + dp.size)
    return BlockDiffs(cols, du, dv, dp)


def product_upper(wl: np.ndarray, wh: np.ndarray, hf: np.ndarray) -> np.ndarray:
    """U >= w h 2^g for w in [wl, wh] (w > 0) and h 2^g < hf + 3: wh (hf+3) if hf+3 >= 0 else wl (hf+3)."""
    hu = hf + ROUNDING_SLACK
    return np.where(hu >= 0, wh * hu, wl * hu)


def product_lower(wl: np.ndarray, wh: np.ndarray, hf: np.ndarray) -> np.ndarray:
    """L <= w h 2^g for w in [wl, wh] (w > 0) and h 2^g > hf - 3: wl (hf-3) if hf-3 >= 0 else wh (hf-3)."""
    hl = hf - ROUNDING_SLACK
    return np.where(hl >= 0, wl * hl, wh * hl)


class BlockTables:
    """Tables of group (q, m), competitor-major: T_hi [n, v-1, m+1] with
    C w_p(t) h_p(x_j) 2^g <= T_hi[p, j, t], and on demand T_lo <= the same (one constant C > 0 per
    group). The sweep forms sums along the token axis, which is contiguous.
    """

    def __init__(self, fac: QueryFactors, tabs: LogitTables, q: int, m: int, ops: OpCounter):
        self.wl, self.wh = block_weights(fac, m, tabs.weight_bits, ops)
        self.diffs = block_diffs(tabs, q, m, ops)
        d = self.diffs
        self.hf = d.dv.T[None, :, :] + (d.dp + d.du[None, :])[:, :, None]  # [n, v-1, m+1]
        self.T_hi = np.ascontiguousarray(product_upper(self.wl[:, None, :], self.wh[:, None, :], self.hf))
        ops.add(2 * self.hf.size + 4 * self.hf.size)
        self._T_lo: np.ndarray | None = None

    def lower(self, ops: OpCounter) -> np.ndarray:
        """T_lo [n, v-1, m+1] (computed once, when first needed)."""
        if self._T_lo is None:
            self._T_lo = np.ascontiguousarray(product_lower(self.wl[:, None, :], self.wh[:, None, :], self.hf))
            ops.add(4 * self.hf.size)
        return self._T_lo


def rows_bounds(fac: QueryFactors, tabs: LogitTables, d: BlockDiffs, tokens: np.ndarray, ops: OpCounter) -> tuple[np.ndarray, np.ndarray]:
    """For sequences ``tokens`` [rows, n] of group (q, m): S_lo, S_hi [rows, v-1] with
    S_lo[r, j] <= C_r sum_p w_p h_p(x_j) 2^g <= S_hi[r, j] (C_r > 0 per row).

    Every term is at most 2^F (hbound + 3) in magnitude and n such terms are summed, below
    INT64_LIMIT by the choice of g (logit_tables).
    """
    wl, wh = row_weights(fac, tokens, tabs.weight_bits, ops)
    n = tokens.shape[1]
    S_lo = np.zeros((len(tokens), len(d.cols)), dtype=np.int64)
    S_hi = np.zeros_like(S_lo)
    for p in range(n):
        hf = d.dv[tokens[:, p]] + (d.dp[p] + d.du)[None, :]
        S_hi += product_upper(wl[:, p : p + 1], wh[:, p : p + 1], hf)
        S_lo += product_lower(wl[:, p : p + 1], wh[:, p : p + 1], hf)
        ops.add(2 * hf.size + 10 * hf.size)
    return S_lo, S_hi
