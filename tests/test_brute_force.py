"""Properties of the brute-force strategy (docs/proofs/brute_force.md): the checker's proved set
equals the true set of correct sequences (tests/oracle.py) on hundreds of tiny models, the
fast path, second pass and exact fallback each agree with the oracle on their own, the
enumeration partitions {0..v-1}^n, the int64 guards hold, and mutated certificates are rejected."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.errors import CertificateError
from checker.load import load_certificate_obj
from checker.ops import OpCounter
from checker.paths import exact_paths
from checker.strategies import brute_force
from checker.strategies.brute_force import sweep as brute_force_sweep
from checker.strategies.brute_force import tables as brute_force_tables
from checker.verify import check_certificate
from extract.certificate import build_certificate, write_certificate
from extract.config import ModelConfig
from extract.model import ModelWeights
from extract.search.brute_force import float_margins_all, search
from tests.oracle import all_sequences, exact_correct_mask, float_margins, tiny_trained_weights

# ---------------------------------------------------------------- helpers


def cert_for(weights: ModelWeights, claim: int = 0, witness: dict | None = None):
    obj = build_certificate(weights, "brute-force", {}, {} if witness is None else witness, claim)
    return load_certificate_obj(json.loads(json.dumps(obj)), "<test>")


def run(weights: ModelWeights) -> brute_force_sweep.SweepResult:
    return brute_force.run(cert_for(weights), OpCounter(), want_mask=True)


def random_config(rng: np.random.Generator) -> ModelConfig:
    v = int(rng.integers(4, 11))
    n = int(rng.integers(2, 5))
    d = int(rng.integers(2, 9))
    return ModelConfig(d_vocab=v, n_ctx=n, d_model=d, d_head=int(rng.integers(1, d + 1)))


def assert_matches_oracle(weights: ModelWeights, res: brute_force_sweep.SweepResult) -> None:
    truth = exact_correct_mask(weights)
    assert res.mask is not None
    wrong_claims = np.flatnonzero(res.mask & ~truth)
    assert wrong_claims.size == 0, f"certified incorrect sequences {wrong_claims[:5]}"  # soundness
    missed = np.flatnonzero(truth & ~res.mask)
    assert missed.size == 0, f"missed correct sequences {missed[:5]}"  # completeness (exact decision)
    assert res.proved == int(truth.sum()) == int(res.mask.sum())


# ---------------------------------------------------------------- soundness and exactness


@settings(max_examples=250, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([0.3, 1.0, 2.0, 4.0]))
def test_proved_set_equals_true_set_on_random_models(seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    w = ModelWeights.random(random_config(rng), seed, scale=scale)
    assert_matches_oracle(w, run(w))


@pytest.mark.parametrize("seed", range(12))
def test_proved_set_equals_true_set_on_trained_models(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    v, n = int(rng.integers(4, 11)), int(rng.integers(2, 5))
    w = tiny_trained_weights(ModelConfig(d_vocab=v, n_ctx=n, d_model=8, d_head=8), seed, 150)
    res = run(w)
    assert_matches_oracle(w, res)
    assert res.proved > 0


def test_ties_count_as_wrong() -> None:
    """All-zero weights make every logit equal: nothing is correct, and nothing is certified."""
    cfg = ModelConfig(d_vocab=5, n_ctx=3, d_model=4, d_head=4)
    w = ModelWeights.from_tensors(cfg, {k: np.zeros(s, dtype=np.float32) for k, s in cfg.weight_shapes().items()})
    res = run(w)
    assert res.proved == 0
    assert res.fallback_not_proved  # exact ties are undecidable by enclosures: they reach the fallback
    assert res.fallback_proved == 0


def test_duplicate_unembedding_column_ties_are_wrong() -> None:
    """Two equal columns of W_U tie the logits of two tokens in every sequence: those never count."""
    cfg = ModelConfig(d_vocab=6, n_ctx=3, d_model=5, d_head=5)
    w = tiny_trained_weights(cfg, 7, 150)
    U = w.W_U.copy()
    U[:, 4] = U[:, 5]
    t = w.tensors()
    t["W_U"] = U
    w2 = ModelWeights.from_tensors(cfg, t)
    res = run(w2)
    assert_matches_oracle(w2, res)
    seqs = all_sequences(6, 3)
    tied = (seqs.max(axis=1) == 4) | (seqs.max(axis=1) == 5)
    assert not res.mask[tied].any()


def test_single_position_models() -> None:
    """n = 1: the sequence is just the query; every v is handled."""
    for v in (2, 3, 7):
        w = ModelWeights.random(ModelConfig(d_vocab=v, n_ctx=1, d_model=4, d_head=3), v)
        assert_matches_oracle(w, run(w))


def test_large_weights_stay_sound() -> None:
    """Scores far beyond exp's comfortable range and huge logits: guards hold, result still exact."""
    for seed, scale in ((1, 30.0), (2, 200.0)):
        w = ModelWeights.random(ModelConfig(d_vocab=6, n_ctx=3, d_model=4, d_head=4), seed, scale=scale)
        assert_matches_oracle(w, run(w))


