"""The case decisions of the cubic-sharp strategy, with exact integers (docs/proofs/cubic_sharp.md).

The case split, the exact c = 0 test, the exp enclosures, the position sums and the count are those
of the cubic strategy (docs/proofs/cubic.md), imported from checker.strategies.cubic. What
differs is the test of a pure case (q, m, k, c >= 1): instead of one maximum over the
competitor x per token, the query slot, the max copies and the direct path are bounded
*jointly* for each x (F_o(x), section 3 of the proof), and the k copies are bounded exactly at
x = k and by one maximum over the remaining competitors (Test 2), or per x (Test 3). Mixed
non-max values are covered by linearity in each x (Lemma 2.2).

Every integer below is at the common scale 2^e0 (path values) times 2^-F_q per exp factor,
exactly as in docs/proofs/cubic.md section 5; every sign test is between quantities of one
query q, so the scales cancel.
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.ops import OpCounter
from checker.paths import ExactPaths
from checker.strategies.cubic import (
    CubicCases,
    common_scale,
    exp_tables,
    mulup,
    query_positions,
    threshold,
    zero_case,
    zero_weights,
)

IntMatrix = list[list[int]]


@dataclass
class Budget:
    """How many more pure cases may still be given Test 3 (section 3).

    It starts at n v^2 (per_x_budget), so the per-x tests cost at most O(n v^3) operations on any
    certificate; a case refused by the budget is simply left uncertified (always sound).
    """

    left: int


def per_x_budget(v: int, n: int) -> int:
    """The number of per-x tests allowed for vocabulary size v and context n (a function of the header only)."""
    return n * v * v


@dataclass(frozen=True)
class Pessimisations:
    """Section 1 of docs/proofs/cubic_sharp.md, for one max m (integers at scale 2^e0).

    pstar[x]  = max_p (PVOU[p,x] - PVOU[p,m])                        (x != m; pstar[m] unused, 0)
    S[t][x]   = EVOU[t,x] + pstar[x]                                  for t <= m, x != m
    D[q]      = max_{x != m} dU_m[q,x]                                for q <= m
    R[t]      = max_{x != m} (dV_m[t,x] + pstar[x])                   for t <= m
    Rx[t]     = max_{x not in {m,t}} (dV_m[t,x] + pstar[x])           for t < m; None if v = 2
    """

    pstar: list[int]
    S: IntMatrix
    D: list[int]
    R: list[int]
    Rx: list[int | None]


def pessimise(m: int, U: IntMatrix, V: IntMatrix, P: IntMatrix, ops: OpCounter) -> Pessimisations:
    """The pessimised quantities of section 1 for max m (exact integer maxima, top two per token)."""
    v, n = len(U), len(P)
    others = [x for x in range(v) if x != m]
    pstar = [0] * v
    for x in others:
        pstar[x] = max(P[p][x] - P[p][m] for p in range(n))
    ops.add(2 * n * (v - 1))
    D = [max(U[q][x] for x in others) - U[q][m] for q in range(m + 1)]
    ops.add((m + 1) * (v - 1))
    S: IntMatrix = []
    R: list[int] = []
    Rx: list[int | None] = []
    for t in range(m + 1):
        row = V[t]
        srow = [0 if x == m else row[x] + pstar[x] for x in range(v)]
        ops.add(v - 1)
        best, arg, second = top_two([None if x == m else srow[x] for x in range(v)], ops)
        S.append(srow)
        R.append(best - row[m])  # type: ignore[operator]  # v >= 2: best exists
        excl = second if arg == t else best
        Rx.append(None if excl is None else excl - row[m])
        ops.add(2)
    return Pessimisations(pstar=pstar, S=S, D=D, R=R, Rx=Rx)


def top_two(values: list[int | None], ops: OpCounter) -> tuple[int | None, int, int | None]:
    """(largest, its index, second largest) of the non-None entries (None where there are too few).

    Comparisons counted as performed (one or two per entry).
    """
    best, arg, second = None, -1, None
    done = 0
    for i, s in enumerate(values):
        if s is None:
            continue
        done += 1
        if best is None or s > best:
            best, arg, second = s, i, best
            continue
        done += 1
        if second is None or s > second:
            second = s
    ops.add(done)
    return best, arg, second


def joint_terms(q: int, m: int, Uq: list[int], V: IntMatrix, pes: Pessimisations, wq: tuple[int, int],
                em: tuple[int, int], ops: OpCounter) -> tuple[list[int], list[int]]:
    """alpha[x] >= pi_q(n-1) e_q(q) H_q(x) 2^2F and beta[x] >= e_q(m) H_m(x) 2^F (section 3, Lemma 3.1), x != m, as integers.

    H_t(x) = dU_m[q,x] + dV_m[t,x] + pstar[x] = (U[q,x] + S[t][x]) - (U[q,m] + V[t,m]), exact.
    wq = (Elo_q(q) Plo_q(n-1), Ehi_q(q) Phi_q(n-1)) encloses the query slot's weight at scale
    2^-2F; em = (Elo_q(m), Ehi_q(m)). Entries at x = m are 0 and never used.
    """
    v = len(Uq)
    Sq, Sm = pes.S[q], pes.S[m]
    cq, cm = Uq[m] + V[q][m], Uq[m] + V[m][m]
    ops.add(2)
    alpha, beta = [0] * v, [0] * v
    for x in range(v):
        if x == m:
            continue
        alpha[x] = mulup(Uq[x] + Sq[x] - cq, wq[0], wq[1])
        beta[x] = mulup(Uq[x] + Sm[x] - cm, em[0], em[1])
    ops.add(8 * (v - 1))
    return alpha, beta


def sharp_cases(paths: ExactPaths, d_head: int, ops: OpCounter) -> CubicCases:
    """Decide every case of the cubic split with the sharp tests (Theorem 5.1 of the proof).

    The returned CubicCases has the cubic strategy's keys and count formula (section 5). The
    c = 0 cases are decided first by the cheap joint test (Lemma 4.1) and, where it fails, by
    the cubic strategy's exact test (cubic.md Lemma 6.1); the first implies the second, so
    zero equals the cubic strategy's (Lemma 4.2). The sets values[(q, m, c)] are the sets
    S#_{q,m,c} of section 2, which contain the cubic sets (Corollary 3.3): a value the cubic
    threshold test certifies is not re-tested.
    """
    U, V, P = common_scale(paths.EUPU, paths.EVOU, paths.PVOU)
    v, n = len(U), len(P)
    Elo, Ehi, Plo, Phi, _ = exp_tables(paths, d_head, ops)
    pes = [pessimise(m, U, V, P, ops) for m in range(v)]
    budget = Budget(per_x_budget(v, n))
    zero: dict[tuple[int, int], bool] = {}
    values: dict[tuple[int, int, int], tuple[int, ...]] = {}
    for q in range(v):
        order, sums, pq_lo, pq_hi = query_positions(paths, Plo, Phi, q, ops)
        Elo_q, Ehi_q, Uq = Elo[q], Ehi[q], U[q]
        wq = (Elo_q[q] * pq_lo, Ehi_q[q] * pq_hi)
        tlo, thi = sum(Plo[q][: n - 1]), sum(Phi[q][: n - 1])  # all non-query positions (the c = 0 arrangement)
        ops.add(2 + 2 * max(n - 2, 0))
        for m in range(q, v):
            pm = pes[m]
            alpha, beta = joint_terms(q, m, Uq, V, pm, wq, (Elo_q[m], Ehi_q[m]), ops)
            if q == m or n >= 2:
                zero[(q, m)] = zero_joint(m, alpha, beta, tlo, thi, ops) or zero_exact(q, m, U, V, P, Elo_q, Ehi_q, Plo[q], Phi[q], ops)
            cmax = n - 1 if q == m else n - 2
            if cmax < 1:
                continue
            Dmq = pm.D[q]
            # Cubic test (cubic.md Lemmas 5.2-5.4): u(t) = mulup(D + R(t), Elo, Ehi).
            u = [mulup(Dmq + pm.R[t], Elo_q[t], Ehi_q[t]) for t in range(m + 1)]
            ops.add(3 * (m + 1))
            uq, um = u[q], u[m]
            self_u: dict[int, int] = {}  # k -> mulup(H_k(k), Elo, Ehi): Test 2 (i)
            other_u: dict[int, int | None] = {}  # k -> mulup(D + Rx(k), Elo, Ehi): Test 2 (ii)
            each_u: dict[int, list[int]] = {}  # k -> [mulup(H_k(x), Elo, Ehi) for x]: Test 3
            for c in range(1, cmax + 1):
                taus = []
                for o in ("lo", "hi"):
                    xlo, xhi, ylo, yhi = sums[(c, o)]
                    taus.append(threshold(-(mulup(uq, pq_lo, pq_hi) + mulup(um, xlo, xhi)), ylo, yhi))
                    ops.add(8)
                if any(t is False for t in taus):
                    cubic_ok = [False] * m
                else:
                    finite = [t for t in taus if t is not None]
                    tau = min(finite) if finite else None
                    cubic_ok = [tau is None or u[k] < tau for k in range(m)]
                    ops.add(len(finite) + m)
                failing = [k for k in range(m) if not cubic_ok[k]]
                passed = [k for k in range(m) if cubic_ok[k]]
                if failing:
                    passed += sharp_tests(q, m, c, failing, alpha, beta, sums, Uq, V, pm, Elo_q, Ehi_q, self_u, other_u, each_u, budget, ops)
                values[(q, m, c)] = tuple(sorted(passed))
    return CubicCases(n_ctx=n, zero=zero, values=values)


def zero_joint(m: int, alpha: list[int], beta: list[int], tlo: int, thi: int, ops: OpCounter) -> bool:
    """Lemma 4.1: (m, ..., m, q) is correct if alpha[x] + mulup(beta[x], tlo, thi) < 0 for every x != m."""
    for x in range(len(alpha)):
        if x == m:
            continue
        ops.add(4)
        if alpha[x] + mulup(beta[x], tlo, thi) >= 0:
            return False
    return True


def zero_exact(q: int, m: int, U: IntMatrix, V: IntMatrix, P: IntMatrix, Elo_q: list[int], Ehi_q: list[int],
               Plo_q: list[int], Phi_q: list[int], ops: OpCounter) -> bool:
    """cubic.md Lemma 6.1 (the cubic strategy's own c = 0 test, imported): positions and x exact."""
    return zero_case(q, m, U, V, P, *zero_weights(q, m, Elo_q, Ehi_q, Plo_q, Phi_q, ops), ops)


def sharp_tests(q: int, m: int, c: int, failing: list[int], alpha: list[int], beta: list[int],
                sums: dict[tuple[int, str], tuple[int, int, int, int]], Uq: list[int], V: IntMatrix, pm: Pessimisations,
                Elo_q: list[int], Ehi_q: list[int], self_u: dict[int, int], other_u: dict[int, int | None],
                each_u: dict[int, list[int]], budget: Budget, ops: OpCounter) -> list[int]:
    """The values k in ``failing`` that Tests 2 and 3 of section 3 sharp-certify for (q, m, c) (Lemma 3.2).

    Test 2 (i) (x = k) at both arrangements for every k; then, per arrangement and for the
    survivors only, Test 2 (ii) (x not in {m, k}, which needs the maximum of F_o over all
    competitors) and, where (ii) fails, Test 3 while the budget lasts.
    """
    v = len(alpha)
    survivors = []
    for k in failing:
        if k not in self_u:
            hk = Uq[k] - Uq[m] + pm.S[k][k] - V[k][m]  # H_k(k) = dU(k) + dV[k,k] + pstar[k]
            self_u[k] = mulup(hk, Elo_q[k], Ehi_q[k])
            ops.add(5)
        ok = True
        for o in ("lo", "hi"):
            xlo, xhi, ylo, yhi = sums[(c, o)]
            ops.add(7)
            if alpha[k] + mulup(beta[k], xlo, xhi) + mulup(self_u[k], ylo, yhi) >= 0:
                ok = False
                break
        if ok:
            survivors.append(k)
    for o in ("lo", "hi"):
        if not survivors:
            break
        xlo, xhi, ylo, yhi = sums[(c, o)]
        F: list[int | None] = [None if x == m else alpha[x] + mulup(beta[x], xlo, xhi) for x in range(v)]
        ops.add(3 * (v - 1))
        best, arg, second = top_two(F, ops)
        still = []
        for k in survivors:
            rest = second if arg == k else best  # max of F_o over x not in {m, k}
            if k not in other_u:
                rx = pm.Rx[k]
                other_u[k] = None if rx is None else mulup(pm.D[q] + rx, Elo_q[k], Ehi_q[k])
                ops.add(3)
            ok_u = other_u[k]
            if rest is not None and ok_u is not None:
                ops.add(4)
                if rest + mulup(ok_u, ylo, yhi) >= 0:
                    if budget.left <= 0:
                        continue
                    budget.left -= 1
                    if not per_x_test(q, m, k, F, ylo, yhi, Uq, V, pm, Elo_q, Ehi_q, each_u, ops):
                        continue
            still.append(k)
        survivors = still
    return survivors


def per_x_test(q: int, m: int, k: int, F: list[int | None], ylo: int, yhi: int, Uq: list[int], V: IntMatrix,
               pm: Pessimisations, Elo_q: list[int], Ehi_q: list[int], each_u: dict[int, list[int]], ops: OpCounter) -> bool:
    """Test 3 of section 3: F_o(x) + mulup(mulup(H_k(x), Elo, Ehi), ylo, yhi) < 0 for every x not in {m, k}.

    H_k(x) = dU_m[q,x] + dV_m[k,x] + pstar[x] exact; the k factor is computed once per (q, m, k).
    """
    v = len(F)
    if k not in each_u:
        ck = Uq[m] + V[k][m]
        Sk = pm.S[k]
        each_u[k] = [0 if x == m else mulup(Uq[x] + Sk[x] - ck, Elo_q[k], Ehi_q[k]) for x in range(v)]
        ops.add(1 + 4 * (v - 1))
    uk = each_u[k]
    for x in range(v):
        fx = F[x]
        if x == k or fx is None:
            continue
        ops.add(4)
        if fx + mulup(uk[x], ylo, yhi) >= 0:
            return False
    return True
