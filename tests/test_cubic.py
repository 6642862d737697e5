"""Properties of the cubic strategy (docs/proofs/cubic.md): soundness against the exact oracle,
explicit enumeration of every counted sequence, the count identity, the enclosure arithmetic,
and rejection of mutated certificates."""

from __future__ import annotations

import copy
import functools
import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.dyadic import to_fraction
from checker.errors import CertificateError
from checker.load import load_certificate_obj
from checker.ops import OpCounter
from checker.paths import exact_paths
from checker.strategies import cubic
from checker.verify import check_certificate
from extract.certificate import build_certificate
from extract.config import ModelConfig
from extract.model import ModelWeights
from extract.search.cubic import float_cubic_count, search
from tests.mutations import assert_claim_plus_one_fails, assert_weight_change_without_new_hash_is_rejected
from tests.oracle import exact_correct_mask, seq_index, tiny_model_zoo, tiny_trained_weights

# ---------------------------------------------------------------- helpers


def certificate_for(weights: ModelWeights, claim: int = 0, witness: dict | None = None):
    return load_certificate_obj(build_certificate(weights, "cubic", {}, {} if witness is None else witness, claim), "<test>")


def cases_for(weights: ModelWeights) -> cubic.CubicCases:
    cert = certificate_for(weights)
    ops = OpCounter()
    return cubic.cubic_cases(exact_paths(cert.weights, ops), cert.d_head, ops)


def counted_sequences(cases: cubic.CubicCases, v: int) -> list[tuple[int, tuple[int, ...]]]:
    """Every sequence the cubic count counts, with the case key, enumerated explicitly (section 7)."""
    n = cases.n_ctx
    out = []
    for (q, m), ok in cases.zero.items():
        if ok:
            out.append(((q, m, 0), tuple([m] * (n - 1) + [q])))
    for (q, m, c), values in cases.values.items():
        for N in itertools.combinations(range(n - 1), c):
            for ks in itertools.product(values, repeat=c):
                seq = [m] * (n - 1) + [q]
                for p, k in zip(N, ks):
                    seq[p] = k
                out.append(((q, m, c), tuple(seq)))
    return out


def assert_sound(weights: ModelWeights) -> int:
    """Every counted sequence is distinct, has the case's shape, and is truly correct."""
    cfg = weights.config
    v, n = cfg.d_vocab, cfg.n_ctx
    cases = cases_for(weights)
    mask = exact_correct_mask(weights)
    seqs = counted_sequences(cases, v)
    assert len(seqs) == cases.count()
    assert len({s for _, s in seqs}) == len(seqs), "a sequence is counted twice"
    for (q, m, c), s in seqs:
        assert s[-1] == q and max(s) == m and sum(1 for t in s[:-1] if t < m) == c
        assert mask[seq_index(s, v)], f"counted sequence {s} (case {(q, m, c)}) is not correct"
    assert cases.count() <= int(mask.sum())
    return cases.count()


# ---------------------------------------------------------------- soundness


@functools.cache
def zoo() -> list[tuple[str, ModelWeights]]:
    """The 300 tiny models of the soundness test (built on first use: 60 of them are trained)."""
    return tiny_model_zoo(300, seed=20261126)


@pytest.mark.parametrize("chunk", range(10))
def test_every_counted_sequence_is_correct_on_300_tiny_models(chunk):
    certified_somewhere = 0
    for label, w in zoo()[chunk * 30 : (chunk + 1) * 30]:
        certified_somewhere += assert_sound(w) > 0
    assert certified_somewhere > 0  # the property is exercised, not vacuous


@settings(max_examples=60, deadline=None)
@given(st.integers(4, 12), st.integers(2, 4), st.integers(4, 8), st.integers(1, 8), st.integers(0, 2**31),
       st.sampled_from([0.1, 0.3, 1.0, 3.0]))
def test_counted_sequences_are_correct_on_hypothesis_models(v, n, d, dh, seed, scale):
    if n == 4:
        v = min(v, 8)
    cfg = ModelConfig(d_vocab=v, n_ctx=n, d_model=d, d_head=min(dh, d))
    assert_sound(ModelWeights.random(cfg, seed, scale=scale))