def test_huge_logit_offsets_with_small_ranges() -> None:
    """A huge offset common to all logits of a row (EUPU ~ 2^50) fits: tables are shifted per row.

    Dimension 0 carries 2^50 in every token embedding and is read only by a constant row of
    W_U, so every logit of a sequence gets the same offset and the correct set equals that of
    the same model with the offset removed (whose oracle is reliable; float64 margins of the
    offset model itself are not: 2^50 eats all float64 digits of the margin).
    """
    cfg = ModelConfig(d_vocab=6, n_ctx=3, d_model=6, d_head=6)
    w = tiny_trained_weights(cfg, 4, 150)
    t = {k: a.copy() for k, a in w.tensors().items()}
    t["W_pos"][:, 0] = 0
    for name in ("W_Q", "W_K", "W_V"):
        t[name][0, :] = 0
    t["W_U"][0, :] = 1
    t["W_E"][:, 0] = 0
    plain = ModelWeights.from_tensors(cfg, {k: a.copy() for k, a in t.items()})
    t["W_E"][:, 0] = np.float32(2.0**50)
    offset = ModelWeights.from_tensors(cfg, t)
    paths = exact_paths(cert_for(offset).weights, OpCounter())
    assert max(abs(x) for x in paths.EUPU.to_fractions()[0]) > 2**49
    res = run(offset)
    truth = exact_correct_mask(plain)
    assert res.proved > 0
    assert np.array_equal(res.mask, truth)


# ---------------------------------------------------------------- each stage on its own


class UselessTables(brute_force_tables.BlockTables):
    """Group tables that prove nothing (every upper bound +1) and refute nothing (every lower bound -1)."""

    def __init__(self, fac, tabs, q, m, ops):
        super().__init__(fac, tabs, q, m, ops)
        self.T_hi = np.ones_like(self.T_hi)

    def lower(self, ops):
        return -np.ones_like(self.T_hi)


def test_second_pass_alone_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a useless fast path every sequence goes to the second pass (per-sequence scale)."""
    monkeypatch.setattr(brute_force_sweep, "BlockTables", UselessTables)
    for seed in range(6):
        w = tiny_trained_weights(ModelConfig(d_vocab=6, n_ctx=3, d_model=6, d_head=6), seed, 150)
        res = run(w)
        assert res.fast_proved == 0
        assert_matches_oracle(w, res)


def test_fallback_alone_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """With useless fast and second passes every sequence is decided by checker.decide."""

    def useless_rows(fac, tabs, d, tokens, ops):
        shape = (len(tokens), len(d.cols))
        return -np.ones(shape, dtype=np.int64), np.ones(shape, dtype=np.int64)

    monkeypatch.setattr(brute_force_sweep, "BlockTables", UselessTables)
    monkeypatch.setattr(brute_force_sweep, "rows_bounds", useless_rows)
    for seed in range(3):
        w = tiny_trained_weights(ModelConfig(d_vocab=5, n_ctx=3, d_model=6, d_head=6), seed, 150)
        res = run(w)
        assert res.fast_proved == res.second_proved == res.fast_refuted == 0
        assert res.fallback_proved + res.fallback_not_proved == 5**3
        assert_matches_oracle(w, res)


def test_refutation_never_removes_a_correct_sequence(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the second pass and fallback, fast-proved + refuted never overlap the wrong side."""
    for seed in range(6):
        w = tiny_trained_weights(ModelConfig(d_vocab=7, n_ctx=3, d_model=6, d_head=6), seed, 60)
        res = brute_force.run(cert_for(w), OpCounter(), want_mask=True, want_unproved=True)
        truth = exact_correct_mask(w)
        unproved = np.concatenate(res.unproved) if res.unproved else np.zeros(0, dtype=np.int64)
        assert not truth[unproved].any()  # every sequence declared not correct is truly not correct
        assert res.fast_refuted > 0


