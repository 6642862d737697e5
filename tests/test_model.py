"""The torch model, the weight container and the path decomposition of semantics.md agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from extract.config import WEIGHT_NAMES, ModelConfig
from extract.model import MaxOfKTransformer, ModelWeights, float_paths, logits_from_paths

tiny_configs = st.builds(
    ModelConfig,
    d_vocab=st.integers(2, 12),
    n_ctx=st.integers(1, 5),
    d_model=st.integers(1, 8),
    d_head=st.integers(1, 8),
)


@given(config=tiny_configs, batch=st.integers(1, 7))
@settings(max_examples=40, deadline=None)
def test_parameters_and_logits_have_the_math_shapes(config: ModelConfig, batch: int) -> None:
    model = MaxOfKTransformer(config, generator=torch.Generator().manual_seed(0))
    for name, shape in config.weight_shapes().items():
        assert tuple(getattr(model, name).shape) == shape
        assert getattr(model, name).dtype == torch.float32
    tokens = torch.randint(0, config.d_vocab, (batch, config.n_ctx))
    assert tuple(model(tokens).shape) == (batch, config.d_vocab)
    w = model.weights()
    assert tuple(w.tensors()) == WEIGHT_NAMES
    assert all(a.shape == s for a, s in zip(w.tensors().values(), config.weight_shapes().values()))


def test_model_weights_rejects_wrong_shape_dtype_and_non_finite() -> None:
    config = ModelConfig(6, 3, 4, 4)
    good = ModelWeights.random(config, seed=0).tensors()
    with pytest.raises(ValueError, match="W_Q"):
        ModelWeights(config, **{**good, "W_Q": np.zeros((4, 5), np.float32)})
    with pytest.raises(TypeError, match="W_E"):
        ModelWeights(config, **{**good, "W_E": good["W_E"].astype(np.float64)})
    bad = good["W_U"].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="W_U"):
        ModelWeights(config, **{**good, "W_U": bad})


@given(config=tiny_configs, seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([0.3, 1.0, 3.0]))
@settings(max_examples=60, deadline=None)
def test_path_decomposition_equals_forward_pass_in_float64(config: ModelConfig, seed: int, scale: float) -> None:
    """logits_from_paths(float_paths(W)) is the forward pass: same function, regrouped products."""
    weights = ModelWeights.random(config, seed=seed, scale=scale)
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, config.d_vocab, size=(32, config.n_ctx))
    via_paths = logits_from_paths(float_paths(weights), tokens)
    model = MaxOfKTransformer.from_weights(weights).double()
    with torch.no_grad():
        via_forward = model(torch.from_numpy(tokens)).numpy()
    scale_ = 1.0 + np.abs(via_forward).max()
    np.testing.assert_allclose(via_paths, via_forward, rtol=0, atol=1e-10 * scale_)


def test_forward_pass_last_position_attends_to_every_position() -> None:
    """Changing any earlier token changes the last-position logits (no mask hides a position)."""
    config = ModelConfig(8, 4, 6, 6)
    model = MaxOfKTransformer.from_weights(ModelWeights.random(config, seed=3))
    base = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        ref = model(base)
        for p in range(config.n_ctx - 1):
            changed = base.clone()
            changed[0, p] = 7
            assert not torch.allclose(model(changed), ref)


def test_from_weights_and_weights_round_trip_exactly() -> None:
    w = ModelWeights.random(ModelConfig(7, 3, 5, 4), seed=11)
    back = MaxOfKTransformer.from_weights(w).weights()
    for name in WEIGHT_NAMES:
        assert np.array_equal(getattr(w, name), getattr(back, name))
