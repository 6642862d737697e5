"""Deciding one sequence exactly (checker/decide.py) agrees with the brute-force oracle."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.decide import START_BITS, _bounds_at, _prepare, _weight_bounds, classify_sequence, decide_sequence
from checker.dyadic import to_fraction
from checker.load import load_certificate_obj
from checker.ops import OpCounter
from checker.paths import ExactPaths, exact_paths
from extract.certificate import build_certificate
from extract.config import ModelConfig
from extract.model import ModelWeights
from tests.oracle import all_sequences, exact_correct_mask, tiny_trained_weights


def paths_of(w: ModelWeights) -> ExactPaths:
    obj = build_certificate(w, "single-sequence", {}, {"sequence": [0] * w.config.n_ctx}, 0)
    cert = load_certificate_obj(json.loads(json.dumps(obj)), "memory")
    return exact_paths(cert.weights, OpCounter())


def index_of(seq: tuple[int, ...], v: int) -> int:
    i = 0
    for t in seq:
        i = i * v + t
    return i


configs = st.builds(
    ModelConfig,
    d_vocab=st.integers(6, 12),
    n_ctx=st.integers(2, 4),
    d_model=st.integers(2, 8),
    d_head=st.integers(1, 9),
)


@settings(max_examples=15, deadline=None)
@given(configs, st.integers(0, 2**31 - 1), st.sampled_from([0.3, 1.0, 3.0]), st.randoms(use_true_random=False))
def test_decisions_on_random_models_match_the_oracle(cfg: ModelConfig, seed: int, scale: float, rnd) -> None:
    w = ModelWeights.random(cfg, seed, scale=scale)
    mask = exact_correct_mask(w)
    paths = paths_of(w)
    v, n = cfg.d_vocab, cfg.n_ctx
    seqs = [tuple(rnd.randrange(v) for _ in range(n)) for _ in range(120)]
    for s in seqs:
        status = classify_sequence(paths, cfg.d_head, s, OpCounter())
        assert status != "undecided", s
        assert (status == "correct") == bool(mask[index_of(s, v)]), s


@pytest.mark.parametrize("cfg,seed", [(ModelConfig(6, 3, 5, 4), 1), (ModelConfig(8, 3, 6, 5), 2), (ModelConfig(7, 2, 4, 9), 3)])
def test_exhaustive_count_on_trained_models_equals_the_oracle(cfg: ModelConfig, seed: int) -> None:
    w = tiny_trained_weights(cfg, seed)
    mask = exact_correct_mask(w)
    paths = paths_of(w)
    got = np.array([decide_sequence(paths, cfg.d_head, tuple(int(t) for t in s), OpCounter())
                    for s in all_sequences(cfg.d_vocab, cfg.n_ctx)])
    assert np.array_equal(got, mask)
    assert 0 < got.sum() < len(got)  # the test is not vacuous


def test_exact_logit_ties_are_incorrect() -> None:
    cfg = ModelConfig(6, 3, 4, 4)
    w = ModelWeights.random(cfg, 5)
    t = w.tensors()
    t["W_U"][:, 2] = t["W_U"][:, 4]  # tokens 2 and 4 always have equal logits
    w = ModelWeights.from_tensors(cfg, t)
    paths = paths_of(w)
    for s in all_sequences(6, 3):
        s = tuple(int(x) for x in s)
        if max(s) in (2, 4):
            assert classify_sequence(paths, cfg.d_head, s, OpCounter()) == "incorrect", s


def test_uniform_attention_is_decided_exactly() -> None:
    cfg = ModelConfig(7, 3, 4, 4)
    w = ModelWeights.random(cfg, 9)
    t = w.tensors()
    t["W_Q"][:] = 0  # every score is 0: the exp factors are exactly 1
    w = ModelWeights.from_tensors(cfg, t)
    mask = exact_correct_mask(w)
    paths = paths_of(w)
    for i, s in enumerate(all_sequences(7, 3)):
        st_ = classify_sequence(paths, cfg.d_head, tuple(int(x) for x in s), OpCounter(), max_bits=START_BITS)
        assert st_ != "undecided" and (st_ == "correct") == bool(mask[i])


def margin_bounds(paths: ExactPaths, d_head: int, seq: tuple[int, ...], bits: int, ops: OpCounter) -> dict[int, tuple[Fraction, Fraction]]:
    """For each competitor x != max(seq): (lo, hi) with lo <= F(x) <= hi, from decide.py's own enclosure steps.

    F(x) = sum_p exp(s_p - s*) h_p(x) (checker/decide.py), whose sign is that of logit(x) - logit(m).
    """
    prep = _prepare(paths, tuple(seq), ops)
    wl, wh, E = _weight_bounds(prep, d_head, bits, ops)
    unit = to_fraction(1, E + prep.coeff_exp)
    return {x: (lo * unit, hi * unit) for x, (lo, hi) in ((x, _bounds_at(c, wl, wh)) for x, c in zip(prep.competitors, prep.coeffs))}


@settings(max_examples=10, deadline=None)
@given(configs, st.integers(0, 2**31 - 1), st.randoms(use_true_random=False))
def test_margin_bounds_enclose_the_exact_weighted_sum(cfg: ModelConfig, seed: int, rnd) -> None:
    w = ModelWeights.random(cfg, seed)
    paths = paths_of(w)
    v, n = cfg.d_vocab, cfg.n_ctx
    seq = tuple(rnd.randrange(v) for _ in range(n))
    m, q = max(seq), seq[-1]
    F = {k: getattr(paths, k).to_fractions() for k in ("EUPU", "EVOU", "PVOU", "EQKE", "EQKP")}
    bounds = margin_bounds(paths, cfg.d_head, seq, 40, OpCounter())
    assert set(bounds) == set(range(v)) - {m}
    with mpmath.workprec(600):
        def mp(f: Fraction) -> mpmath.mpf:
            return mpmath.mpf(f.numerator) / f.denominator

        s = [mp(F["EQKE"][q][t] + F["EQKP"][q][p]) / mpmath.sqrt(cfg.d_head) for p, t in enumerate(seq)]
        top = max(s)
        for x, (lo, hi) in bounds.items():
            val = sum(mpmath.exp(s[p] - top) * mp(F["EUPU"][q][x] - F["EUPU"][q][m] + F["EVOU"][t][x] - F["EVOU"][t][m]
                                                 + F["PVOU"][p][x] - F["PVOU"][p][m]) for p, t in enumerate(seq))
            assert lo <= hi
            assert mp(lo) <= val <= mp(hi)


def test_low_precision_cap_is_still_sound() -> None:
    cfg = ModelConfig(8, 3, 6, 5)
    w = tiny_trained_weights(cfg, 2)
    mask = exact_correct_mask(w)
    paths = paths_of(w)
    for i, s in enumerate(all_sequences(8, 3)):
        if decide_sequence(paths, cfg.d_head, tuple(int(x) for x in s), OpCounter(), max_bits=START_BITS):
            assert mask[i]


def test_operations_are_counted() -> None:
    cfg = ModelConfig(6, 3, 4, 4)
    paths = paths_of(ModelWeights.random(cfg, 0))
    ops = OpCounter()
    decide_sequence(paths, cfg.d_head, (1, 2, 3), ops)
    assert ops.count >= 5 * 3 * 5  # at least the h_p(x) differences


@pytest.mark.parametrize("seq", [(1, 2), (1, 2, 3, 4), (1, 2, 6), (-1, 0, 0)])
def test_malformed_sequences_are_rejected(seq: tuple[int, ...]) -> None:
    cfg = ModelConfig(6, 3, 4, 4)
    paths = paths_of(ModelWeights.random(cfg, 0))
    with pytest.raises(ValueError):
        decide_sequence(paths, cfg.d_head, seq, OpCounter())


def test_capped_decider_escalates_at_most_its_cap_and_certifies_only_what_a_decision_proves(monkeypatch) -> None:
    """CappedDecider: a sequence undecided at CHEAP_BITS is re-decided at full precision only while
    escalations are left; every True comes from a full decision that returned 'correct'."""
    import checker.decide as decide

    calls: list[int] = []

    def fake(paths, d_head, seq, ops, max_bits=decide.DEFAULT_MAX_BITS):
        calls.append(max_bits)
        if max_bits == decide.CHEAP_BITS:
            return "undecided"
        return "correct" if seq[0] % 2 == 0 else "incorrect"

    monkeypatch.setattr(decide, "classify_sequence", fake)
    decider = decide.CappedDecider(escalations=3)
    got = [decider(None, 1, (i, 0), OpCounter()) for i in range(10)]
    assert calls.count(decide.DEFAULT_MAX_BITS) == 3 and decider.escalated == 3
    assert got == [True, False, True] + [False] * 7


def test_capped_decider_agrees_with_decide_sequence_on_tiny_models() -> None:
    w = tiny_trained_weights(ModelConfig(d_vocab=6, n_ctx=3, d_model=6, d_head=6), 4, 200)
    paths = paths_of(w)
    from checker.decide import CappedDecider

    decider = CappedDecider()
    for s in all_sequences(6, 3):
        s = tuple(int(t) for t in s)
        assert decider(paths, 6, s, OpCounter()) == decide_sequence(paths, 6, s, OpCounter())