def test_chunk_and_batch_sizes_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunking and second-pass batching do not change the result (chunks of one sequence up to whole boxes)."""
    w = tiny_trained_weights(ModelConfig(d_vocab=7, n_ctx=4, d_model=6, d_head=6), 3, 150)
    base = run(w)
    for elements in (1, 50, 1 << 12):
        monkeypatch.setattr(brute_force_sweep, "CHUNK_ELEMENTS", elements)
        monkeypatch.setattr(brute_force_sweep, "SETTLE_ROWS", max(1, elements // 8))
        res = run(w)
        assert res.proved == base.proved and np.array_equal(res.mask, base.mask)


def test_pruning_changes_no_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dropping competitors that cannot fail (Lemma 5b) gives the same proved set as the full grid."""
    for seed in range(4):
        w = tiny_trained_weights(ModelConfig(d_vocab=8, n_ctx=4, d_model=8, d_head=8), seed, 150)
        pruned = run(w)
        monkeypatch.setattr(brute_force_sweep, "kept_competitors", lambda ub: np.arange(len(ub)))
        full = run(w)
        monkeypatch.undo()
        assert np.array_equal(pruned.mask, full.mask) and pruned.fast_proved == full.fast_proved


# ---------------------------------------------------------------- enumeration and arithmetic


@settings(max_examples=200, deadline=None)
@given(v=st.integers(1, 6), n=st.integers(1, 5), budget=st.integers(1, 400), width=st.integers(1, 7))
def test_boxes_and_chunks_partition_all_sequences(v: int, n: int, budget: int, width: int) -> None:
    seen: list[tuple[int, ...]] = []
    old = brute_force_sweep.CHUNK_ELEMENTS
    brute_force_sweep.CHUNK_ELEMENTS = budget
    try:
        for q in range(v):
            for m in range(q, v):
                for box in brute_force_sweep.boxes(q, m, n - 1):
                    for prefix, sub in brute_force_sweep.chunks(box, width):
                        assert len(prefix) + len(sub) == n - 1
                        size = int(np.prod([hi - lo for lo, hi in sub])) if sub else 1
                        assert size * width <= max(budget, width * max([hi - lo for lo, hi in sub] + [1]))
                        for rest in itertools.product(*(range(lo, hi) for lo, hi in sub)):
                            seq = tuple(prefix) + rest + (q,)
                            assert max(seq) == m
                            seen.append(seq)
    finally:
        brute_force_sweep.CHUNK_ELEMENTS = old
    assert sorted(seen) == list(itertools.product(range(v), repeat=n))


