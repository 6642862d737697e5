"""Proof search for the cubic-sharp strategy (docs/proofs/cubic_sharp.md).

Like cubic, cubic-sharp needs no witness: the checker recomputes every case. The claimed count
is the exact count of the checker's own routine (checker.strategies.cubic_sharp) run on the
certificate being built, so the claim never exceeds what the checker certifies. A float64
evaluation of the same bound (float_sharp_count) is reported alongside as a heuristic
cross-check; it is never used as the claim.
"""

from __future__ import annotations

from math import comb

import numpy as np

from extract.model import ModelWeights, float_paths
from extract.search import SearchResult, exact_claim_search


def float_sharp_count(weights: ModelWeights) -> int:
    """The cubic-sharp count of docs/proofs/cubic_sharp.md evaluated in float64 (a heuristic).

    Pure case (q, m, k, c) at arrangement N: with H_t(x) = dU[q,x] + dV[t,x] + PVOU*[x],
    certified iff at both extreme arrangements, for every x != m,
    pi(n-1) e(q) H_q(x) + X_N e(m) H_m(x) + Y_N e(k) H_k(x) < 0 (the predicate of Lemma 2.3,
    without the per-x test budget). The c = 0 cases are decided per x and per position.
    """
    fp = float_paths(weights)
    U, V, P = fp.EUPU, fp.EVOU, fp.PVOU
    v, n = U.shape[0], P.shape[0]
    rho = fp.inv_sqrt_dhead
    total = 0
    for q in range(v):
        e = np.exp(rho * (fp.EQKE[q] - fp.EQKE[q].max()))
        pi = np.exp(rho * (fp.EQKP[q] - fp.EQKP[q].max()))
        order = np.argsort(fp.EQKP[q, : n - 1], kind="stable")
        T = pi[: n - 1].sum()
        for m in range(q, v):
            others = np.arange(v) != m
            pstar = (P - P[:, m : m + 1]).max(axis=0)
            dU = U[q] - U[q, m]
            dV = V - V[:, m : m + 1]
            if q == m or n >= 2:  # c = 0: the single sequence (m, ..., m, q), exact in x and positions
                seq = [m] * (n - 1) + [q]
                s = sum(e[t] * pi[p] * (dU + dV[t] + P[p] - P[p, m]) for p, t in enumerate(seq))
                total += int(bool(np.all(s[others] < 0)))
            cmax = n - 1 if q == m else n - 2
            if cmax < 1:
                continue
            H = dU[None, :] + dV[: m + 1] + pstar[None, :]  # [t, x] for t <= m
            for c in range(1, cmax + 1):
                ok = np.ones(m, dtype=bool)
                for N in (order[:c], order[n - 1 - c :]):
                    Y = pi[N].sum()
                    X = T - Y
                    A = pi[n - 1] * e[q] * H[q] + (X * e[m] * H[m] if X > 0 else 0.0)
                    tot = A[None, :] + Y * e[:m, None] * H[:m]
                    ok &= tot[:, others].max(axis=1) < 0
                total += comb(n - 1, c) * int(ok.sum()) ** c
    return total


def search(weights: ModelWeights, knobs: dict[str, str]) -> SearchResult:
    """Empty witness; claim = the exact count the checker computes (float count reported as info)."""
    return exact_claim_search(weights, knobs, "cubic-sharp", float_sharp_count)
