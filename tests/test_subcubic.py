"""Soundness of the subcubic family (checker/strategies/subcubic*.py, docs/proofs/subcubic.md).

The main property: every case the exact checker certifies covers only sequences that are
TRULY correct (tests/oracle.py), for search-made and for adversarially mutated witnesses, on
many tiny random and trained models and every one of the 100 variants. That implies
certified count <= exact count, which is asserted too.
"""

from __future__ import annotations

import copy
import functools
import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.dyadic import DMatrix
from checker.errors import CertificateError
from checker.load import load_certificate_obj
from checker.ops import OpCounter
from checker.strategies import subcubic as checker_subcubic
from checker.strategies.subcubic.eqke import bound_exact, bounds_max_diff, bound_recursive, svd_trace_power
from checker.verify import check_certificate
from extract.certificate import build_certificate
from extract.config import ModelConfig
from extract.model import ModelWeights
from extract.search import subcubic as search_subcubic
from extract.strategies import ATTENTION_ERROR_MODES, ATTENTION_MODES, DIRECT_PATH_MODES
from tests.oracle import exact_correct_mask, random_tiny_config, tiny_trained_weights

VARIANTS = [dict(direct_path=a, attention=b, attention_error=c)
            for a, b, c in itertools.product(DIRECT_PATH_MODES, ATTENTION_MODES, ATTENTION_ERROR_MODES)]
TRAINED_CONFIGS = [ModelConfig(8, 3, 6, 6), ModelConfig(10, 4, 8, 8), ModelConfig(12, 2, 8, 5), ModelConfig(7, 4, 5, 4)]


@functools.lru_cache(maxsize=None)
def trained(i: int) -> ModelWeights:
    return tiny_trained_weights(TRAINED_CONFIGS[i], seed=100 + i, steps=1000)


