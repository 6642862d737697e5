"""The (q, m, c, gap) case split of the subcubic proof: attention bounds, worst wrong logit, count.

Claim (docs/proofs/subcubic.md, sections 1, 3, 6, 7): count_cases returns a number N such that at
least N sequences are correct, given
  - approx (E~) and eps with S[q,i] - S[q,j] - (E~[q,i] - E~[q,j]) <= eps[q] whenever ok[q],
  - Ppos[q,p] with score(q, t, p) = S[q,t] + Ppos[q,p] (unscaled; divided by sqrt(d_head)),
  - EVOU, PVOU exact, and the direct-path split (mu, dterm) of subcubic_direct.
Every rational that is shortened is rounded in the direction that keeps the bound valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import comb

from checker.dyadic import DMatrix, DVec, ceil_div, ceil_pow2, floor_pow2, to_fraction
from checker.exp_table import ExpTable
from checker.ops import OpCounter
from checker.sqrt_bounds import inv_sqrt_bounds

SQRT_BITS = 48  # 1/sqrt(d_head) enclosed to ~2^-48 relative, then held at 2^-SQRT_BITS absolute
ARG_BITS = 32  # exp arguments rounded outward to multiples of 2^-ARG_BITS
ATT_BITS = 32  # attention bounds rounded outward to multiples of 2^-ATT_BITS (at least)
RATIO_BITS = 48  # significant bits kept (rounded outward) of positional ratios
CLAMP = 1024  # |exp arguments| beyond this are handled by monotonicity


@dataclass(frozen=True)
class LogitSide:
    """Per-max-token quantities in mantissas over 2^exp (see module docstring)."""

    exp: int
    L: list[list[int]]  # L[m][x] = mu[x] - mu[m] + PVOU*_m[x]
    Em: list[list[int]]  # Em[m][x] = EVOU[m,x] - EVOU[m,m]
    Rmax: list[int]  # max_{x != m} Em[m][x]
    Rmin: list[int]  # min_{x != m} Em[m][x]
    Wp: list[list[int]]  # Wp[m][j] = max_{k <= j} max_{x != m} (EVOU[k,x] - EVOU[k,m])
    dterm: list[list[int]]  # [q][m]


def logit_side(EVOU: DMatrix, PVOU: DMatrix, mu: DVec | None, dterm: list[list[int]], dexp: int,
               ops: OpCounter) -> LogitSide:
    """Exact per-m pessimisations, O(v^2 n)."""
    v, n = EVOU.shape[0], PVOU.shape[0]
    e = min(EVOU.exp, PVOU.exp, dexp, mu.exp if mu is not None else dexp)
    EV, PV = EVOU.at(e), PVOU.at(e)
    MU = mu.at(e) if mu is not None else (0,) * v
    ds = dexp - e
    DT = [[x << ds for x in row] for row in dterm]
    L, Em, Rmax, Rmin = [], [], [], []
    for m in range(v):
        em = [EV[m][x] - EV[m][m] for x in range(v)]
        pstar = [max(PV[p][x] - PV[p][m] for p in range(n)) for x in range(v)]
        L.append([MU[x] - MU[m] + pstar[x] for x in range(v)])
        others = [em[x] for x in range(v) if x != m]
        Em.append(em)
        Rmax.append(max(others) if others else 0)
        Rmin.append(min(others) if others else 0)
    ops.add(v * v + v * v * (2 * n) + 2 * v * v + 4 * v * v)
    # W: top-two of every EVOU row gives max_{x != m} EVOU[k,x] in O(1) per (k, m).
    worst = []
    for k in range(v):
        r = EV[k]
        order = sorted(range(v), key=r.__getitem__, reverse=True)
        t1, t2 = order[0], order[1] if v > 1 else order[0]
        worst.append([(r[t2] if m == t1 else r[t1]) - r[m] for m in range(v)])
    Wp = []
    for m in range(v):
        run, acc = None, []
        for k in range(v):
            x = worst[k][m]
            run = x if run is None or x > run else run
            acc.append(run)
        Wp.append(acc)
    ops.add(v * (2 * (v - 1)) + v * v + v * v)
    return LogitSide(e, L, Em, Rmax, Rmin, Wp, DT)


def _dyadic(x: Fraction, bits: int, up: bool) -> tuple[int, int]:
    """(m, e) with m 2^e >= x (up) or 0 <= m 2^e <= x (not up), for x >= 0; m of about ``bits`` bits."""
    e = x.numerator.bit_length() - x.denominator.bit_length() - bits
    num, den = (x.numerator, x.denominator << e) if e >= 0 else (x.numerator << -e, x.denominator)
    return (ceil_div(num, den) if up else num // den), e


class Scaler:
    """Outward-rounded z / sqrt(d_head) as multiples of 2^-ARG_BITS, for z = zm 2^ze."""

    def __init__(self, d_head: int):
        lo, hi = inv_sqrt_bounds(d_head, SQRT_BITS)
        self.s_lo = (lo.numerator << SQRT_BITS) // lo.denominator  # <= 2^SB / sqrt(d_head)
        self.s_hi = ceil_div(hi.numerator << SQRT_BITS, hi.denominator)  # >= 2^SB / sqrt(d_head)

    def up(self, zm: int, ze: int) -> int:
        """N with N 2^-ARG_BITS >= zm 2^ze / sqrt(d_head)."""
        t = zm * (self.s_hi if zm >= 0 else self.s_lo)
        return ceil_pow2(t, ze - SQRT_BITS + ARG_BITS)

    def down(self, zm: int, ze: int) -> int:
        """N with N 2^-ARG_BITS <= zm 2^ze / sqrt(d_head)."""
        t = zm * (self.s_lo if zm >= 0 else self.s_hi)
        return floor_pow2(t, ze - SQRT_BITS + ARG_BITS)


def positional_exps(Ppos: DMatrix, q: int, sc: Scaler, ex: ExpTable,
                    ops: OpCounter) -> tuple[list[Fraction], list[Fraction]]:
    """Upper and lower enclosures of exp((Ppos[q,p] - Ppos[q,n-1]) / sqrt(d_head)) for every slot p."""
    n = Ppos.shape[1]
    row = Ppos.rows[q]
    ref = row[n - 1]
    ups, dns = [], []
    for p in range(n):
        z = row[p] - ref
        ups.append(to_fraction(*ex.enclose(sc.up(z, Ppos.exp))[1]))
        dns.append(to_fraction(*ex.enclose(sc.down(z, Ppos.exp))[0]))
    ops.add(6 * n)
    return ups, dns


def positional_ratios(Ppos: DMatrix, q: int, is_max_query: bool, c: int, exps: tuple[list[Fraction], list[Fraction]],
                      ops: OpCounter) -> tuple[tuple[int, int], tuple[int, int]]:
    """((rho_up) for the lowest-X arrangement, (rho_dn) for the highest-X arrangement), as dyadics.

    For a sequence of case (q, m, c) with max copies on the set M of positions (the query slot
    is in M iff q = m) and the other positions N, the attention on the max copies is
    A = 1 / (1 + sum_{p in N} exp((P_p - D_p)/sqrt(h)) / sum_{p in M} exp(P_p / sqrt(h))),
    D_p = S[q,m] - S[q,t_p]. With D_p >= lo for all p in N:  A >= 1 / (1 + exp(-lo/sqrt h) Y/X),
    increasing in X = sum_M exp(P_p/sqrt h) (Y = total - X), so the least A is at M = the lowest
    positions; symmetrically for the greatest. rho_up >= Y/X at the lowest M, rho_dn <= Y/X at
    the highest M.
    """
    n = Ppos.shape[1]
    row = Ppos.rows[q]
    ups, dns = exps
    order = sorted(range(n - 1), key=row.__getitem__)  # non-query slots, ascending
    n_max = n - c  # number of max copies
    non_query_max = n_max - 1 if is_max_query else n_max
    low_m = order[:non_query_max] + ([n - 1] if is_max_query else [])
    high_m = order[len(order) - non_query_max:] + ([n - 1] if is_max_query else [])
    res = []
    for mset, upward in ((low_m, True), (high_m, False)):
        ms = set(mset)
        if upward:
            X = sum(dns[p] for p in ms)
            Y = sum(ups[p] for p in range(n) if p not in ms)
            res.append(_dyadic(Y / X, RATIO_BITS, up=True))
        else:
            X = sum(ups[p] for p in ms)
            Y = sum(dns[p] for p in range(n) if p not in ms)
            res.append(_dyadic(Y / X, RATIO_BITS, up=False))
        ops.add(2 * n + 1)
    return res[0], res[1]


def attention_floor(neg_lo_m: int, ze: int, rho_up: tuple[int, int], sc: Scaler, ex: ExpTable, B: int) -> int:
    """A with A 2^-B <= 1 / (1 + exp(neg_lo/sqrt h) rho), a lower bound on the attention on max."""
    N = sc.up(neg_lo_m, ze)
    if N >= CLAMP << ARG_BITS:
        return 0
    em, ee = ex.enclose(max(N, -(CLAMP << ARG_BITS)))[1]
    m, e = em * rho_up[0], ee + rho_up[1]
    if e >= 0:
        return (1 << B) // (1 + (m << e))
    return (1 << (B - e)) // ((1 << -e) + m)


def attention_ceil(neg_hi_m: int, ze: int, rho_dn: tuple[int, int], sc: Scaler, ex: ExpTable, B: int) -> int:
    """A with A 2^-B >= 1 / (1 + exp(neg_hi/sqrt h) rho), an upper bound on the attention on max."""
    N = sc.down(neg_hi_m, ze)
    if N <= -(CLAMP << ARG_BITS) or rho_dn[0] <= 0:
        return 1 << B
    em, ee = ex.enclose(min(N, CLAMP << ARG_BITS))[0]
    m, e = em * rho_dn[0], ee + rho_dn[1]
    if e >= 0:
        num, den = 1 << B, 1 + (m << e)
    else:
        num, den = 1 << (B - e), (1 << -e) + m
    return ceil_div(num, den)


def count_cases(v: int, n: int, d_head: int, approx: DMatrix, eps: DVec, ok: list[bool], Ppos: DMatrix,
                ls: LogitSide, gaps: list[list[list[int]]], abar: list[list[int]] | None, abar_exp: int,
                ops: OpCounter, record: list[tuple[int, int, int, int]] | None = None) -> int:
    """The number of sequences proved correct by the certified cases (disjoint sets, exact count).

    If ``record`` is a list, every certified case (q, m, c, top) is appended to it: the case covers
    exactly the sequences with last token q, max m, c positions holding a token != m, and every
    such token <= top (top = m - gap; top = -1 for c = 0).
    """
    B = max(ATT_BITS, -abar_exp)
    T = 1 << B
    es = min(approx.exp, eps.exp)
    At = approx.at(es)
    ev = eps.at(es)
    sc = Scaler(d_head)
    ex = ExpTable(ARG_BITS)
    fvals: dict[tuple[int, int], int] = {}  # T f_m(abar[m][c]), filled lazily (abar depends on (m, c) only)
    total = 0
    for q in range(v):
        row = At[q]
        pmax, pmin, run_hi, run_lo = [], [], row[0], row[0]
        for k in range(v):
            run_hi = row[k] if row[k] > run_hi else run_hi
            run_lo = row[k] if row[k] < run_lo else run_lo
            pmax.append(run_hi)
            pmin.append(run_lo)
        ops.add(2 * v)
        ratios = {}
        pexps = None
        for m in range(q, v):
            is_max_query = q == m
            for c in range(0 if is_max_query else 1, n):
                cp = c if is_max_query else c - 1
                if c == 0:  # every position holds m: attention on max is exactly 1
                    ops.add(3 * v)
                    f1 = max((ls.L[m][x] + ls.Em[m][x] for x in range(v) if x != m), default=None)
                    if f1 is None or ls.dterm[m][m] + f1 < 0:
                        total += 1
                        if record is not None:
                            record.append((q, m, 0, -1))
                    continue
                top = m - gaps[q][m][c]
                if top < (q if not is_max_query else 0) or not ok[q]:
                    continue
                if (is_max_query, c) not in ratios:
                    if pexps is None:
                        pexps = positional_exps(Ppos, q, sc, ex, ops)
                    ratios[(is_max_query, c)] = positional_ratios(Ppos, q, is_max_query, c, pexps, ops)
                rho_up, rho_dn = ratios[(is_max_query, c)]
                neg_lo = pmax[top] - row[m] + ev[q]  # -lo >= S[q,k] - S[q,m] for all allowed k
                neg_hi = pmin[top] - row[m] - ev[q]  # -hi <= S[q,k] - S[q,m]
                a_lo = attention_floor(neg_lo, es, rho_up, sc, ex, B)
                a_hi = attention_ceil(neg_hi, es, rho_dn, sc, ex, B)
                ab = 0 if abar is None else abar[m][c] << (B + abar_exp)
                if (m, c) not in fvals:
                    fvals[(m, c)] = f_scaled(ls, m, ab, T, ops)
                ops.add(30)
                if _certified(ls, q, m, fvals[(m, c)], a_lo, a_hi, ab, ls.Wp[m][top], T, ops):
                    total += comb(n - 1, cp) * (top + 1) ** cp
                    if record is not None:
                        record.append((q, m, c, top))
    return total


def _certified(ls: LogitSide, q: int, m: int, f: int, a_lo: int, a_hi: int, ab: int, w: int, T: int,
               ops: OpCounter) -> bool:
    """dterm + max over A in {a_lo, a_hi} of [f_m(abar) + (1 - A) W + phi(A - abar)] < 0, all scaled by T.

    f = T f_m(abar); phi(t) = t Rmax for t >= 0 and t Rmin for t < 0.
    """
    base = ls.dterm[q][m] * T + f
    ops.add(12)
    for A in (a_lo, a_hi):
        r = ls.Rmax[m] if A >= ab else ls.Rmin[m]
        if base + (T - A) * w + (A - ab) * r >= 0:
            return False
    return True


def f_scaled(ls: LogitSide, m: int, ab: int, T: int, ops: OpCounter) -> int:
    """T f_m(abar) = max_{x != m} (T L[m][x] + (T abar) Em[m][x]), exactly; O(v)."""
    Lm, Em = ls.L[m], ls.Em[m]
    v = len(Lm)
    ops.add(3 * v)
    return max(T * Lm[x] + ab * Em[x] for x in range(v) if x != m)