def test_trained_tiny_models_certify_most_sequences():
    """Non-vacuity: on briefly trained tiny models the cubic proof certifies a large share."""
    w = tiny_trained_weights(ModelConfig(d_vocab=8, n_ctx=3, d_model=8, d_head=8), 1, 300)
    assert assert_sound(w) >= 0.4 * 8**3


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_soundness_sweep_larger_models(seed):
    rng = np.random.default_rng(1000 + seed)
    for _ in range(5):
        v, n = int(rng.integers(10, 17)), int(rng.integers(3, 5))
        cfg = ModelConfig(d_vocab=v, n_ctx=n, d_model=8, d_head=8)
        assert_sound(tiny_trained_weights(cfg, int(rng.integers(1 << 15)), 1000))


# ---------------------------------------------------------------- count identity


@pytest.mark.parametrize("v,n", [(v, n) for v in range(2, 9) for n in range(1, 5)])
def test_count_with_every_case_certified_is_v_to_the_n(v, n):
    """Lemma 7.4 over the exact case keys the checker enumerates (all certified -> v^n)."""
    cases = cases_for(ModelWeights.random(ModelConfig(d_vocab=v, n_ctx=n, d_model=4, d_head=4), v * 10 + n))
    full = cubic.CubicCases(n, {k: True for k in cases.zero}, {k: tuple(range(k[1])) for k in cases.values})
    assert full.count() == v**n
    if v ** n <= 4096:
        seqs = {s for _, s in counted_sequences(full, v)}
        assert seqs == set(itertools.product(range(v), repeat=n))


# ---------------------------------------------------------------- arithmetic lemmas


@given(st.integers(-50, 50), st.integers(0, 30), st.integers(0, 30), st.fractions(0, 30))
def test_mulup_bounds_every_product_in_the_enclosure(a, lo, extra, y):
    hi = lo + extra
    y = min(max(y, Fraction(lo)), Fraction(hi))
    for a_true in (Fraction(a), Fraction(a) - Fraction(1, 3)):
        assert a_true * y <= cubic.mulup(a, lo, hi)


def test_threshold_matches_direct_predicate_exhaustively():
    """Lemma 5.4: mulup(u, lo, hi) < a  iff  u < tau, for all small integers."""
    for a in range(-12, 13):
        for lo in range(0, 5):
            for hi in range(lo, 6):
                tau = cubic.threshold(a, lo, hi)
                for u in range(-15, 16):
                    direct = cubic.mulup(u, lo, hi) < a
                    via = tau is None or (tau is not False and u < tau)
                    assert direct == via, (a, lo, hi, u, tau)


def test_exp_tables_enclose_the_true_exponentials():
    import mpmath

    w = ModelWeights.random(ModelConfig(d_vocab=6, n_ctx=3, d_model=5, d_head=3), 7, scale=4.0)
    cert = certificate_for(w)
    paths = exact_paths(cert.weights, OpCounter())
    Elo, Ehi, Plo, Phi, scales = cubic.exp_tables(paths, cert.d_head, OpCounter())
    with mpmath.workdps(80):
        rho = 1 / mpmath.sqrt(cert.d_head)
        for mat, lo, hi in ((paths.EQKE, Elo, Ehi), (paths.EQKP, Plo, Phi)):
            fr = mat.to_fractions()
            for q, row in enumerate(fr):
                top = max(row)
                for j, z in enumerate(row):
                    val = mpmath.exp(rho * mpmath.mpf((z - top).numerator) / (z - top).denominator) * mpmath.mpf(2) ** scales[q]
                    assert lo[q][j] <= val <= hi[q][j]
                    assert hi[q][j] - lo[q][j] <= 4 + val * mpmath.mpf(2) ** -60


@settings(max_examples=200, deadline=None)
@given(st.integers(-(1 << 40), 0), st.integers(-40, 2), st.fractions(Fraction(1, 50), 2), st.fractions(0, 3),
       st.integers(0, 300), st.fractions(0, 1))
def test_exp_fixed_interval_encloses_exp_for_every_rho_in_the_interval(z, e, rho_lo, width, scale, where):
    """Section 5 items 2-3, including wide rho intervals (the (1 + 2y) branch and its fallback)."""
    import mpmath

    rho = (rho_lo, rho_lo + width)
    lo, hi = cubic.exp_fixed_interval(z, e, rho, scale, OpCounter())
    assert 0 <= lo <= hi
    x = to_fraction(z, e)
    with mpmath.workdps(150):  # 2^300 has 91 digits: the comparison needs more than that
        for r in (rho[0], rho[1], rho[0] + where * width):
            t = x * r
            val = mpmath.exp(mpmath.mpf(t.numerator) / t.denominator) * mpmath.mpf(2) ** scale
            assert lo <= val <= hi, (z, e, rho, scale, r)


