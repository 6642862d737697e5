"""Single-sequence strategy: it certifies 1 only for a truly correct sequence; mutations are rejected."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.errors import CertificateError
from checker.load import load_certificate_obj
from checker.verify import check_certificate
from extract.certificate import build_certificate
from extract.config import ModelConfig
from extract.model import ModelWeights
from extract.search.single_sequence import search
from tests.oracle import all_sequences, exact_correct_mask, tiny_trained_weights


def verdict(w: ModelWeights, seq: list[int], claim: int):
    obj = build_certificate(w, "single-sequence", {}, {"sequence": seq}, claim)
    return check_certificate(load_certificate_obj(json.loads(json.dumps(obj)), "memory"))


def index_of(seq: list[int], v: int) -> int:
    i = 0
    for t in seq:
        i = i * v + t
    return i


configs = st.builds(ModelConfig, d_vocab=st.integers(6, 12), n_ctx=st.integers(2, 4),
                    d_model=st.integers(2, 8), d_head=st.integers(1, 8))


@settings(max_examples=20, deadline=None)
@given(configs, st.integers(0, 2**31 - 1), st.sampled_from([0.5, 1.0, 4.0]), st.randoms(use_true_random=False))
def test_certified_count_never_exceeds_the_truth_on_random_models(cfg: ModelConfig, seed: int, scale: float, rnd: Any) -> None:
    w = ModelWeights.random(cfg, seed, scale=scale)
    mask = exact_correct_mask(w)
    found = search(w, {})
    candidates = [found.witness["sequence"]] + [[rnd.randrange(cfg.d_vocab) for _ in range(cfg.n_ctx)] for _ in range(5)]
    for seq in candidates:
        v = verdict(w, seq, 0)
        truth = int(mask[index_of(seq, cfg.d_vocab)])
        assert v.certified <= truth
        assert v.certified == truth  # the exact decision is also complete on these models
        assert v.certified <= int(mask.sum())


@pytest.mark.parametrize("cfg,seed", [(ModelConfig(6, 3, 5, 4), 1), (ModelConfig(10, 4, 8, 8), 0)])
def test_search_on_a_trained_model_claims_one_and_the_checker_agrees(cfg: ModelConfig, seed: int) -> None:
    w = tiny_trained_weights(cfg, seed)
    res = search(w, {})
    assert res.certified_count == 1
    assert all(type(t) is int for t in res.witness["sequence"])
    v = verdict(w, res.witness["sequence"], res.certified_count)
    assert v.ok and v.certified == 1 and v.ops > 0


def test_an_incorrect_witness_makes_the_claim_fail() -> None:
    cfg = ModelConfig(6, 3, 5, 4)
    w = tiny_trained_weights(cfg, 1)
    mask = exact_correct_mask(w)
    wrong = [int(t) for t in all_sequences(6, 3)[int(np.flatnonzero(~mask)[0])]]
    v = verdict(w, wrong, 1)
    assert v.certified == 0 and not v.ok


def test_mutated_weights_are_rejected_or_re_decided() -> None:
    cfg = ModelConfig(6, 3, 5, 4)
    w = tiny_trained_weights(cfg, 1)
    seq = search(w, {}).witness["sequence"]
    obj = build_certificate(w, "single-sequence", {}, {"sequence": seq}, 1)
    obj["weights"]["W_U"]["mantissas"][0][0] += 1  # stale hash
    with pytest.raises(CertificateError) as info:
        load_certificate_obj(obj, "memory")
    assert info.value.field == "weights_sha256"
    # A consistent certificate of a broken model: the unembedding makes token max(seq) lose.
    t = w.tensors()
    t["W_U"][:, max(seq)] -= 100.0
    broken = ModelWeights.from_tensors(cfg, t)
    assert not exact_correct_mask(broken)[index_of(seq, 6)]
    assert not verdict(broken, seq, 1).ok


def test_search_rejects_knobs() -> None:
    with pytest.raises(ValueError):
        search(ModelWeights.random(ModelConfig(6, 3, 4, 4), 0), {"x": "y"})


def test_full_size_random_model_round_trip() -> None:
    """The paper's shapes (64, 4, 32, 32): certificate written, loaded, decided exactly, agreeing with floats."""
    from extract.model import float_paths, logits_from_paths

    w = ModelWeights.random(ModelConfig(), 3)
    res = search(w, {})
    seq = res.witness["sequence"]
    logits = logits_from_paths(float_paths(w), np.array([seq]))[0]
    m = max(seq)
    margin = logits[m] - np.delete(logits, m).max()
    v = verdict(w, seq, 0)
    if abs(margin) > 1e-6 * (1 + np.abs(logits).max()):
        assert v.certified == int(margin > 0)


@pytest.mark.slow
def test_showcase_model_file_single_sequence_certificate_holds(tmp_path: Any) -> None:
    from pathlib import Path

    from checker.verify import check_file
    from extract.certificate import write_certificate
    from extract.weights import load_model

    path = Path(__file__).resolve().parent.parent / "models" / "seed-123.safetensors"
    if not path.exists():
        pytest.skip("models/seed-123.safetensors not trained here (compact-proofs train)")
    w = load_model(path)
    res = search(w, {})
    out = write_certificate(build_certificate(w, "single-sequence", {}, res.witness, res.certified_count), tmp_path / "c.json")
    v = check_file(out)
    assert res.certified_count == 1 and v.ok and v.certified == 1
