"""Proof search for the cubic strategy (docs/proofs/cubic.md).

The cubic proof needs no witness: the checker recomputes every case. The claimed count is
the exact count of the checker's own routine (checker.strategies.cubic), run here on the
certificate being built, so the claim never exceeds what the checker certifies. A float64
evaluation of the same bound (float_cubic_count) is reported alongside as a heuristic
cross-check; it is never used as the claim.
"""

from __future__ import annotations

from math import comb

import numpy as np

from extract.model import ModelWeights, float_paths
from extract.search import SearchResult, exact_checker_count, exact_claim_search


def float_pessimisations(U: np.ndarray, V: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """D[m, q] = max_{x != m} (U[q,x] - U[q,m]); R[m, t] = max_{x != m} (V[t,x] - V[t,m] + PVOU*_m[x])."""
    v = U.shape[0]
    D = np.empty((v, v))
    R = np.empty((v, v))
    for m in range(v):
        pstar = (P - P[:, m : m + 1]).max(axis=0)
        pstar[m] = -np.inf
        Um = U.copy()
        Um[:, m] = -np.inf
        D[m] = Um.max(axis=1) - U[:, m]
        R[m] = (V + pstar[None, :]).max(axis=1) - V[:, m]
    return D, R


def float_cubic_count(weights: ModelWeights) -> int:
    """The cubic count of docs/proofs/cubic.md section 7, evaluated in float64 (a heuristic)."""
    fp = float_paths(weights)
    U, V, P = fp.EUPU, fp.EVOU, fp.PVOU
    v, n = U.shape[0], P.shape[0]
    rho = fp.inv_sqrt_dhead
    D, R = float_pessimisations(U, V, P)
    ms = np.arange(v)
    below = ms[None, :] < ms[:, None]  # [m, k]: k < m
    total = 0
    for q in range(v):
        e = np.exp(rho * (fp.EQKE[q] - fp.EQKE[q].max()))
        pi = np.exp(rho * (fp.EQKP[q] - fp.EQKP[q].max()))
        g = e[None, :] * (D[:, q][:, None] + R)  # [m, t]
        order = np.argsort(fp.EQKP[q, : n - 1], kind="stable")
        live = ms >= q
        # c = 0 cases: the single sequence (m, ..., m, q), exact in x.
        dU = U[q][None, :] - U[q][:, None]  # [m, x]
        dVm = V - np.diag(V)[:, None]  # [m, x]: V[m,x] - V[m,m]
        dVq = V[q][None, :] - V[q][:, None]  # [m, x]: V[q,x] - V[q,m]
        s = np.zeros((v, v))
        for p in range(n - 1):
            s += pi[p] * (dU + dVm + (P[p][None, :] - P[p][:, None]))
        s *= e[:, None]
        s += e[q] * pi[n - 1] * (dU + dVq + (P[n - 1][None, :] - P[n - 1][:, None]))
        s[ms, ms] = -np.inf
        zero_ok = (s.max(axis=1) < 0) & live
        if n < 2:
            zero_ok &= ms == q
        total += int(zero_ok.sum())
        for c in range(1, n):
            ok = below.copy()
            for N in (order[:c], order[n - 1 - c :]):
                Y = pi[N].sum()
                X = pi[: n - 1].sum() - Y
                A = pi[n - 1] * g[:, q] + X * g[ms, ms]
                ok &= (A[:, None] + Y * g) < 0
            valid = live & ((ms == q) if c == n - 1 else True)
            sizes = ok.sum(axis=1)[valid]
            total += int(sum(comb(n - 1, c) * int(k) ** c for k in sizes))
    return total


def exact_cubic_count(weights: ModelWeights) -> tuple[int, int]:
    """(count, operations) of the exact cubic checker on these weights."""
    return exact_checker_count(weights, "cubic")


def search(weights: ModelWeights, knobs: dict[str, str]) -> SearchResult:
    """Empty witness; claim = the exact count the checker computes (float count reported as info)."""
    return exact_claim_search(weights, knobs, "cubic", float_cubic_count)