def model(i: int) -> ModelWeights:
    """Model i of the pool: trained tiny models, noisy copies of them, and random models."""
    rng = np.random.default_rng(1000 + i)
    kind = i % 3
    if kind == 0:
        base = trained((i // 3) % len(TRAINED_CONFIGS))
        if i < 3 * len(TRAINED_CONFIGS):
            return base
        noise = float(rng.choice([0.01, 0.03, 0.1]))
        t = {k: (a + noise * rng.standard_normal(a.shape) * np.abs(a).mean()).astype(np.float32)
             for k, a in base.tensors().items()}
        return ModelWeights.from_tensors(base.config, t)
    cfg = random_tiny_config(rng)
    return ModelWeights.random(cfg, seed=i, scale=float(rng.choice([1.0, 3.0, 6.0])))


@functools.lru_cache(maxsize=None)
def truth_mask(i: int) -> np.ndarray:
    return exact_correct_mask(model(i))


def certificate(w: ModelWeights, knobs: dict[str, str], witness: dict, claim: int = 0):
    return load_certificate_obj(build_certificate(w, "subcubic", dict(knobs), witness, claim), "<test>")


def covered_indices(v: int, n: int, case: tuple[int, int, int, int]) -> list[int]:
    """Lexicographic indices of the sequences a certified case (q, m, c, top) covers."""
    q, m, c, top = case
    cp = c if q == m else c - 1
    out = []
    for pos in itertools.combinations(range(n - 1), cp):
        for vals in itertools.product(range(top + 1), repeat=cp):
            seq = [m] * (n - 1) + [q]
            for p, t in zip(pos, vals):
                seq[p] = t
            out.append(sum(t * v ** (n - 1 - p) for p, t in enumerate(seq)))
    return out


def assert_cases_sound(w: ModelWeights, knobs: dict[str, str], witness: dict, mask: np.ndarray) -> int:
    """Every sequence of every certified case is truly correct, the cases are disjoint, the count adds up."""
    cert = certificate(w, knobs, witness)
    record: list[tuple[int, int, int, int]] = []
    count = checker_subcubic.certified_cases(cert, OpCounter(), record)
    v, n = w.config.d_vocab, w.config.n_ctx
    seen: set[int] = set()
    for case in record:
        idx = covered_indices(v, n, case)
        bad = [i for i in idx if not mask[i]]
        assert not bad, f"{knobs} certified case {case} covers a wrong sequence (index {bad[0]})"
        assert seen.isdisjoint(idx), f"case {case} overlaps an earlier case"
        seen.update(idx)
    assert count == len(seen)
    assert count <= int(mask.sum())
    return count


# ---------------------------------------------------------------------------------------------
# The main property: search-made witnesses, all variants, many models.


def _sound_for(model_ids, variant_ids) -> None:
    for i in model_ids:
        w, mask = model(i), truth_mask(i)
        for j in variant_ids(i):
            res = search_subcubic.search(w, VARIANTS[j])
            got = assert_cases_sound(w, VARIANTS[j], res.witness, mask)
            if i % 3 == 0:  # trained and noisy-trained models: the float mirror's claim is exact
                assert got == res.certified_count, (i, j)
            # On random models the mirror may over-claim (7 of 1,000 here): the checker then
            # rejects the claim and the sweep re-claims its count (extract.sweep.reclaim).


def test_search_witnesses_certify_only_correct_sequences_every_variant_covered() -> None:
    """100 models, 10 variants each, rotating so that every variant is exercised on 10 models."""
    _sound_for(range(100), lambda i: [(i + 10 * k) % 100 for k in range(10)])


@pytest.mark.slow
def test_search_witnesses_certify_only_correct_sequences_all_variants_all_models() -> None:
    _sound_for(range(100), lambda i: range(100))


def test_trained_models_certify_a_substantial_fraction() -> None:
    """Not a soundness property: a guard that the proofs are not vacuous on trained models."""
    w = trained(1)
    res = search_subcubic.search(w, dict(direct_path="max_diff_exact", attention="mean+diff",
                                         attention_error="exact_EQKE+max_diff_exact"))
    assert res.certified_count > 0.5 * w.config.n_sequences


# ---------------------------------------------------------------------------------------------
# Mutated witnesses: never more than the truth, and exactly the documented reactions.


def _mutations(w: ModelWeights, knobs: dict[str, str], wit: dict, rng: np.random.Generator):
    v, n = w.config.d_vocab, w.config.n_ctx
    g = copy.deepcopy(wit)
    g["gaps"] = rng.integers(1, v + 1, size=(v, v, n)).tolist()
    yield "random gaps", g
    g = copy.deepcopy(wit)
    g["gaps"] = np.ones((v, v, n), dtype=int).tolist()
    yield "all gaps 1", g
    if "abar" in wit:
        g = copy.deepcopy(wit)
        g["abar"]["values"] = rng.integers(0, 2**32 + 1, size=(v, n)).tolist()
        yield "random abar", g
        for edge in (0, 2**32):
            g = copy.deepcopy(wit)
            g["abar"]["values"] = [[edge] * n for _ in range(v)]
            yield f"abar all {edge}", g
    if "eps" in wit:
        g = copy.deepcopy(wit)
        g["eps"]["values"] = [x // 2 for x in wit["eps"]["values"]]
        yield "halved eps", g
        g = copy.deepcopy(wit)
        g["eps"]["values"] = [0] * v
        yield "zero eps", g
        g = copy.deepcopy(wit)
        g["eps"]["values"] = [1 << 400] * v  # exp arguments far beyond the clamp
        yield "huge eps", g
    if "rank_one" in wit:
        g = copy.deepcopy(wit)
        g["rank_one"]["a"] = [int(x) + int(rng.integers(-(2**28), 2**28)) for x in wit["rank_one"]["a"]]
        yield "perturbed rank-one direction", g
    if "peel" in wit:
        g = copy.deepcopy(wit)
        for key in ("E_q", "E_key"):
            for piece in g["peel"][key]:
                piece[0] = [int(x) + int(rng.integers(-(2**28), 2**28)) for x in piece[0]]
        yield "perturbed peel directions", g
    if "dp_centre" in wit:
        g = copy.deepcopy(wit)
        g["dp_centre"]["values"] = rng.integers(-(2**40), 2**40, size=w.config.d_model).tolist()
        yield "random direct-path centre", g


def test_mutated_witnesses_certify_only_correct_sequences() -> None:
    rng = np.random.default_rng(7)
    for i in range(0, 24, 2):
        w, mask = model(i), truth_mask(i)
        for j in rng.choice(100, size=4, replace=False):
            knobs = VARIANTS[int(j)]
            res = search_subcubic.search(w, knobs)
            for name, wit in _mutations(w, knobs, res.witness, rng):
                got = assert_cases_sound(w, knobs, wit, mask)
                if name in ("halved eps", "zero eps"):
                    assert got <= res.certified_count, name


def test_under_claimed_error_bound_drops_its_query() -> None:
    """An eps below the proven bound for query q certifies no case with that query (except all-max)."""
    w = trained(1)
    knobs = dict(direct_path="max_diff_exact", attention="mean+diff", attention_error="max_diff")
    res = search_subcubic.search(w, knobs)
    v = w.config.d_vocab
    for q in range(v):
        wit = copy.deepcopy(res.witness)
        wit["eps"]["values"][q] = 0
        record: list = []
        checker_subcubic.certified_cases(certificate(w, knobs, wit), OpCounter(), record)
        assert all(c == 0 for (qq, m, c, top) in record if qq == q)


def test_claim_above_the_certified_count_is_rejected_and_the_count_itself_accepted() -> None:
    w = trained(0)
    knobs = VARIANTS[0]
    res = search_subcubic.search(w, knobs)
    ok = check_certificate(certificate(w, knobs, res.witness, res.certified_count))
    assert ok.ok and ok.certified == res.certified_count and ok.ops > 0
    bad = check_certificate(certificate(w, knobs, res.witness, res.certified_count + 1))
    assert not bad.ok


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda wit: wit.pop("gaps"), "witness.gaps"),
        (lambda wit: wit["gaps"][0][0].__setitem__(0, 0), "witness.gaps[0][0]"),
        (lambda wit: wit["gaps"].pop(), "witness.gaps"),
        (lambda wit: wit["abar"]["values"][1].__setitem__(0, 2**32 + 1), "witness.abar.values[1]"),
        (lambda wit: wit["eps"]["values"].__setitem__(2, -1), "witness.eps.values"),
        (lambda wit: wit["eps"]["values"].__setitem__(2, "1.5"), "witness.eps.values[2]"),
        (lambda wit: wit["rank_one"].pop("b"), "witness.rank_one.b"),
        (lambda wit: wit["rank_one"]["a"].append(1), "witness.rank_one.a"),
        (lambda wit: wit.__setitem__("extra", 1), "witness.extra"),
    ],
)
def test_malformed_witness_is_a_certificate_error_naming_the_field(mutate, field) -> None:
    w = trained(0)
    knobs = dict(direct_path="mean_query+max_diff", attention="mean+diff", attention_error="max_diff")
    wit = copy.deepcopy(search_subcubic.search(w, knobs).witness)
    mutate(wit)
    with pytest.raises(CertificateError) as e:
        checker_subcubic.check(certificate(w, knobs, wit), OpCounter())
    assert e.value.field.startswith(field)


