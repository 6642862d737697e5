"""The test oracle agrees with a naive per-sequence high-precision evaluation on tiny models."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from extract.config import ModelConfig
from extract.model import ModelWeights
from tests.oracle import _exact_matrices, _mp_correct, all_sequences, exact_correct_mask


@pytest.mark.parametrize("seed", range(4))
def test_oracle_mask_equals_naive_high_precision_decision(seed: int) -> None:
    cfg = ModelConfig(d_vocab=5, n_ctx=3, d_model=4, d_head=3)
    w = ModelWeights.random(cfg, seed, scale=3.0)
    mask = exact_correct_mask(w)
    mats = _exact_matrices(w)
    naive = [_mp_correct(mats, cfg.d_head, seq) for seq in itertools.product(range(5), repeat=3)]
    assert mask.tolist() == naive


def test_all_sequences_is_lexicographic() -> None:
    seqs = all_sequences(3, 2)
    assert seqs.tolist() == [list(s) for s in itertools.product(range(3), repeat=2)]
    assert np.array_equal(seqs[:, 0] * 3 + seqs[:, 1], np.arange(9))
