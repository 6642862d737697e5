"""Untrusted search for the single-sequence strategy (floats are fine here).

Candidates are the v constant sequences (t, t, ..., t) and the sequence (0, ..., 0, v-1);
the one with the largest float64 margin logit[max] - max_{x != max} logit[x] is the witness.
It is claimed (count 1) only when that margin is clearly positive; the checker re-decides it
exactly either way.
"""

from __future__ import annotations

import numpy as np

from extract.model import ModelWeights, float_paths, logits_from_paths
from extract.search import SearchResult

CLAIM_MARGIN = 1e-6  # relative to the largest |logit| among the candidates


def search(weights: ModelWeights, knobs: dict[str, str]) -> SearchResult:
    if knobs:
        raise ValueError(f"single-sequence takes no knobs, got {sorted(knobs)}")
    v, n = weights.config.d_vocab, weights.config.n_ctx
    cands = np.repeat(np.arange(v, dtype=np.int64)[:, None], n, axis=1)
    extra = np.zeros((1, n), dtype=np.int64)
    extra[0, -1] = v - 1
    cands = np.concatenate([cands, extra])
    logits = logits_from_paths(float_paths(weights), cands)
    m = cands.max(axis=1)
    rows = np.arange(len(cands))
    right = logits[rows, m].copy()
    logits[rows, m] = -np.inf
    margins = right - logits.max(axis=1)
    best = int(np.argmax(margins))
    scale = float(np.abs(right).max()) or 1.0
    margin = float(margins[best])
    claim = 1 if margin > CLAIM_MARGIN * scale else 0
    seq = [int(t) for t in cands[best]]
    return SearchResult(
        witness={"sequence": seq},
        certified_count=claim,
        info={"float_margin": repr(margin), "candidates": str(len(cands))},
    )
