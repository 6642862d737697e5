"""Exact path matrices (checker/paths.py) equal an independent Fraction reference."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.load import load_certificate_obj
from checker.ops import OpCounter
from checker.paths import exact_paths
from extract.certificate import build_certificate
from extract.config import ModelConfig
from extract.model import ModelWeights, float_paths
from tests.oracle import fraction_paths, tiny_trained_weights


def cert_weights(w: ModelWeights):
    """The weights as the checker sees them, through a JSON round trip of a real certificate."""
    obj = build_certificate(w, "single-sequence", {}, {"sequence": [0] * w.config.n_ctx}, 0)
    return load_certificate_obj(json.loads(json.dumps(obj)), "memory").weights


reference_paths = fraction_paths


configs = st.builds(
    ModelConfig,
    d_vocab=st.integers(2, 9),
    n_ctx=st.integers(1, 4),
    d_model=st.integers(1, 6),
    d_head=st.integers(1, 6),
)


@settings(max_examples=25, deadline=None)
@given(configs, st.integers(0, 2**31 - 1), st.sampled_from([1.0, 1e-3, 50.0]))
def test_exact_paths_equal_fraction_reference(cfg: ModelConfig, seed: int, scale: float) -> None:
    w = ModelWeights.random(cfg, seed, scale=scale)
    ops = OpCounter()
    paths = exact_paths(cert_weights(w), ops)
    ref = reference_paths(w)
    for name in ("EUPU", "EVOU", "PVOU", "EQKE", "EQKP", "E_q"):
        assert getattr(paths, name).to_fractions() == ref[name], name
    assert ops.count > 0


def test_exact_paths_agree_with_float_paths_on_a_trained_model() -> None:
    w = tiny_trained_weights(ModelConfig(d_vocab=10, n_ctx=3, d_model=8, d_head=8), 0)
    exact = exact_paths(cert_weights(w), OpCounter())
    fp = float_paths(w)
    for name in ("EUPU", "EVOU", "PVOU", "EQKE", "EQKP"):
        e = np.array([[float(x) for x in row] for row in getattr(exact, name).to_fractions()])
        f = getattr(fp, name)
        assert e.shape == f.shape
        assert np.allclose(e, f, rtol=1e-9, atol=1e-9 * np.abs(f).max()), name


def test_op_count_matches_the_matmul_formula() -> None:
    cfg = ModelConfig(d_vocab=5, n_ctx=3, d_model=4, d_head=2)
    ops = OpCounter()
    exact_paths(cert_weights(ModelWeights.random(cfg, 1)), ops)
    v, n, d, h = 5, 3, 4, 2
    mmc = lambda a, b, c: a * c * (2 * b - 1)  # noqa: E731  (a x b) @ (b x c)
    expected = v * d + mmc(v, d, h) + mmc(v, d, h) + mmc(n, d, h) + mmc(d, h, d) + mmc(d, d, v)
    expected += mmc(v, d, v) + mmc(v, d, v) + mmc(n, d, v) + mmc(v, h, v) + mmc(v, h, n)
    assert ops.count == expected