def test_unknown_knob_value_is_rejected_by_name() -> None:
    w = trained(0)
    obj = build_certificate(w, "subcubic", dict(VARIANTS[0]), {}, 0)
    obj["strategy"]["knobs"]["attention_error"] = "bogus"
    with pytest.raises(CertificateError) as e:
        load_certificate_obj(obj, "<test>")
    assert "attention_error" in e.value.field


# ---------------------------------------------------------------------------------------------
# The error-bound inequalities of each mode, against exact row differences.


def _dm(rows: list[list[int]], exp: int) -> DMatrix:
    return DMatrix(tuple(tuple(r) for r in rows), exp)


def _exact_row_diffs(fs: list[DMatrix]) -> list[Fraction]:
    acc = fs[0].to_fractions()
    for f in fs[1:]:
        b = f.to_fractions()
        acc = [[sum(x * y for x, y in zip(row, col)) for col in zip(*b)] for row in acc]
    return [max(r) - min(r) for r in acc]


@st.composite
def factor_chains(draw):
    """A chain of 3 (v x d, d x d, d x v) or 4 (v x d, d x h, h x d, d x v) small dyadic factors."""
    v, d, h = draw(st.integers(2, 7)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    four = draw(st.booleans())
    shapes = [(v, d), (d, h), (h, d), (d, v)] if four else [(v, d), (d, d), (d, v)]
    entry = st.integers(-60, 60)
    return [_dm(draw(st.lists(st.lists(entry, min_size=c, max_size=c), min_size=r, max_size=r)), draw(st.integers(-6, 2)))
            for r, c in shapes]


@settings(max_examples=60, deadline=None)
@given(fs=factor_chains())
def test_every_error_mode_bounds_the_true_row_differences(fs: list[DMatrix]) -> None:
    truth = _exact_row_diffs(fs)
    v = len(truth)
    ops = OpCounter()
    bounds = bounds_max_diff(fs, False, ops) + bounds_max_diff(fs, True, ops)
    bounds += [bound_recursive(fs, lv, ops) for lv in (set(), {0}, set(range(len(fs) - 1)))]
    bounds.append(bound_exact(fs, ops))
    for b in bounds:
        for q in range(v):
            assert truth[q] <= Fraction(b.vals[q]) * Fraction(2) ** b.exp
    assert [Fraction(x) * Fraction(2) ** bounds[-1].exp for x in bounds[-1].vals] == truth
    if len(fs) == 3:
        T, e = svd_trace_power(fs, ops)
        assert max(truth) ** 8 <= 16 * Fraction(T) * Fraction(2) ** e


# ---------------------------------------------------------------------------------------------
# The fast exp table of the case loop.


def test_exp_table_encloses_exp_at_many_arguments() -> None:
    import mpmath

    from checker.exp_table import ExpTable

    rng = np.random.default_rng(3)
    table = ExpTable(32)
    mpmath.mp.prec = 200
    args = [int(x) for x in rng.integers(-(40 << 32), 40 << 32, size=300)]
    args += [0, 1, -1, (1 << 24) - 1, -(1 << 24), (1 << 32) * 700, -(1 << 32) * 700]
    for N in args:
        (lm, le), (hm, he) = table.enclose(N)
        true = mpmath.exp(mpmath.mpf(N) / mpmath.mpf(2) ** 32)
        assert 0 < lm and mpmath.mpf(lm) * mpmath.mpf(2) ** le <= true <= mpmath.mpf(hm) * mpmath.mpf(2) ** he
        assert (mpmath.mpf(hm) * mpmath.mpf(2) ** he) / (mpmath.mpf(lm) * mpmath.mpf(2) ** le) < 1 + mpmath.mpf(2) ** -36


@pytest.mark.slow
def test_showcase_model_certified_counts_stay_below_the_true_count() -> None:
    """Full size (64^4): a few variants on the showcase model, against the oracle's exact count."""
    from pathlib import Path

    from extract.weights import load_model
    from tests.oracle import exact_correct_count

    path = Path(__file__).resolve().parent.parent / "models" / "seed-123.safetensors"
    if not path.exists():
        pytest.skip("models/seed-123.safetensors not trained")
    w = load_model(path)
    truth = exact_correct_count(w)
    for j in (0, 9, 5, 69, 79):
        res = search_subcubic.search(w, VARIANTS[j])
        assert 0 < res.certified_count <= truth


@pytest.mark.parametrize("i, cfg", list(enumerate([ModelConfig(2, 1, 1, 1), ModelConfig(3, 1, 2, 1), ModelConfig(2, 2, 1, 1),
                                                    ModelConfig(4, 3, 1, 2), ModelConfig(5, 2, 3, 3)])))
def test_degenerate_shapes_and_zero_weights_are_handled_soundly(i: int, cfg: ModelConfig) -> None:
    zero = ModelWeights.from_tensors(cfg, {k: np.zeros(s, np.float32) for k, s in cfg.weight_shapes().items()})
    for w in (ModelWeights.random(cfg, 0, scale=4.0), zero):
        mask = exact_correct_mask(w)
        for knobs in VARIANTS[i::5]:  # the five shapes together cover every variant
            assert_cases_sound(w, knobs, search_subcubic.search(w, knobs).witness, mask)
