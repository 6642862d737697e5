"""Untrusted search for the brute-force strategy: a claim from float64 margins with a safety margin.

The claim is the number of sequences whose float64 margin logit(m) - max_{x != m} logit(x)
exceeds a tolerance far above float64 rounding of the path evaluation (about 1e-13 of the
logit scale here). Every such sequence is truly correct, and the exact checker decides every
sequence exactly (fast path, then full precision), so it certifies at least this many. The
witness is empty: the checker re-derives everything.
"""

from __future__ import annotations

import itertools

import numpy as np

from extract.model import FloatPaths, ModelWeights, float_paths, logits_from_paths
from extract.search import SearchResult

RELATIVE_TOLERANCE = 1e-9  # of the logit scale; float64 path errors are about 1e-13 of it


def logit_scale(paths: FloatPaths) -> float:
    """An upper bound on |logit(x)| for every sequence: max|EUPU| + max|EVOU| + max|PVOU|."""
    return float(np.abs(paths.EUPU).max() + np.abs(paths.EVOU).max() + np.abs(paths.PVOU).max())


def float_margins_all(weights: ModelWeights, rows_per_block: int = 1 << 14) -> np.ndarray:
    """Float64 margins logit(m) - max_{x != m} logit(x) of all v^n sequences, lexicographic order.

    Uses that Z logit(x) = sum_p w_p(q, t_p) (EUPU[q,x] + EVOU[t_p,x] + PVOU[p,x]) is an outer
    sum of per-position tables for each query token q (Z = sum_p w_p > 0).
    """
    v, n = weights.config.d_vocab, weights.config.n_ctx
    P = float_paths(weights)
    out = np.empty(v**n, dtype=np.float64)
    k = n - 1
    tail = 0  # number of trailing free positions enumerated in one block
    while tail < k and v ** (tail + 1) <= rows_per_block:
        tail += 1
    lead = k - tail
    grids = np.meshgrid(*[np.arange(v)] * tail, indexing="ij") if tail else []
    tail_tokens = np.stack([g.reshape(-1) for g in grids], axis=1) if tail else np.zeros((1, 0), dtype=np.int64)
    tail_max = tail_tokens.max(axis=1) if tail else np.zeros(1, dtype=np.int64)
    for q in range(v):
        s = (P.EQKE[q][:, None] + P.EQKP[q][None, :]) * P.inv_sqrt_dhead  # [t, p]
        w = np.exp(s - s.max())
        T = [w[:, p, None] * (P.EVOU + P.PVOU[p][None, :] + P.EUPU[q][None, :]) for p in range(n)]
        Zt = [w[:, p] for p in range(n)]
        block = T[n - 1][q][None, :].repeat(len(tail_tokens), axis=0)
        zblock = np.full(len(tail_tokens), Zt[n - 1][q])
        for j in range(tail):
            block = block + T[lead + j][tail_tokens[:, j]]
            zblock = zblock + Zt[lead + j][tail_tokens[:, j]]
        rows = np.arange(len(tail_tokens))
        for li, lead_tokens in enumerate(itertools.product(range(v), repeat=lead)):
            S = block.copy()
            Z = zblock.copy()
            for p, t in enumerate(lead_tokens):
                S += T[p][t]
                Z += Zt[p][t]
            m = np.maximum(tail_max, max((q, *lead_tokens)))
            at_m = S[rows, m]
            S[rows, m] = -np.inf
            margin = (at_m - S.max(axis=1)) / Z
            # index of (lead, tail, q): ((lead_index * v^tail) + tail_index) * v + q
            out[(li * len(rows) + rows) * v + q] = margin
    return out


def float_margins_of(weights: ModelWeights, tokens: np.ndarray) -> np.ndarray:
    """Float64 margins of the given sequences [rows, n] (direct path evaluation)."""
    logits = logits_from_paths(float_paths(weights), tokens)
    m = tokens.max(axis=1)
    r = np.arange(len(tokens))
    at_m = logits[r, m].copy()
    logits[r, m] = -np.inf
    return at_m - logits.max(axis=1)


def search(weights: ModelWeights, knobs: dict[str, str]) -> SearchResult:
    """Claim = #{sequences with float64 margin > RELATIVE_TOLERANCE * logit scale}; empty witness."""
    if knobs:
        raise ValueError(f"brute-force takes no knobs, got {sorted(knobs)}")
    margins = float_margins_all(weights)
    tol = RELATIVE_TOLERANCE * (1.0 + logit_scale(float_paths(weights)))
    claim = int((margins > tol).sum())
    near = int((np.abs(margins) <= tol).sum())
    return SearchResult(
        witness={},
        certified_count=claim,
        info={
            "claim_source": "float64 margins with a safety margin (the checker decides every sequence exactly)",
            "float64_correct": str(int((margins > 0).sum())),
            "tolerance": repr(tol),
            "near_ties_excluded": str(near),
        },
    )