@settings(max_examples=300, deadline=None)
@given(
    num=st.integers(0, 2**70), den_bits=st.integers(0, 60), d=st.integers(1, 100), bits=st.integers(4, 100),
)
def test_factor_enclosure_contains_exp_for_every_rho(num: int, den_bits: int, d: int, bits: int) -> None:
    """a 2^-e <= exp(rho y) <= b 2^-e at both ends of the rho enclosure (60-digit mpmath), 0 <= a <= b <= 2^30."""
    from fractions import Fraction

    import mpmath

    from checker.sqrt_bounds import inv_sqrt_bounds

    y = -Fraction(num, 2**den_bits)
    rho_lo, rho_hi = inv_sqrt_bounds(d, bits)
    a, b, e = brute_force_tables.factor_enclosure(y, rho_lo, rho_hi)
    assert 0 <= a <= b <= 2**brute_force_tables.FACTOR_BITS
    with mpmath.workdps(60):
        scale = mpmath.mpf(2) ** (-e)
        for rho in (rho_lo, rho_hi):
            x = mpmath.exp(mpmath.mpf((rho * y).numerator) / (rho * y).denominator)
            assert a * scale <= x <= b * scale


def test_attention_factors_enclose_exp() -> None:
    """Each factor interval contains exp(rho (S - max S)) at 60-digit precision for rho = 1/sqrt(d_head)."""
    import mpmath

    w = tiny_trained_weights(ModelConfig(d_vocab=6, n_ctx=3, d_model=6, d_head=5), 2, 150)
    cert = cert_for(w)
    paths = exact_paths(cert.weights, OpCounter())
    from checker.sqrt_bounds import inv_sqrt_bounds

    lo, hi = inv_sqrt_bounds(5, brute_force_tables.SQRT_BITS)
    with mpmath.workdps(60):
        rho = 1 / mpmath.sqrt(5)
        for q in range(6):
            fac = brute_force_tables.attention_factors(paths, q, lo, hi, OpCounter())
            for M, f in ((paths.EQKE, fac.tok), (paths.EQKP, fac.pos)):
                row = M.to_fractions()[q]
                top = max(row)
                for i, s in enumerate(row):
                    x = mpmath.exp(rho * mpmath.mpf((s - top).numerator) / (s - top).denominator)
                    scale = mpmath.mpf(2) ** (-int(f.e[i]))
                    assert int(f.lo[i]) * scale <= x <= int(f.hi[i]) * scale


