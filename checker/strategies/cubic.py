"""The cubic proof strategy, checked with exact integers (docs/proofs/cubic.md).

Claim established by ``check``: the returned number N_cubic is the size of a set of distinct
sequences each of which is proved correct (Theorem 7.3 of docs/proofs/cubic.md). Every step
below names the lemma of that document it implements. Only integer arithmetic is used: the
path matrices are exact dyadics brought to one common exponent, exp and 1/sqrt(d_head) enter
through certified enclosures rounded outward to a fixed-point scale 2^-F_q chosen per query q
(FIXED_BITS significant bits for the smallest exp value of the row, section 5 item 3).

Cost: O(v^2 d) for the path matrices plus O(v^3 n + v^2 n^2) here; every add, subtract,
multiply, divide and comparison on certificate-derived numbers is counted in ``ops``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from math import comb

import numpy as np

from checker.certificate import Certificate
from checker.dyadic import DMatrix, ceil_div, floor_pow2, to_fraction
from checker.exp_bounds import exp_dyadic, exp_fixed
from checker.cost import Header, exp_units, paths_ops
from checker.ops import OpCounter
from checker.paths import ExactPaths, exact_paths
from checker.sqrt_bounds import inv_sqrt_bounds
from checker.validate import expect_object

NAME = "cubic"
KNOBS: dict[str, tuple[str, ...]] = {}

FIXED_BITS = 64  # significant bits kept by the per-query fixed-point scale F_q (docs/proofs/cubic.md section 5)
MAX_EXTRA_BITS = 2048  # cap on the extra bits of F_q for tiny exp values (they round to (0, 1) beyond)
SQRT_BITS = 128  # relative precision of the 1/sqrt(d_head) enclosure

IntMatrix = list[list[int]]
WIDE = 8  # work units per counted operation in the case loops: their integers carry up to FIXED_BITS + MAX_EXTRA_BITS bits


def cost_bound(h: Header) -> int:
    """Work units of check() (checker/cost.py): the path matrices, v (v + n) exp enclosures, and
    the pessimisations and case loops (O(v^3 n) operations on integers of up to about 2100 bits)."""
    v, n = h.d_vocab, h.n_ctx
    tables = v * (v + n) * (exp_units(FIXED_BITS + 8) + 10)
    pairs = v * (v + 1) // 2
    loops = v * v * (2 * n + 3 * v + 2) + 5 * v * n * n + pairs * (2 * n + 6 * (n + 1) * v + 3 * v + (n - 1) * (v + 17))
    return paths_ops(v, n, h.d_model, h.d_head) + tables + WIDE * loops


@dataclass(frozen=True)
class CubicCases:
    """The outcome of every case of the cubic split.

    zero[(q, m)]: the c = 0 case (q, m, 0) is certified (the sequence (m, ..., m, q) is correct).
    values[(q, m, c)]: the set S_{q,m,c} of certified non-max values, for 1 <= c <= cmax(q, m).
    """

    n_ctx: int
    zero: dict[tuple[int, int], bool]
    values: dict[tuple[int, int, int], tuple[int, ...]]

    def count(self) -> int:
        """N_cubic of section 7: certified c = 0 cases plus C(n-1, c) |S|^c per (q, m, c)."""
        n = self.n_ctx
        total = sum(1 for ok in self.zero.values() if ok)
        for (_, _, c), s in self.values.items():
            total += comb(n - 1, c) * len(s) ** c
        return total


def check(cert: Certificate, ops: OpCounter) -> int:
    """The number of sequences the cubic proof establishes as correct (Theorem 7.3)."""
    expect_object(cert.witness, "witness", ())
    paths = exact_paths(cert.weights, ops)
    return cubic_count(paths, cert.d_head, ops)


def common_scale(*ms: DMatrix) -> list[IntMatrix]:
    """The integer matrices of ``ms`` at their smallest common exponent (exact).

    Only signs and comparisons of these values are ever used, so the common factor 2^e0 > 0
    is dropped (section 5, item 5).
    """
    e0 = min(m.exp for m in ms)
    return [[[x << (m.exp - e0) for x in row] for row in m.rows] for m in ms]


def row_scale(row: list[int], exp: int, rho_hi: Fraction) -> int:
    """F_q = FIXED_BITS + (bits below 1 of the smallest exp value of the row), capped at MAX_EXTRA_BITS.

    The smallest argument is x_min = rho_hi (min - max) 2^exp <= 0 and exp(x) >= 2^(3x/2) for
    x <= 0 (1/ln 2 < 3/2), so F_q keeps about FIXED_BITS significant bits of every entry. Any
    F_q >= 0 is sound (the enclosures are valid at any scale); this choice only aims at precision.
    """
    x_min = to_fraction(min(row) - max(row), exp) * rho_hi
    extra = ceil_div(-3 * x_min.numerator, 2 * x_min.denominator)  # ceil(-3 x_min / 2) >= 0
    return FIXED_BITS + min(extra, MAX_EXTRA_BITS)


def exp_fixed_interval(z: int, exp: int, rho: tuple[Fraction, Fraction], scale: int, ops: OpCounter) -> tuple[int, int]:
    """Integers 0 <= lo <= hi with lo <= exp(z 2^exp rho) 2^scale <= hi for every rho in [rho_lo, rho_hi], z <= 0.

    With x = z 2^exp <= 0, x rho lies in [a, a + y], a = x rho_hi, y = |x| (rho_hi - rho_lo) >= 0
    (section 5, items 2-3). exp is increasing, so lo is rounded down from a lower bound of
    exp(a) and hi is rounded up from an upper bound of exp(a + y) = exp(a) exp(y) <= exp(a) (1 + 2y)
    (valid for 0 <= y <= 1: e^y is convex and e^1 < 3). If a + y <= -(scale + 1) 7/10 then
    exp(a + y) < 2^-(scale+1) (1/ln 2 > 10/7), so (0, 1) encloses every value.
    """
    rho_lo, rho_hi = rho
    x = to_fraction(z, exp)
    a, y = x * rho_hi, -x * (rho_hi - rho_lo)
    ops.add(6)  # products and sums above, the exp enclosure (one operation), the (1 + 2y) factor
    if a + y <= -(scale + 1) * Fraction(7, 10):
        return 0, 1
    if y > 1:  # pragma: no cover - needs |x| above 2^100 or so; two exp enclosures instead
        return exp_fixed(a, scale)[0], exp_fixed(a + y, scale)[1]
    (lm, le), (hm, he) = exp_dyadic(a, FIXED_BITS + 8)
    lo = floor_pow2(lm, le + scale)
    hi_f = to_fraction(hm, he + scale) * (1 + 2 * y)
    hi = ceil_div(hi_f.numerator, hi_f.denominator)
    return lo, hi


def exp_tables(paths: ExactPaths, d_head: int, ops: OpCounter) -> tuple[IntMatrix, IntMatrix, IntMatrix, IntMatrix, list[int]]:
    """Fixed-point enclosures (Elo, Ehi) of e_q(t) and (Plo, Phi) of pi_q(p) (sections 3 and 5).

    e_q(t) = exp(rho (EQKE[q,t] - M_q)), pi_q(p) = exp(rho (EQKP[q,p] - P_q)), M_q and P_q the
    row maxima, so every argument is <= 0. One scale F_q per query q, shared by the e and pi
    rows of q. Claim: Elo 2^-F_q <= e_q(t) <= Ehi 2^-F_q and Plo 2^-F_q <= pi_q(p) <= Phi 2^-F_q.
    """
    rho = inv_sqrt_bounds(d_head, SQRT_BITS)
    v = len(paths.EQKE.rows)
    scales = [max(row_scale(paths.EQKE.rows[q], paths.EQKE.exp, rho[1]), row_scale(paths.EQKP.rows[q], paths.EQKP.exp, rho[1]))
              for q in range(v)]
    ops.add(8 * v)
    tables = []
    for mat in (paths.EQKE, paths.EQKP):
        lo_rows, hi_rows = [], []
        for q, row in enumerate(mat.rows):
            top = max(row)
            ops.add(len(row) - 1)
            pairs = [exp_fixed_interval(z - top, mat.exp, rho, scales[q], ops) for z in row]
            ops.add(len(row))
            lo_rows.append([a for a, _ in pairs])
            hi_rows.append([b for _, b in pairs])
        tables += [lo_rows, hi_rows]
    return tables[0], tables[1], tables[2], tables[3], scales


def mulup(a: int, lo: int, hi: int) -> int:
    """Lemma 5.1: for a real a' <= a and y in [lo, hi] (0 <= lo), a' y <= mulup(a, lo, hi)."""
    return a * hi if a >= 0 else a * lo


def threshold(a: int, lo: int, hi: int) -> int | None | bool:
    """Lemma 5.4: tau with  (mulup(u, lo, hi) < a  iff  u < tau)  for all integers u.

    Returns an int tau, None for tau = +infinity (every u), False for tau = -infinity (no u).
    """
    if a > 0:
        return None if hi == 0 else ceil_div(a, hi)
    return False if lo == 0 else ceil_div(a, lo)


def pessimisations(U: IntMatrix, V: IntMatrix, P: IntMatrix, ops: OpCounter) -> tuple[IntMatrix, IntMatrix]:
    """D[m][q] = max_{x != m} dU_m[q,x] and R[m][t] = max_{x != m} (dV_m[t,x] + PVOU*_m[x]) (section 2).

    U = EUPU, V = EVOU, P = PVOU as integers at one common scale. The values are those of
    pessimisations_plain (exact); the maxima are found as in docs/proofs/cubic.md section 10.3:
    D from the two largest entries of each row of U, R by an int64 pre-selection of the
    candidates x followed by the exact maximum over them. Counted operations: those of the plain loops.
    """
    v, n = len(U), len(P)
    D: IntMatrix = [[0] * v for _ in range(v)]
    for q in range(v):
        row = U[q]
        first = max(range(v), key=row.__getitem__)
        second = max(row[x] for x in range(v) if x != first)
        for m in range(v):
            D[m][q] = (second if m == first else row[first]) - row[m]
    moved = [[x - min(row) for x in row] for row in V]
    spread = max(max(max(row) for row in moved), max(max(row) - min(row) for row in P) * 2)
    s = max(0, spread.bit_length() - 60)
    Vf = np.array([[x >> s for x in row] for row in moved], dtype=np.int64)  # 0 <= Vf < 2^60
    R: IntMatrix = []
    for m in range(v):
        others = [x for x in range(v) if x != m]
        pstar = [0] * v
        for x in others:  # PVOU*_m[x]; pstar[m] is not used
            pstar[x] = max(P[p][x] - P[p][m] for p in range(n))
        ops.add(2 * n * (v - 1))
        low = min(pstar[x] for x in others)
        pf = [(pstar[x] - low) >> s for x in range(v)]
        if max(pf) >= 1 << 60:  # pragma: no cover - excluded by the choice of s (|pstar| <= max row range of P)
            R.append(_plain_R(m, V, pstar, others))
        else:
            pf[m] = -(1 << 61)  # x = m is never a candidate (every other entry of A is >= 0)
            A = Vf + np.array(pf, dtype=np.int64)[None, :]
            top = A.max(axis=1)
            cand = A >= (top - 1)[:, None]
            single = cand.sum(axis=1) == 1
            best = A.argmax(axis=1)
            Rm = []
            for t in range(v):
                Vt = V[t]
                if single[t]:
                    x = int(best[t])
                    Rm.append(Vt[x] + pstar[x] - Vt[m])
                else:
                    Rm.append(max(Vt[x] + pstar[x] for x in np.flatnonzero(cand[t]).tolist()) - Vt[m])
            R.append(Rm)
        ops.add(v * (v - 1) + v * (2 * (v - 1)) + 2 * v)
    return D, R


def _plain_R(m: int, V: IntMatrix, pstar: list[int], others: list[int]) -> list[int]:
    """R[m][t] = max_{x != m} (V[t][x] + pstar[x]) - V[t][m] for every t, by the plain loop."""
    return [max(V[t][x] + pstar[x] for x in others) - V[t][m] for t in range(len(V))]


def pessimisations_plain(U: IntMatrix, V: IntMatrix, P: IntMatrix, ops: OpCounter) -> tuple[IntMatrix, IntMatrix]:
    """The plain O(v^3) loops of section 2 (the reference for pessimisations; same values, same ops)."""
    v, n = len(U), len(P)
    D: IntMatrix = []
    R: IntMatrix = []
    for m in range(v):
        others = [x for x in range(v) if x != m]
        pstar = [max(P[p][x] - P[p][m] for p in range(n)) for x in others]  # PVOU*_m over x != m
        ops.add(2 * n * (v - 1))
        D.append([max(U[q][x] for x in others) - U[q][m] for q in range(v)])
        R.append([max(V[t][x] + s for x, s in zip(others, pstar)) - V[t][m] for t in range(v)])
        ops.add(v * (v - 1) + v * (2 * (v - 1)) + 2 * v)
    return D, R


def sort_positions(row: list[int], ops: OpCounter) -> list[int]:
    """The non-query positions 0..n-2 in ascending order of EQKP[q, p] (exact; Lemma 4.4)."""
    order: list[int] = []
    for p in range(len(row) - 1):  # insertion sort with counted comparisons
        i = len(order)
        while i > 0:
            ops.add(1)
            if row[order[i - 1]] <= row[p]:
                break
            i -= 1
        order.insert(i, p)
    return order


def position_sums(order: list[int], Plo: list[int], Phi: list[int], ops: OpCounter) -> dict[tuple[int, str], tuple[int, int, int, int]]:
    """For each c in 1..n-1 and o in {lo, hi}: (Xlo, Xhi, Ylo, Yhi) of the arrangement N_o (section 5, item 4).

    N_lo = the c lowest-EQKP non-query positions, N_hi = the c highest; X sums pi over the
    other non-query positions (the max copies), Y over N.
    """
    out = {}
    b = len(order)
    for c in range(1, b + 1):
        for o, N in (("lo", order[:c]), ("hi", order[b - c:])):
            M = [p for p in order if p not in N]
            out[(c, o)] = (sum(Plo[p] for p in M), sum(Phi[p] for p in M), sum(Plo[p] for p in N), sum(Phi[p] for p in N))
            ops.add(2 * max(len(M) - 1, 0) + 2 * max(len(N) - 1, 0))
    return out


def zero_sum(q: int, m: int, x: int, U: IntMatrix, V: IntMatrix, P: IntMatrix, wlo: list[int], whi: list[int]) -> int:
    """The integer sum_p mulup(H_p(x), wlo_p, whi_p) of Lemma 6.1 for one competitor x, exactly,
    with H_p(x) = dU_m[q,x] + dV_m[t_p,x] + dP_m[p,x] (t_p = m for p < n - 1, t_{n-1} = q)."""
    n, Uq, Vm, Vq = len(P), U[q], V[m], V[q]
    base = Uq[x] - Uq[m] + Vm[x] - Vm[m]
    total = 0
    for p in range(n - 1):
        total += mulup(base + P[p][x] - P[p][m], wlo[p], whi[p])
    hq = Uq[x] - Uq[m] + Vq[x] - Vq[m] + P[n - 1][x] - P[n - 1][m]
    return total + mulup(hq, wlo[n - 1], whi[n - 1])


def zero_x_ops(n: int) -> int:
    """Counted operations of the c = 0 test for one competitor x (zero_sum and its sign test)."""
    return 4 + 6 * (n - 1) + 7 + 1


def zero_weights(q: int, m: int, Elo_q: list[int], Ehi_q: list[int], Plo_q: list[int], Phi_q: list[int],
                 ops: OpCounter) -> tuple[list[int], list[int]]:
    """The weight enclosures of Lemma 6.1 for the sequence (m, ..., m, q): position p < n - 1 holds m
    (Elo_q[m] Plo_q[p] .. Ehi_q[m] Phi_q[p]), the query slot holds q."""
    n = len(Plo_q)
    wlo = [Elo_q[m] * Plo_q[p] for p in range(n - 1)] + [Elo_q[q] * Plo_q[n - 1]]
    whi = [Ehi_q[m] * Phi_q[p] for p in range(n - 1)] + [Ehi_q[q] * Phi_q[n - 1]]
    ops.add(2 * n)
    return wlo, whi


def zero_case(q: int, m: int, U: IntMatrix, V: IntMatrix, P: IntMatrix, wlo: list[int], whi: list[int], ops: OpCounter) -> bool:
    """Lemma 6.1: the sequence (m, ..., m, q) is correct if, for every x != m,
    sum_p mulup(H_p(x), wlo_p, whi_p) < 0 with H_p(x) = dU_m[q,x] + dV_m[t_p,x] + dP_m[p,x] exact.

    Competitors are tested in increasing x; the test stops at the first x whose sum is >= 0, and
    the operations of every tested x are counted (zero_x_ops).
    """
    n, v = len(P), len(U)
    for x in range(v):
        if x == m:
            continue
        ops.add(zero_x_ops(n))
        if zero_sum(q, m, x, U, V, P, wlo, whi) >= 0:
            return False
    return True


# ---------------------------------------------------------------- exact int64 fast path of Lemma 6.1
# (docs/proofs/cubic.md section 10). An int64 upper bound proves zero_sum < 0 for most x at once;
# zero_sum is computed exactly (Python integers) for every other x, in increasing order. Its
# decision, and the x at which it stops, are those of zero_case, so its counted operations are
# charged identically.

INT64_LIMIT = 1 << 62  # every int64 magnitude formed by the fast path stays below this
TABLE_BITS = 29  # the shifted tables U, V, P keep entries below 2^TABLE_BITS
BLOCK_ENTRIES = 1 << 18  # entries of one [m, p, x] int64 block (2 MB)


@dataclass(frozen=True)
class ShiftedTables:
    """Integer tables with Mf <= (M - rowmin M) 2^-s <= Mc entrywise, for M in (U, V, P), as int64.

    One shift s >= 0 for the three, so they stay at one scale. Each row is moved by its own
    minimum first (exact; every difference used by Lemma 6.1 is within one row, so the move
    cancels). ``hbound`` = max Uc + max Vc + max Pc bounds every |Hc| (Lemma 10.2).
    """

    Uc: np.ndarray
    Uf: np.ndarray
    Vc: np.ndarray
    Vf: np.ndarray
    Pc: np.ndarray
    Pf: np.ndarray
    shift: int
    hbound: int
    weight_bits: int


def shifted_tables(U: IntMatrix, V: IntMatrix, P: IntMatrix, bits: int = TABLE_BITS) -> ShiftedTables | None:
    """The tables of ShiftedTables, or None when no weight width W >= 1 keeps n hbound 2^W <= 2^62
    (then every c = 0 case is decided by the exact loop alone)."""
    moved = [[[x - min(row) for x in row] for row in M] for M in (U, V, P)]
    top = max(max(max(row) for row in M) for M in moved)
    s = max(0, top.bit_length() - bits)
    if -((-top) >> s) >= INT64_LIMIT:  # only for bits >= 62 (the default keeps entries below 2^29)
        return None
    tabs: list[np.ndarray] = []
    for M in moved:
        tabs.append(np.array([[-((-x) >> s) for x in row] for row in M], dtype=np.int64))  # ceil
        tabs.append(np.array([[x >> s for x in row] for row in M], dtype=np.int64))  # floor
    hbound = sum(int(tabs[i].max()) for i in (0, 2, 4))
    n = len(P)
    weight_bits = 62 - (n * hbound).bit_length()
    if weight_bits < 1:
        return None
    return ShiftedTables(*tabs, shift=s, hbound=hbound, weight_bits=weight_bits)


def weight_shift(whi: list[int], bits: int) -> int:
    """The least sW >= 0 with max(whi) < 2^(bits + sW), so that ceil(whi_p 2^-sW) <= 2^bits for every p."""
    return max(0, max(whi).bit_length() - bits)


def shifted_weights(wlo: list[int], whi: list[int], bits: int) -> tuple[list[int], list[int]]:
    """(floor(wlo 2^-sW), ceil(whi 2^-sW)) with sW = weight_shift(whi, bits) (requires 0 <= wlo <= whi)."""
    sw = weight_shift(whi, bits)
    return [a >> sw for a in wlo], [-((-b) >> sw) for b in whi]


def _upper_sums(t: ShiftedTables, q: int, ms: np.ndarray, WL: np.ndarray, WH: np.ndarray, n: int) -> np.ndarray:
    """T [len(ms), v] with zero_sum(q, ms[i], x) 2^-(s + sW_i) <= T[i, x] (Lemma 10.1 of docs/proofs/cubic.md).

    T[i, x] = sum_p mulup(Hc_p(x), WL[i, p], WH[i, p]), Hc = ceil at x minus floor at m of each
    table; mulup(h, wl, wh) is formed as h wl + max(h, 0) (wh - wl) (the same integer).
    """
    Ux, Um = t.Uc[q], t.Uf[q]
    # positions p < n - 1 hold m: Hc_p(x) = dU_m[q,x] + dV_m[m,x] + dP_m[p,x] (upper bounds)
    base = Ux[None, :] - Um[ms][:, None] + t.Vc[ms] - t.Vf[ms, ms][:, None]  # [i, x]
    H = base[:, None, :] + t.Pc[None, : n - 1, :] - t.Pf[: n - 1, ms].T[:, :, None]  # [i, p, x]
    T = _mulup_sum(H, WL[:, : n - 1], WH[:, : n - 1])
    # the query position n - 1 holds q
    hq = Ux[None, :] - Um[ms][:, None] + t.Vc[q][None, :] - t.Vf[q, ms][:, None] + t.Pc[n - 1][None, :] - t.Pf[n - 1, ms][:, None]
    return T + _mulup_sum(hq[:, None, :], WL[:, n - 1 :], WH[:, n - 1 :])


def _mulup_sum(H: np.ndarray, WL: np.ndarray, WH: np.ndarray) -> np.ndarray:
    """sum_p mulup(H[i, p, x], WL[i, p], WH[i, p]) over axis 1 (int64; H is overwritten)."""
    terms = H * WL[:, :, None]
    np.maximum(H, 0, out=H)
    H *= (WH - WL)[:, :, None]
    terms += H
    return terms.sum(axis=1)


def zero_cases(q: int, ms: list[int], U: IntMatrix, V: IntMatrix, P: IntMatrix, weights: dict[int, tuple[list[int], list[int]]],
               tables: ShiftedTables | None, ops: OpCounter) -> dict[int, bool]:
    """zero_case(q, m, U, V, P, *weights[m], ops) for every m in ``ms``, with the same results and the
    same counted operations: a sum is computed exactly only where its int64 upper bound is >= 0
    (docs/proofs/cubic.md section 10)."""
    n, v = len(P), len(U)
    if tables is None:
        return {m: zero_case(q, m, U, V, P, *weights[m], ops) for m in ms}
    out: dict[int, bool] = {}
    block = max(1, BLOCK_ENTRIES // (n * v))
    for start in range(0, len(ms), block):
        chunk = ms[start : start + block]
        shifted = [shifted_weights(*weights[m], tables.weight_bits) for m in chunk]
        WL = np.array([a for a, _ in shifted], dtype=np.int64)
        WH = np.array([b for _, b in shifted], dtype=np.int64)
        idx = np.array(chunk, dtype=np.int64)
        T = _upper_sums(tables, q, idx, WL, WH, n)
        for i, m in enumerate(chunk):
            T[i, m] = -1  # x = m is not a competitor
            open_x = np.flatnonzero(T[i] >= 0)  # the x whose sum is not proved negative by T
            failed_at = None
            for x in open_x.tolist():  # increasing x, as in zero_case
                if zero_sum(q, m, x, U, V, P, *weights[m]) >= 0:
                    failed_at = x
                    break
            if failed_at is None:
                out[m] = True
                ops.add((v - 1) * zero_x_ops(n))
            else:  # zero_case tests every x' != m with x' <= failed_at, and stops there
                out[m] = False
                tested = failed_at + 1 - (1 if m < failed_at else 0)
                ops.add(tested * zero_x_ops(n))
    return out


def query_positions(paths: ExactPaths, Plo: IntMatrix, Phi: IntMatrix, q: int, ops: OpCounter):
    """For query q: the non-query positions sorted by EQKP (section 4), their prefix sums of the
    positional weight enclosures, and the query slot's enclosure (Plo, Phi at position n - 1)."""
    order = sort_positions(paths.EQKP.rows[q], ops)
    return order, position_sums(order, Plo[q], Phi[q], ops), Plo[q][-1], Phi[q][-1]


