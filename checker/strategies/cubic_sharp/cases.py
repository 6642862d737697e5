"""The case decisions of the cubic-sharp strategy, with exact integers (docs/proofs/cubic_sharp.md).

The case split, the c = 0 cases, the exp enclosures, the position sums and the count are those
of the cubic strategy (docs/proofs/cubic.md), imported from checker.strategies.cubic. What
differs is the test of a pure case (q, m, k, c >= 1): instead of one maximum over the
competitor x per token, the query slot, the max copies and the direct path are bounded
*jointly* for each x (F_o(x), section 2 of the proof), and the k copies are bounded exactly at
x = k and by one maximum over the remaining competitors (Lemmas 2.1-2.3).

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
    position_sums,
    sort_positions,
    threshold,
    zero_case,
)

IntMatrix = list[list[int]]


@dataclass(frozen=True)
class Pessimisations:
    """Section 1 of docs/proofs/cubic_sharp.md, for one max m (integers at scale 2^e0).

    pstar[x]  = max_p (PVOU[p,x] - PVOU[p,m])                        (x != m; pstar[m] unused, 0)
    D[q]      = max_{x != m} dU_m[q,x]                                for q <= m
    R[t]      = max_{x != m} (dV_m[t,x] + pstar[x])                   for t <= m
    Rx[t]     = max_{x not in {m,t}} (dV_m[t,x] + pstar[x])           for t < m; None if v = 2
    """

    pstar: list[int]
    D: list[int]
    R: list[int]
    Rx: list[int | None]


def pessimise(m: int, U: IntMatrix, V: IntMatrix, P: IntMatrix, ops: OpCounter) -> Pessimisations:
    """The pessimised quantities of section 1 for max m (exact integer maxima, top-two per token)."""
    v, n = len(U), len(P)
    others = [x for x in range(v) if x != m]
    pstar = [0] * v
    for x in others:
        pstar[x] = max(P[p][x] - P[p][m] for p in range(n))
    ops.add(2 * n * (v - 1))
    D = [max(U[q][x] for x in others) - U[q][m] for q in range(m + 1)]
    ops.add((m + 1) * (v - 1))
    R: list[int] = []
    Rx: list[int | None] = []
    for t in range(m + 1):
        row, base = V[t], V[t][m]
        best, arg, second = None, -1, None  # top two of row[x] + pstar[x] over x != m
        for x in others:
            s = row[x] + pstar[x]
            if best is None or s > best:
                best, arg, second = s, x, best
            elif second is None or s > second:
                second = s
        ops.add(3 * (v - 1))  # one add, at most two comparisons per x
        assert best is not None  # v >= 2 (certificate loader)
        R.append(best - base)
        excl = second if arg == t else best
        Rx.append(None if excl is None else excl - base)
        ops.add(3)
    return Pessimisations(pstar=pstar, D=D, R=R, Rx=Rx)


def top_two(values: list[int | None]) -> tuple[int | None, int, int | None]:
    """(largest, its index, second largest) of the non-None entries (None where there are too few)."""
    best, arg, second = None, -1, None
    for i, s in enumerate(values):
        if s is None:
            continue
        if best is None or s > best:
            best, arg, second = s, i, best
        elif second is None or s > second:
            second = s
    return best, arg, second


def sharp_cases(paths: ExactPaths, d_head: int, ops: OpCounter) -> CubicCases:
    """Decide every case of the cubic split with the sharp pure-case test (Theorem 4.1 of the proof).

    The returned CubicCases has the cubic strategy's keys and count formula (section 5); the
    sets values[(q, m, c)] are the sets S#_{q,m,c} of section 3, which contain the cubic sets
    (Lemma 3.2): a value the cubic threshold test certifies is not re-tested.
    """
    U, V, P = common_scale(paths.EUPU, paths.EVOU, paths.PVOU)
    v, n = len(U), len(P)
    Elo, Ehi, Plo, Phi, _ = exp_tables(paths, d_head, ops)
    pes = [pessimise(m, U, V, P, ops) for m in range(v)]
    zero: dict[tuple[int, int], bool] = {}
    values: dict[tuple[int, int, int], tuple[int, ...]] = {}
    for q in range(v):
        order = sort_positions(paths.EQKP.rows[q], ops)
        sums = position_sums(order, Plo[q], Phi[q], ops)
        pq_lo, pq_hi = Plo[q][n - 1], Phi[q][n - 1]
        Elo_q, Ehi_q, Uq = Elo[q], Ehi[q], U[q]
        for m in range(q, v):
            # c = 0: the single sequence (m, ..., m, q), decided exactly in x (cubic.md Lemma 6.1).
            if q == m or n >= 2:
                wlo = [Elo_q[m] * Plo[q][p] for p in range(n - 1)] + [Elo_q[q] * pq_lo]
                whi = [Ehi_q[m] * Phi[q][p] for p in range(n - 1)] + [Ehi_q[q] * pq_hi]
                ops.add(2 * n)
                zero[(q, m)] = zero_case(q, m, U, V, P, wlo, whi, ops)
            cmax = n - 1 if q == m else n - 2
            if cmax < 1:
                continue
            pm = pes[m]
            Dmq = pm.D[q]
            # Cubic test (cubic.md Lemmas 5.2-5.4): u(t) = mulup(D + R(t), Elo, Ehi).
            u = [mulup(Dmq + pm.R[t], Elo_q[t], Ehi_q[t]) for t in range(m + 1)]
            ops.add(3 * (m + 1))
            uq, um = u[q], u[m]
            joint: tuple[list[int], list[int]] | None = None  # alpha, beta of section 2, built on first need
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
                if not failing:
                    values[(q, m, c)] = tuple(range(m))
                    continue
                if joint is None:
                    joint = joint_terms(q, m, Uq, V, pm.pstar, (Elo_q[q], Ehi_q[q], pq_lo, pq_hi), (Elo_q[m], Ehi_q[m]), ops)
                passed = set(k for k in range(m) if cubic_ok[k])
                alpha, beta = joint
                for o in ("lo", "hi"):
                    xlo, xhi, ylo, yhi = sums[(c, o)]
                    # F_o(x) >= bound of the query slot + max copies at competitor x (Lemma 2.2).
                    F: list[int | None] = [None if x == m else alpha[x] + mulup(beta[x], xlo, xhi) for x in range(v)]
                    ops.add(3 * (v - 1))
                    best, arg, second = top_two(F)
                    ops.add(2 * (v - 1))
                    still = []
                    for k in failing:
                        # x = k: the k copies exactly (Lemma 2.1, first bound).
                        self_k = Uq[k] - Uq[m] + V[k][k] - V[k][m] + pm.pstar[k]
                        Fk = F[k]
                        assert Fk is not None
                        b1 = Fk + mulup(mulup(self_k, Elo_q[k], Ehi_q[k]), ylo, yhi)
                        ops.add(10)
                        if b1 >= 0:
                            continue
                        # x not in {m, k}: the k copies by D + Rx(k) (Lemma 2.1, second bound).
                        rest = second if arg == k else best
                        rx = pm.Rx[k]
                        if rest is not None and rx is not None:
                            b2 = rest + mulup(mulup(Dmq + rx, Elo_q[k], Ehi_q[k]), ylo, yhi)
                            ops.add(8)
                            if b2 >= 0:
                                continue
                        still.append(k)
                    failing = still
                    if not failing:
                        break
                passed.update(failing)
                values[(q, m, c)] = tuple(sorted(passed))
    return CubicCases(n_ctx=n, zero=zero, values=values)


def joint_terms(q: int, m: int, Uq: list[int], V: IntMatrix, pstar: list[int], wq: tuple[int, int, int, int],
                em: tuple[int, int], ops: OpCounter) -> tuple[list[int], list[int]]:
    """alpha[x] >= pi_q(n-1) e_q(q) H_q(x) and beta[x] >= e_q(m) H_m(x) (section 2), x != m, as integers.

    H_t(x) = dU_m[q,x] + dV_m[t,x] + pstar[x]; alpha carries two enclosure factors (scale 2^-2F),
    beta one (the position factor X is applied per arrangement). Entries at x = m are 0, unused.
    """
    Elo_q, Ehi_q, pq_lo, pq_hi = wq
    Elo_m, Ehi_m = em
    v = len(Uq)
    Vq, Vm = V[q], V[m]
    alpha, beta = [0] * v, [0] * v
    for x in range(v):
        if x == m:
            continue
        du = Uq[x] - Uq[m] + pstar[x]
        alpha[x] = mulup(mulup(du + Vq[x] - Vq[m], Elo_q, Ehi_q), pq_lo, pq_hi)
        beta[x] = mulup(du + Vm[x] - Vm[m], Elo_m, Ehi_m)
    ops.add(14 * (v - 1))
    return alpha, beta