def test_int64_guard_trips_instead_of_overflowing(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the scale choice were wrong, the run-time bound check raises rather than wrapping around."""
    w = ModelWeights.random(ModelConfig(d_vocab=5, n_ctx=3, d_model=4, d_head=4), 0)
    paths = exact_paths(cert_for(w).weights, OpCounter())
    real = brute_force_tables.choose_scale
    monkeypatch.setattr(brute_force_tables, "choose_scale", lambda R, n, F: real(R, n, F) + 8)
    with pytest.raises(OverflowError):
        brute_force_tables.logit_tables(paths, 3, OpCounter())
    with pytest.raises(OverflowError):
        real(brute_force_tables._max_row_range(paths.EUPU), 3, 60)  # no room at all: refused up front


def test_operation_count_grows_like_v_to_the_n_plus_one() -> None:
    counts = []
    for v in (6, 12):
        w = ModelWeights.random(ModelConfig(d_vocab=v, n_ctx=3, d_model=4, d_head=4), 1)
        ops = OpCounter()
        brute_force.check(cert_for(w), ops)
        counts.append(ops.count)
    assert counts[0] > 6**3 * 5  # at least one operation per (sequence, competitor)
    assert 8 < counts[1] / counts[0] < 64  # about (12/6)^4 = 16


# ---------------------------------------------------------------- certificates, search and mutations


def test_search_claim_is_certified_and_tight_on_trained_models() -> None:
    for seed in range(4):
        w = tiny_trained_weights(ModelConfig(d_vocab=8, n_ctx=3, d_model=8, d_head=8), seed, 150)
        res = search(w, {})
        assert res.witness == {}
        verdict = check_certificate(cert_for(w, res.certified_count))
        assert verdict.ok
        assert verdict.certified == int(exact_correct_mask(w).sum()) >= res.certified_count


def test_float_margins_match_direct_evaluation() -> None:
    for seed, cfg in enumerate((ModelConfig(7, 4, 6, 6), ModelConfig(5, 1, 4, 4), ModelConfig(3, 6, 4, 4))):
        w = ModelWeights.random(cfg, seed)
        a = float_margins_all(w, rows_per_block=20)
        b = float_margins(w, all_sequences(cfg.d_vocab, cfg.n_ctx))
        assert np.allclose(a, b, rtol=0, atol=1e-9)


def test_claim_one_above_the_exact_count_fails() -> None:
    w = tiny_trained_weights(ModelConfig(d_vocab=6, n_ctx=3, d_model=6, d_head=6), 11, 150)
    exact = int(exact_correct_mask(w).sum())
    assert check_certificate(cert_for(w, exact)).ok
    v = check_certificate(cert_for(w, exact + 1))
    assert not v.ok and v.certified == exact


def test_changed_weight_without_new_hash_is_rejected() -> None:
    w = tiny_trained_weights(ModelConfig(d_vocab=6, n_ctx=3, d_model=6, d_head=6), 11, 150)
    obj = json.loads(json.dumps(build_certificate(w, "brute-force", {}, {}, 0)))
    obj["weights"]["W_U"]["mantissas"][0][0] += 1
    with pytest.raises(CertificateError) as e:
        load_certificate_obj(obj, "<test>")
    assert "sha256" in e.value.field or "sha256" in e.value.message


@pytest.mark.parametrize("seed", range(3))
def test_changed_weight_with_new_hash_is_judged_on_the_new_model(seed: int) -> None:
    """The claim of the original model is re-judged exactly against the mutated model."""
    cfg = ModelConfig(d_vocab=6, n_ctx=3, d_model=6, d_head=6)
    w = tiny_trained_weights(cfg, 20 + seed, 150)
    claim = int(exact_correct_mask(w).sum())
    t = w.tensors()
    U = t["W_U"].copy()
    U[:, 5] *= np.float32(0.25)  # weaken the largest token's logit: fewer correct sequences
    t["W_U"] = U
    w2 = ModelWeights.from_tensors(cfg, t)
    truth2 = int(exact_correct_mask(w2).sum())
    assert truth2 != claim
    v = check_certificate(cert_for(w2, claim))
    assert v.certified == truth2
    assert v.ok == (truth2 >= claim)


def test_nonempty_witness_is_malformed() -> None:
    w = ModelWeights.random(ModelConfig(d_vocab=4, n_ctx=2, d_model=4, d_head=4), 0)
    with pytest.raises(CertificateError) as e:
        check_certificate(cert_for(w, 0, witness={"bits": 64}))
    assert e.value.field == "witness.bits"


def test_cli_checks_a_brute_force_certificate(tmp_path: Path) -> None:
    w = tiny_trained_weights(ModelConfig(d_vocab=6, n_ctx=3, d_model=6, d_head=6), 11, 150)
    exact = int(exact_correct_mask(w).sum())
    good = write_certificate(build_certificate(w, "brute-force", {}, {}, exact), tmp_path / "good.json")
    bad = write_certificate(build_certificate(w, "brute-force", {}, {}, exact + 1), tmp_path / "bad.json")
    malformed = write_certificate(build_certificate(w, "brute-force", {}, {"x": 1}, 0), tmp_path / "malformed.json")
    for path, code in ((good, 0), (bad, 1), (malformed, 2)):
        r = subprocess.run([sys.executable, "-m", "checker", str(path)], capture_output=True, text=True)
        assert r.returncode == code, r.stdout + r.stderr
        assert "Traceback" not in r.stdout + r.stderr
        assert len((r.stdout + r.stderr).strip().splitlines()) == 1


# ---------------------------------------------------------------- full size


@pytest.mark.slow
def test_full_size_model_matches_the_oracle() -> None:
    """The paper-size model (64^4): the checker's proved set equals the oracle's correct set."""
    from extract.weights import load_model

    path = Path(__file__).resolve().parent.parent / "models" / "seed-123.safetensors"
    if path.exists():
        w = load_model(path)
    else:
        from extract.config import TrainConfig
        from extract.train import train

        w = train(ModelConfig(), TrainConfig(seed=123))
    assert_matches_oracle(w, run(w))