CaseOutcome = tuple[int, int, int, int, tuple[int, ...] | None]


def decide_cases(paths: ExactPaths, d_head: int, ops: OpCounter, record: bool) -> Iterator[CaseOutcome]:
    """Decide every case of the cubic split (docs/proofs/cubic.md sections 4-7).

    Yields (q, m, 0, 1 or 0, None) for the c = 0 case (certified or not), and (q, m, c, |S|, S)
    for 1 <= c <= cmax(q, m) with S = S_{q,m,c} as a tuple if ``record``, else None (only |S|
    enters the count). |S| = #{k < m : u(k) < tau} is found by binary search in the sorted
    u(0..m-1) (section 10); the counted operations are those of one comparison per k.
    """
    U, V, P = common_scale(paths.EUPU, paths.EVOU, paths.PVOU)
    v, n = len(U), len(P)
    Elo, Ehi, Plo, Phi, _ = exp_tables(paths, d_head, ops)
    D, R = pessimisations(U, V, P, ops)
    tables = shifted_tables(U, V, P)
    for q in range(v):
        order, sums, pq_lo, pq_hi = query_positions(paths, Plo, Phi, q, ops)
        Elo_q, Ehi_q = Elo[q], Ehi[q]
        # Lemma 6.1: the c = 0 cases (need a non-query position holding m when q < m).
        zero_ms = [m for m in range(q, v) if q == m or n >= 2]
        weights = {m: zero_weights(q, m, Elo_q, Ehi_q, Plo[q], Phi[q], ops) for m in zero_ms}
        zero = zero_cases(q, zero_ms, U, V, P, weights, tables, ops)
        del weights
        for m in range(q, v):
            if m in zero:
                yield (q, m, 0, 1 if zero[m] else 0, None)
            cmax = n - 1 if q == m else n - 2
            if cmax < 1:
                continue
            # Lemma 5.2: u(t) = mulup(G(t), Elo, Ehi), G(t) = D_m[q] + R_m[t], for t <= m.
            Dmq, Rm = D[m][q], R[m]
            u = []
            for t in range(m + 1):
                g = Dmq + Rm[t]
                u.append(g * Ehi_q[t] if g >= 0 else g * Elo_q[t])
            ops.add(3 * (m + 1))
            uq, um, uk = u[q], u[m], u[:m]
            ranked: list[int] | None = None
            for c in range(1, cmax + 1):
                tau = root_threshold(uq, um, c, sums, pq_lo, pq_hi, ops)
                if tau is False:
                    yield (q, m, c, 0, () if record else None)
                    continue
                if tau is None:
                    yield (q, m, c, m, tuple(range(m)) if record else None)
                    continue
                if ranked is None:
                    ranked = sorted(uk)
                members = tuple(k for k in range(m) if uk[k] < tau) if record else None
                yield (q, m, c, bisect_left(ranked, tau), members)  # #{k : uk[k] < tau}
                ops.add(m)


