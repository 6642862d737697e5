"""Properties of the cubic-sharp strategy (docs/proofs/cubic_sharp.md): soundness against the exact
oracle with every counted sequence enumerated, domination of the cubic strategy case by case,
the operation bound, the search's claim, and rejection of mutated certificates."""

from __future__ import annotations

import copy
import functools
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.errors import CertificateError
from checker.load import load_certificate_obj
from checker.ops import OpCounter
from checker.paths import exact_paths
from checker.strategies import cubic
from checker.strategies import cubic_sharp
from checker.strategies.cubic_sharp.cases import sharp_cases, top_two
from checker.verify import check_certificate
from extract.certificate import build_certificate
from extract.config import ModelConfig
from extract.model import ModelWeights
from extract.search.cubic_sharp import float_sharp_count, search
from tests.mutations import assert_claim_plus_one_fails, assert_weight_change_without_new_hash_is_rejected
from tests.oracle import exact_correct_mask, seq_index, tiny_model_zoo, tiny_trained_weights

NAME = "cubic-sharp"

# ---------------------------------------------------------------- helpers


def certificate_for(weights: ModelWeights, claim: int = 0, witness: dict | None = None):
    return load_certificate_obj(build_certificate(weights, NAME, {}, {} if witness is None else witness, claim), "<test>")


def both_cases(weights: ModelWeights) -> tuple[cubic.CubicCases, cubic.CubicCases, int]:
    """(cubic cases, cubic-sharp cases, operations counted by cubic-sharp's check) on the same weights."""
    cert = certificate_for(weights)
    ops = OpCounter()
    sharp = sharp_cases(exact_paths(cert.weights, ops), cert.d_head, ops)
    plain = cubic.cubic_cases(exact_paths(cert.weights, OpCounter()), cert.d_head, OpCounter())
    return plain, sharp, ops.count


def enumerate_counted(cases: cubic.CubicCases) -> list[tuple[tuple[int, int, int], tuple[int, ...]]]:
    """Every sequence the count counts, built from the case sets (proof section 5), with its case key."""
    n = cases.n_ctx
    out = []
    for (q, m), ok in cases.zero.items():
        if ok:
            out.append(((q, m, 0), (m,) * (n - 1) + (q,)))
    for (q, m, c), values in cases.values.items():
        for N in itertools.combinations(range(n - 1), c):
            for ks in itertools.product(values, repeat=c):
                seq = [m] * (n - 1) + [q]
                for p, k in zip(N, ks):
                    seq[p] = k
                out.append(((q, m, c), tuple(seq)))
    return out


def assert_sound_and_dominating(weights: ModelWeights) -> tuple[int, int]:
    """Every counted sequence is distinct, has its case's shape and is truly correct (oracle);
    every cubic case set is contained in the sharp one; the counted operations are within
    cost_bound. Returns (cubic count, sharp count)."""
    cfg = weights.config
    v = cfg.d_vocab
    plain, sharp, ops = both_cases(weights)
    mask = exact_correct_mask(weights)
    seqs = enumerate_counted(sharp)
    assert len(seqs) == sharp.count()
    assert len({s for _, s in seqs}) == len(seqs), "a sequence is counted twice"
    for (q, m, c), s in seqs:
        assert s[-1] == q and max(s) == m and sum(1 for t in s[:-1] if t < m) == c
        assert mask[seq_index(s, v)], f"counted sequence {s} (case {(q, m, c)}) is not correct"
    assert sharp.count() <= int(mask.sum())
    # Lemma 3.2: same case keys, every cubic set inside the sharp one, hence the count dominates.
    assert sharp.zero == plain.zero
    assert sharp.values.keys() == plain.values.keys()
    for key, vals in plain.values.items():
        assert set(vals) <= set(sharp.values[key]), key
    assert sharp.count() >= plain.count()
    assert ops <= cubic_sharp.ops_bound(certificate_for(weights))
    return plain.count(), sharp.count()


# ---------------------------------------------------------------- soundness


@functools.cache
def zoo() -> list[tuple[str, ModelWeights]]:
    """The 300 tiny models of the default soundness test (60 of them briefly trained)."""
    return tiny_model_zoo(300, seed=20261202)


@pytest.mark.parametrize("chunk", range(10))
def test_every_counted_sequence_is_correct_and_dominates_cubic_on_300_tiny_model_zoo(chunk):
    gained = certified = 0
    for _, w in zoo()[chunk * 30 : (chunk + 1) * 30]:
        plain, sharp = assert_sound_and_dominating(w)
        certified += sharp > 0
        gained += sharp > plain
    assert certified > 0  # the property is exercised, not vacuous


def test_the_sharp_test_certifies_more_than_cubic_on_trained_tiny_model_zoo():
    """Non-vacuity of the sharpening: on the trained models of the zoo the count strictly grows somewhere."""
    gains = [s - p for label, w in zoo()[:100] if label == "trained" for p, s in [assert_sound_and_dominating(w)]]
    assert any(g > 0 for g in gains)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12), st.integers(1, 4), st.integers(2, 8), st.integers(1, 8), st.integers(0, 2**31),
       st.sampled_from([0.1, 0.3, 1.0, 3.0, 10.0]))
