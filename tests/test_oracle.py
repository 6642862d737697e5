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


def test_oracle_is_not_fooled_by_a_huge_common_logit_offset() -> None:
    """Adding the same constant to every logit changes no decision; the oracle must not be fooled.

    Residual direction 0 is 1 at the query position for every token (E[:,0] = 0, P[n-1,0] = 1) and
    W_U[0,:] = 2^50 is constant across outputs, so every logit gets the same huge offset.
    """
    cfg = ModelConfig(d_vocab=6, n_ctx=2, d_model=4, d_head=4)
    for seed in range(6):
        t = ModelWeights.random(cfg, seed, scale=2.0).tensors()
        t["W_E"][:, 0] = 0.0
        t["W_pos"][:, 0] = 0.0
        t["W_pos"][-1, 0] = 1.0
        t["W_U"][0, :] = np.float32(2.0**50)
        shifted = ModelWeights.from_tensors(cfg, t)
        mats = _exact_matrices(shifted)
        naive = [_mp_correct(mats, cfg.d_head, seq) for seq in itertools.product(range(6), repeat=2)]
        assert exact_correct_mask(shifted).tolist() == naive
