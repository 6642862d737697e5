"""Untrusted search for the brute-force strategy.

Up to FLOAT_SEARCH_MAX_SEQUENCES = 2^24 sequences (the paper's 64^4), the claim is the number of
sequences whose float64 margin logit(m) - max_{x != m} logit(x) exceeds a tolerance far above
float64 rounding of the path evaluation (about 1e-13 of the logit scale here). Every such
sequence is truly correct, and the exact checker decides every sequence exactly (fast path,
then full precision), so it certifies at least this many.

Above 2^24 sequences (e.g. K = 5, v = 64: 64^5 = 2^30) the float margin vector would not fit in
memory (8 bytes per sequence) and the float evaluation is slower than the exact checker, so the
claim is the exact count of the checker's own routine (checker.strategies.brute_force) run on
the certificate being built, as the cubic search does: the claim then equals what the checker
certifies. Above BRUTE_FORCE_MAX_SEQUENCES = 2^34 the strategy is refused (one line,
BruteForceTooLarge): at the measured 10-25 ns per sequence that is already hours of work, and
K = 10, v = 64 (2^60) would take centuries.

The witness is empty: the checker re-derives everything.
"""

from __future__ import annotations

import itertools

import numpy as np

from extract.errors import UserError
from extract.model import FloatPaths, ModelWeights, float_paths, logits_from_paths
from extract.search import SearchResult

RELATIVE_TOLERANCE = 1e-9  # of the logit scale; float64 path errors are about 1e-13 of it
FLOAT_SEARCH_MAX_SEQUENCES = 2**24  # v^n up to which the claim comes from float64 margins
BRUTE_FORCE_MAX_SEQUENCES = 2**34  # v^n beyond which brute force is refused


class BruteForceTooLarge(UserError):
    """Brute force asked for a model with more than BRUTE_FORCE_MAX_SEQUENCES sequences."""


def refusal(v: int, n: int) -> str | None:
    """None if brute force is feasible at (v, n); else the one-line reason."""
    total = v**n
    if total <= BRUTE_FORCE_MAX_SEQUENCES:
        return None
    return (f"brute force at n_ctx={n}, d_vocab={v} would check v^n = {total:.3e} sequences; "
            f"this implementation stops at 2^34 = {BRUTE_FORCE_MAX_SEQUENCES:.3e} (use cubic or subcubic)")


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


def exact_brute_force_search(weights: ModelWeights) -> SearchResult:
    """Claim = the number of sequences the exact checker routine proves correct on these weights.

    Also reports how many it refutes (proved incorrect) and how many it leaves undecided; when
    none is undecided, proved / v^n is the model's exact accuracy (extract may import checker).
    """
    from checker.load import load_certificate_obj
    from checker.ops import OpCounter
    from checker.strategies import brute_force as checker_bf

    from extract.certificate import build_certificate

    cert = load_certificate_obj(build_certificate(weights, "brute-force", {}, {}, 0), "<search>")
    ops = OpCounter()
    res = checker_bf.run(cert, ops)
    total = weights.config.n_sequences
    return SearchResult(
        witness={},
        certified_count=res.proved,
        info={
            "claim_source": "exact count of checker.strategies.brute_force run on this certificate",
            "checker_ops": str(ops.count),
            "proved_correct": str(res.proved),
            "refuted_fast": str(res.fast_refuted),
            "fallback_not_proved": str(res.fallback_not_proved),
            "total_sequences": str(total),
        },
    )


def search(weights: ModelWeights, knobs: dict[str, str]) -> SearchResult:
    """Claim = #{sequences with float64 margin > RELATIVE_TOLERANCE * logit scale} up to 2^24
    sequences, the exact checker count above; BruteForceTooLarge above 2^34; empty witness."""
    if knobs:
        raise ValueError(f"brute-force takes no knobs, got {sorted(knobs)}")
    c = weights.config
    problem = refusal(c.d_vocab, c.n_ctx)
    if problem:
        raise BruteForceTooLarge(problem)
    if c.n_sequences > FLOAT_SEARCH_MAX_SEQUENCES:
        return exact_brute_force_search(weights)
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