def test_counted_sequences_are_correct_on_hypothesis_models(v, n, d, dh, seed, scale):
    """Includes v = 2, 3 (the maximum over x not in {m, k} is empty or a single competitor) and n = 1."""
    if n == 4:
        v = min(v, 8)
    cfg = ModelConfig(d_vocab=v, n_ctx=n, d_model=d, d_head=min(dh, d))
    assert_sound_and_dominating(ModelWeights.random(cfg, seed, scale=scale))


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(10))
def test_soundness_on_1000_tiny_model_zoo(chunk):
    for _, w in tiny_model_zoo(1000, seed=777)[chunk * 100 : (chunk + 1) * 100]:
        assert_sound_and_dominating(w)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_soundness_on_larger_trained_models(seed):
    rng = np.random.default_rng(4000 + seed)
    for _ in range(4):
        v, n = int(rng.integers(10, 17)), int(rng.integers(3, 5))
        assert_sound_and_dominating(tiny_trained_weights(ModelConfig(d_vocab=v, n_ctx=n, d_model=8, d_head=8),
                                                         int(rng.integers(1 << 15)), 1000))


# ---------------------------------------------------------------- pieces


def test_top_two_returns_largest_its_index_and_second():
    assert top_two([None, 3, 7, 7, -1], OpCounter()) == (7, 2, 7)
    assert top_two([5], OpCounter()) == (5, 0, None)
    assert top_two([None, None], OpCounter()) == (None, -1, None)
    for vals in itertools.product([None, -2, 0, 4], repeat=4):
        best, arg, second = top_two(list(vals), OpCounter())
        present = sorted(x for x in vals if x is not None)
        assert best == (present[-1] if present else None)
        assert second == (present[-2] if len(present) >= 2 else None)
        if best is not None:
            assert vals[arg] == best


def test_cost_bound_covers_the_showcase_model_size_and_grows_cubically():
    b = [cubic_sharp.ops_bound(ModelConfig(d_vocab=v, n_ctx=4, d_model=32, d_head=32)) for v in (16, 32, 64)]
    assert b[0] < b[1] < b[2] and b[2] < 9 * b[1]


def test_float_count_tracks_the_exact_count():
    compared = 0
    for label, w in zoo()[:60]:
        if "scale=10" in label:
            continue
        exact = both_cases(w)[1].count()
        assert abs(float_sharp_count(w) - exact) <= 0.01 * w.config.n_sequences, label
        compared += 1
    assert compared >= 30


def test_search_claims_exactly_what_the_checker_certifies():
    w = tiny_trained_weights(ModelConfig(d_vocab=7, n_ctx=3, d_model=6, d_head=6), 2, 300)
    res = search(w, {})
    assert res.witness == {}
    verdict = check_certificate(certificate_for(w, claim=res.certified_count))
    assert verdict.ok and verdict.certified == res.certified_count > 0
    with pytest.raises(ValueError):
        search(w, {"direct_path": "max_diff"})


# ---------------------------------------------------------------- mutations


@pytest.fixture(scope="module")
def trained_cert_obj():
    w = tiny_trained_weights(ModelConfig(d_vocab=8, n_ctx=3, d_model=8, d_head=8), 3, 300)
    res = search(w, {})
    return w, build_certificate(w, NAME, {}, res.witness, res.certified_count)


def test_claim_raised_by_one_is_rejected(trained_cert_obj):
    assert_claim_plus_one_fails(trained_cert_obj[1])


def test_changed_weight_without_new_hash_is_rejected(trained_cert_obj):
    assert_weight_change_without_new_hash_is_rejected(trained_cert_obj[1])


def test_changed_weights_with_new_hash_are_checked_on_the_new_weights(trained_cert_obj):
    w, obj = trained_cert_obj
    claim = obj["claim"]["certified_count"]
    t = w.tensors()
    zero_u = ModelWeights.from_tensors(w.config, dict(t, W_U=np.zeros_like(t["W_U"])))
    v0 = check_certificate(certificate_for(zero_u, claim=claim))
    assert v0.certified == 0 and not v0.ok  # every logit ties: nothing is correct
    rng = np.random.default_rng(11)
    for name in ("W_E", "W_Q", "W_V", "W_pos"):
        tp = dict(t)
        tp[name] = (t[name] + rng.normal(0, 0.3, t[name].shape)).astype(np.float32)
        wp = ModelWeights.from_tensors(w.config, tp)
        verdict = check_certificate(certificate_for(wp, claim=claim))
        assert verdict.certified == assert_sound_and_dominating(wp)[1]


def test_any_nonempty_witness_is_rejected(trained_cert_obj):
    _, obj = trained_cert_obj
    for witness in ({"S": [[0]]}, {"gaps": 1}, {"": {}}):
        bad = copy.deepcopy(obj)
        bad["witness"] = witness
        with pytest.raises(CertificateError) as e:
            check_certificate(load_certificate_obj(bad, "<bad>"))
        assert e.value.field.startswith("witness")


def test_knobs_are_rejected(trained_cert_obj):
    _, obj = trained_cert_obj
    bad = copy.deepcopy(obj)
    bad["strategy"]["knobs"] = {"direct_path": "max_diff"}
    with pytest.raises(CertificateError):
        load_certificate_obj(bad, "<bad>")