def test_sort_positions_orders_by_exact_score():
    row = [5, -3, 5, 0, 99]  # last entry is the query slot, excluded
    assert cubic.sort_positions(row, OpCounter()) in ([1, 3, 0, 2], [1, 3, 2, 0])


# ---------------------------------------------------------------- float cross-check, search


def test_float_count_agrees_with_exact_count():
    """The float64 heuristic tracks the exact count (it can only drift where exp underflows in
    float64, which happens on random weights of scale 10: those are left out)."""
    compared = 0
    for label, w in zoo()[:60]:
        if "scale=10" in label:
            continue
        exact = cases_for(w).count()
        assert abs(float_cubic_count(w) - exact) <= 0.01 * w.config.n_sequences, label
        compared += 1
    assert compared >= 30


def test_search_claims_exactly_what_the_checker_certifies():
    w = tiny_trained_weights(ModelConfig(d_vocab=7, n_ctx=3, d_model=6, d_head=6), 2, 300)
    res = search(w, {})
    assert res.witness == {}
    cert = certificate_for(w, claim=res.certified_count)
    verdict = check_certificate(cert)
    assert verdict.ok and verdict.certified == res.certified_count > 0
    with pytest.raises(ValueError):
        search(w, {"direct_path": "max_diff"})


# ---------------------------------------------------------------- mutations


@pytest.fixture(scope="module")
def trained_cert_obj():
    w = tiny_trained_weights(ModelConfig(d_vocab=8, n_ctx=3, d_model=8, d_head=8), 3, 300)
    res = search(w, {})
    return w, build_certificate(w, "cubic", {}, res.witness, res.certified_count)


def test_claim_raised_by_one_is_rejected(trained_cert_obj):
    assert_claim_plus_one_fails(trained_cert_obj[1])


def test_changed_weight_without_new_hash_is_rejected(trained_cert_obj):
    assert_weight_change_without_new_hash_is_rejected(trained_cert_obj[1])


def test_changed_weights_with_new_hash_are_checked_on_the_new_weights(trained_cert_obj):
    w, obj = trained_cert_obj
    claim = obj["claim"]["certified_count"]
    t = w.tensors()
    # Zero unembedding: every logit is 0, every sequence ties, nothing is correct.
    t0 = dict(t, W_U=np.zeros_like(t["W_U"]))
    v0 = check_certificate(certificate_for(ModelWeights.from_tensors(w.config, t0), claim=claim))
    assert v0.certified == 0 and not v0.ok
    # Small perturbations: the certified count is that of the perturbed model, and sound for it.
    rng = np.random.default_rng(5)
    for name in ("W_E", "W_Q", "W_V", "W_pos"):
        tp = dict(t)
        tp[name] = (t[name] + rng.normal(0, 0.3, t[name].shape)).astype(np.float32)
        wp = ModelWeights.from_tensors(w.config, tp)
        verdict = check_certificate(certificate_for(wp, claim=claim))
        assert verdict.certified == cases_for(wp).count() == assert_sound(wp)


def test_any_nonempty_witness_is_rejected(trained_cert_obj):
    _, obj = trained_cert_obj
    for witness in ({"S": [[0]]}, {"gaps": 1}, {"": {}}):
        bad = copy.deepcopy(obj)
        bad["witness"] = witness
        with pytest.raises(CertificateError) as e:
            check_certificate(load_certificate_obj(bad, "<bad>"))
        assert e.value.field.startswith("witness")
    bad = copy.deepcopy(obj)
    bad["witness"] = [1]
    with pytest.raises(CertificateError):
        check_certificate(load_certificate_obj(bad, "<bad>"))


def test_knobs_are_rejected(trained_cert_obj):
    _, obj = trained_cert_obj
    bad = copy.deepcopy(obj)
    bad["strategy"]["knobs"] = {"direct_path": "max_diff"}
    with pytest.raises(CertificateError):
        load_certificate_obj(bad, "<bad>")
