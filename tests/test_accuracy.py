"""The fast float brute force counts exactly what a naive per-sequence evaluation counts."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from extract.accuracy import all_sequences, float_brute_force, float_brute_force_forward
from extract.config import ModelConfig
from extract.model import MaxOfKTransformer, ModelWeights
from tests.oracle import exact_correct_mask, tiny_trained_weights


def naive_wrong_indices(weights: ModelWeights) -> list[int]:
    """One float64 forward pass per sequence; correct iff logit[m] > every other logit."""
    v, n = weights.config.d_vocab, weights.config.n_ctx
    model = MaxOfKTransformer.from_weights(weights).double()
    wrong = []
    with torch.no_grad():
        for index, seq in enumerate(itertools.product(range(v), repeat=n)):
            logits = model(torch.tensor([seq]))[0].tolist()
            m = max(seq)
            if not all(logits[m] > logits[x] for x in range(v) if x != m):
                wrong.append(index)
    return wrong


tiny = st.builds(ModelConfig, d_vocab=st.integers(2, 7), n_ctx=st.integers(1, 3), d_model=st.integers(1, 6), d_head=st.integers(1, 6))


@given(config=tiny, seed=st.integers(0, 10**6), scale=st.sampled_from([0.5, 2.0, 8.0]))
@settings(max_examples=25, deadline=None)
def test_fast_count_equals_naive_loop_on_random_models(config: ModelConfig, seed: int, scale: float) -> None:
    w = ModelWeights.random(config, seed=seed, scale=scale)
    res = float_brute_force(w)
    wrong = naive_wrong_indices(w)
    assert res.total == config.d_vocab**config.n_ctx
    assert res.correct == res.total - len(wrong)
    assert res.wrong_indices.tolist() == wrong


@pytest.mark.parametrize("seed", [0, 1])
def test_fast_count_equals_naive_loop_on_a_trained_model(seed: int) -> None:
    w = tiny_trained_weights(ModelConfig(8, 3, 8, 8), seed, 300)
    res = float_brute_force(w)
    assert res.wrong_indices.tolist() == naive_wrong_indices(w)
    assert res.correct > res.total // 2  # trained: most sequences are right, so the comparison is not vacuous


@given(seed=st.integers(0, 10**6), batch=st.sampled_from([1, 5, 8, 64, 10**6]))
@settings(max_examples=15, deadline=None)
def test_block_size_does_not_change_the_result(seed: int, batch: int) -> None:
    w = ModelWeights.random(ModelConfig(8, 4, 5, 5), seed=seed, scale=3.0)
    a, b = float_brute_force(w, batch_size=batch), float_brute_force(w, batch_size=4096)
    assert a.correct == b.correct and np.array_equal(a.wrong_indices, b.wrong_indices)


def test_ties_count_as_wrong() -> None:
    """W_U = 0 makes every logit 0: every sequence is a tie, so none is correct."""
    w = ModelWeights.random(ModelConfig(5, 3, 4, 4), seed=0)
    tied = ModelWeights.from_tensors(w.config, {**w.tensors(), "W_U": np.zeros((4, 5), np.float32)})
    res = float_brute_force(tied)
    assert res.correct == 0 and res.wrong_indices.tolist() == list(range(125))
    assert float_brute_force_forward(tied).correct == 0


@given(seed=st.integers(0, 10**6))
@settings(max_examples=10, deadline=None)
def test_fast_count_agrees_with_the_exact_oracle(seed: int) -> None:
    """Away from float near-ties (absent for random continuous weights), float64 decides like exact reals."""
    w = ModelWeights.random(ModelConfig(6, 3, 4, 4), seed=seed, scale=3.0)
    mask = exact_correct_mask(w)
    res = float_brute_force(w)
    assert res.wrong_indices.tolist() == np.flatnonzero(~mask).tolist()


def test_forward_cross_check_agrees_on_a_trained_model() -> None:
    w = tiny_trained_weights(ModelConfig(8, 3, 8, 8), 0, 300)
    a, b = float_brute_force(w), float_brute_force_forward(w, batch_size=100)
    assert np.array_equal(a.wrong_indices, b.wrong_indices)


def test_all_sequences_is_lexicographic() -> None:
    seqs = all_sequences(3, 3)
    assert seqs.tolist() == [list(t) for t in itertools.product(range(3), repeat=3)]


def test_threads_are_restored() -> None:
    before = torch.get_num_threads()
    float_brute_force(ModelWeights.random(ModelConfig(4, 2, 3, 3), seed=0), threads=1)
    assert torch.get_num_threads() == before


@pytest.mark.slow
def test_showcase_model_float_accuracy_matches_forward_and_oracle() -> None:
    """Seed 123 at full size (needs models/seed-123.safetensors): fast count = float32 forward and oracle."""
    from extract.weights import load_model

    path = Path("models/seed-123.safetensors")
    if not path.exists():
        pytest.skip("train it first: compact-proofs train --seed 123")
    w = load_model(path)
    fast = float_brute_force(w)
    assert fast.accuracy >= 0.99
    assert fast.correct == int(exact_correct_mask(w).sum())
    forward = float_brute_force_forward(w)
    assert abs(forward.correct - fast.correct) <= 10


@given(seed=st.integers(0, 10**6))
@settings(max_examples=10, deadline=None)
def test_overflow_fallback_counts_the_same(seed: int) -> None:
    """The per-sequence fallback (used when a score span would overflow exp) agrees with the outer sums."""
    import extract.accuracy as acc

    w = ModelWeights.random(ModelConfig(6, 3, 4, 3), seed=seed, scale=2.0)
    fast = float_brute_force(w)
    old = acc.EXP_SAFE
    acc.EXP_SAFE = -1e300  # every query row takes the fallback
    try:
        slow = float_brute_force(w)
    finally:
        acc.EXP_SAFE = old
    assert fast.correct == slow.correct and np.array_equal(fast.wrong_indices, slow.wrong_indices)


def test_huge_scores_do_not_underflow_into_ties() -> None:
    """Scores spanning thousands (exp under/overflow territory) are still decided like the naive loop."""
    w = ModelWeights.random(ModelConfig(3, 2, 1, 1), seed=1, scale=40.0)
    assert float_brute_force(w).wrong_indices.tolist() == naive_wrong_indices(w)
