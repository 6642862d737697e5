"""Float64 mirror of the subcubic checker's quantities, used only to *choose* a witness.

Nothing here is trusted: the exact checker recomputes everything. The formulas follow
docs/proofs/subcubic.md so that a witness chosen here is usually accepted there.
"""

from __future__ import annotations

import numpy as np

RANK_ONE_MODES = ("svd", "max_diff", "mean+max_diff", "max_diff_exact")


def row_ranges(a: np.ndarray) -> np.ndarray:
    return a.max(axis=1) - a.min(axis=1)


def bound_max_diff(fs: list[np.ndarray], mean: bool) -> np.ndarray:
    """Per-query minimum over split points of the (centred) |L| @ rowrange(R) bound."""
    best = None
    for j in range(1, len(fs)):
        L = np.linalg.multi_dot(fs[:j]) if j > 1 else fs[0]
        R = np.linalg.multi_dot(fs[j:]) if len(fs) - j > 1 else fs[j]
        rr = row_ranges(R)
        if mean:
            mu = L.mean(axis=0)
            mr = mu @ R
            b = (mr.max() - mr.min()) + np.abs(L - mu) @ rr
        else:
            b = np.abs(L) @ rr
        best = b if best is None else np.minimum(best, b)
    return best


def bound_recursive(fs: list[np.ndarray], mean_levels: set[int]) -> np.ndarray:
    acc = row_ranges(fs[-1])
    for j in range(len(fs) - 2, -1, -1):
        if j in mean_levels:
            mu = fs[j].mean(axis=0)
            chain = mu
            for f in fs[j + 1:]:
                chain = chain @ f
            acc = (chain.max() - chain.min()) + np.abs(fs[j] - mu) @ acc
        else:
            acc = np.abs(fs[j]) @ acc
    return acc


def bound_svd(fs: list[np.ndarray]) -> float:
    """(16 tr((ZC)^4))^(1/8), the checker's Schatten-8 bound on sqrt(2) sigma_1."""
    F1, F2, F3 = fs
    Z = F2.T @ (F1.T @ F1) @ F2
    C = F3 @ F3.T
    M = Z @ C
    M2 = M @ M
    T = float(np.sum(M2 * M2.T))
    return (16.0 * max(T, 0.0)) ** 0.125


def eps_bound(mode: str, fs: list[np.ndarray], v: int) -> np.ndarray:
    if mode == "svd":
        return np.full(v, bound_svd(fs))
    if mode in ("max_diff", "mean+max_diff", "max_diff_subproduct", "mean+max_diff_subproduct"):
        return bound_max_diff(fs, mode.startswith("mean+"))
    if mode == "max_diff_subproduct_recursive":
        return bound_recursive(fs, set())
    if mode == "mean+max_diff_subproduct_recursive":
        return bound_recursive(fs, {0})
    if mode == "mean_recursive+max_diff_subproduct_recursive":
        return bound_recursive(fs, set(range(len(fs) - 1)))
    if mode == "max_diff_exact":
        return row_ranges(np.linalg.multi_dot(fs))
    raise ValueError(mode)


def positional_ratios(Ppos: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """rho_up[q, ismax, c] (lowest max-copy arrangement) and rho_dn (highest), as in the checker."""
    v, n = Ppos.shape
    rel = (Ppos - Ppos[:, -1:]) * s
    ex = np.exp(np.clip(rel, -700, 700))
    srt = np.sort(ex[:, :-1], axis=1)  # ascending, non-query slots (exp is monotone)
    up = np.full((v, 2, n), np.nan)
    dn = np.full((v, 2, n), np.nan)
    total = ex.sum(axis=1)
    for ismax in (0, 1):
        for c in range(1, n):
            nm = n - c
            k = nm - 1 if ismax else nm
            low = srt[:, :k].sum(axis=1) + (ex[:, -1] if ismax else 0.0)
            high = srt[:, n - 1 - k:].sum(axis=1) + (ex[:, -1] if ismax else 0.0)
            with np.errstate(over="ignore", divide="ignore"):  # inf ratios mean attention 0: the right limit
                up[:, ismax, c] = (total - low) / low
                dn[:, ismax, c] = (total - high) / high
    return up, dn


def logit_side(EVOU: np.ndarray, PVOU: np.ndarray, mu: np.ndarray | None, dterm: np.ndarray):
    """L[m,x], Em[m,x], Rmax[m], Rmin[m], Wp[m,j] (float mirror of checker/strategies/subcubic/cases.py logit_side)."""
    v = EVOU.shape[0]
    ar = np.arange(v)
    Em = EVOU - EVOU[ar, ar][:, None]
    pstar = (PVOU[:, None, :] - PVOU[:, :, None]).max(axis=0)  # [m, x]
    mu = np.zeros(v) if mu is None else mu
    L = mu[None, :] - mu[:, None] + pstar
    offdiag = ~np.eye(v, dtype=bool)
    Rmax = np.where(offdiag, Em, -np.inf).max(axis=1)
    Rmin = np.where(offdiag, Em, np.inf).min(axis=1)
    srt = np.sort(EVOU, axis=1)
    top, second = srt[:, -1], srt[:, -2]
    amax = EVOU.argmax(axis=1)
    excl = np.where(ar[None, :] == amax[:, None], second[:, None], top[:, None])  # [k, m]
    worst = excl - EVOU  # [k, m] = max_{x != m} EVOU[k,x] - EVOU[k,m]
    Wp = np.maximum.accumulate(worst, axis=0).T  # [m, j]
    return L, Em, Rmax, Rmin, Wp