def root_threshold(u_q: int, u_m: int, c: int, sums: dict[tuple[int, str], tuple[int, int, int, int]],
                   pq_lo: int, pq_hi: int, ops: OpCounter) -> int | None | bool:
    """Lemmas 5.3-5.4 for the case (q, m, c): a value k < m is certified iff u(k) < tau_lo and
    u(k) < tau_hi. Returns the smaller finite threshold tau (certified iff u(k) < tau), False when
    no value is certified, None when every value is."""
    taus = []
    for o in ("lo", "hi"):
        xlo, xhi, ylo, yhi = sums[(c, o)]
        a = -(mulup(u_q, pq_lo, pq_hi) + mulup(u_m, xlo, xhi))
        taus.append(threshold(a, ylo, yhi))
        ops.add(8)
    if any(t is False for t in taus):
        return False
    finite = [t for t in taus if t is not None]
    if not finite:
        return None
    ops.add(len(finite) - 1)
    return min(finite)


def cubic_cases(paths: ExactPaths, d_head: int, ops: OpCounter) -> CubicCases:
    """Every case of the cubic split with its certified set S_{q,m,c} (the record; decide_cases)."""
    zero: dict[tuple[int, int], bool] = {}
    values: dict[tuple[int, int, int], tuple[int, ...]] = {}
    n = len(paths.PVOU.rows)
    for q, m, c, size, members in decide_cases(paths, d_head, ops, record=True):
        if c == 0:
            zero[(q, m)] = size == 1
        else:
            assert members is not None and len(members) == size
            values[(q, m, c)] = members
    return CubicCases(n_ctx=n, zero=zero, values=values)


def cubic_count(paths: ExactPaths, d_head: int, ops: OpCounter) -> int:
    """N_cubic of section 7 (= cubic_cases(...).count()) without keeping the sets S."""
    n = len(paths.PVOU.rows)
    total = 0
    for _, _, c, size, _ in decide_cases(paths, d_head, ops, record=False):
        total += size if c == 0 else comb(n - 1, c) * size**c
    return total
