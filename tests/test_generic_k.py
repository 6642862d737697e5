"""Max-of-K beyond K = 4 (issue #14): every generalised strategy is sound at n_ctx = 2..6, counts
above 2^63 survive certificate and checker exactly, and the plumbing of the named configurations.

Soundness is checked the strong way, against the exact oracle (tests/oracle.py): every sequence
the cubic count counts, every sequence a certified subcubic case covers, and every sequence the
brute-force checker proves is enumerated and found truly correct; certified <= exact follows and
is asserted too. Models: one briefly trained tiny model and three random ones per n, with v^n
kept <= 2e5 so the oracle stays exhaustive.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from checker.load import load_certificate_obj
from checker.ops import OpCounter
from checker.strategies import brute_force as checker_bf
from checker.strategies import subcubic as checker_subcubic
from extract.certificate import build_certificate, write_certificate
from extract.job import Job
from extract.config import CONFIGS, ModelConfig, config_name, models_subdir
from extract.model import ModelWeights
from extract.search import brute_force as search_bf
from extract.search import cubic as search_cubic
from extract.search import subcubic as search_subcubic
from extract.strategies import DEFAULT_SUBCUBIC_VARIANT, all_strategies
from tests.oracle import exact_correct_mask, random_tiny_config, tiny_trained_weights
from tests.test_cubic import assert_sound as assert_cubic_sound
from tests.test_subcubic import assert_cases_sound as assert_subcubic_sound

ROOT = Path(__file__).resolve().parents[1]
NS = list(range(2, 7))
MAX_SEQUENCES = 200_000
TRAINED_VOCAB = {2: 12, 3: 12, 4: 10, 5: 8, 6: 6}
SUBCUBIC_VARIANTS = [s.knob_dict for s in all_strategies() if s.family == "subcubic"][::11] + [
    dict(zip(("direct_path", "attention", "attention_error"), DEFAULT_SUBCUBIC_VARIANT.split("/"))),
    dict(direct_path="max_diff_exact", attention="mean+diff", attention_error="exact_EQKE+max_diff_exact"),
]


@functools.cache
def models_at(n: int) -> tuple[tuple[str, ModelWeights], ...]:
    """One trained and three random tiny models of context length n (v^n <= 2e5)."""
    rng = np.random.default_rng(1400 + n)
    out = [("trained", tiny_trained_weights(ModelConfig(TRAINED_VOCAB[n], n, 8, 8), 14 + n, 400))]
    for i in range(3):
        cfg = random_tiny_config(rng, v=(4, 12), n=(n, n), max_sequences=MAX_SEQUENCES)
        scale = float(rng.choice([1.0, 3.0, 6.0]))
        out.append((f"random{i}", ModelWeights.random(cfg, seed=int(rng.integers(1 << 30)), scale=scale)))
    return tuple(out)


@functools.cache
def truth(n: int, i: int) -> np.ndarray:
    return exact_correct_mask(models_at(n)[i][1])


def brute_force_cert(w: ModelWeights, claim: int = 0):
    return load_certificate_obj(build_certificate(w, "brute-force", {}, {}, claim), "<test>")


# ---------------------------------------------------------------------------------------------
# Soundness at n = 2..6


@pytest.mark.parametrize("n", NS)
def test_cubic_counts_only_correct_sequences_and_the_search_claims_the_count(n: int) -> None:
    """Every sequence the cubic count counts is truly correct (enumerated), no sequence twice;
    certified <= exact; the search's claim is exactly the checker's count."""
    for label, w in models_at(n):
        count = assert_cubic_sound(w)
        assert search_cubic.search(w, {}).certified_count == count, (n, label)


@pytest.mark.parametrize("n", NS)
def test_subcubic_certified_cases_cover_only_correct_sequences(n: int) -> None:
    """For 12 variants (every 11th, the default, the best at K = 4): every sequence of every
    certified case is truly correct, cases are disjoint, count <= exact; on the trained model the
    search's exact-integer claim equals the checker's count."""
    for i, (label, w) in enumerate(models_at(n)):
        for knobs in SUBCUBIC_VARIANTS:
            res = search_subcubic.search(w, knobs)
            got = assert_subcubic_sound(w, knobs, res.witness, truth(n, i))
            if label == "trained":
                assert got == res.certified_count, (n, knobs)


@pytest.mark.parametrize("n", NS)
def test_brute_force_proves_only_correct_sequences_and_decides_all(n: int) -> None:
    """The brute-force checker's proved set is inside the oracle's correct set, proved + refuted +
    undecided = v^n, and both search paths (float margins; exact checker count) claim <= proved,
    the exact path exactly proved."""
    for i, (label, w) in enumerate(models_at(n)):
        mask = truth(n, i)
        res = checker_bf.run(brute_force_cert(w), OpCounter(), want_mask=True)
        assert res.mask is not None
        assert not (res.mask & ~mask).any(), f"{label}: brute force proved an incorrect sequence"
        assert res.proved == int(res.mask.sum()) <= int(mask.sum())
        assert res.proved + res.fast_refuted + res.fallback_not_proved == w.config.n_sequences
        assert search_bf.search(w, {}).certified_count <= res.proved
        exact = search_bf.exact_brute_force_search(w)
        assert exact.certified_count == res.proved
        assert int(exact.info["proved_correct"]) + int(exact.info["refuted_fast"]) + \
            int(exact.info["fallback_not_proved"]) == w.config.n_sequences


def test_brute_force_search_above_2_to_24_sequences_claims_the_exact_checker_count(monkeypatch) -> None:
    """With the float limit lowered below v^n, search() takes the exact path: claim = proved."""
    w = models_at(4)[0][1]
    monkeypatch.setattr(search_bf, "FLOAT_SEARCH_MAX_SEQUENCES", 10)
    res = search_bf.search(w, {})
    assert res.info["claim_source"].startswith("exact count")
    assert res.certified_count == checker_bf.run(brute_force_cert(w), OpCounter()).proved


def test_brute_force_beyond_2_to_34_sequences_is_refused_with_one_line(tmp_path: Path) -> None:
    """64^6 = 2^36 sequences: the search refuses (BruteForceTooLarge); `certify` exits 2 with one line."""
    w = ModelWeights.random(ModelConfig(64, 6, 4, 4), seed=1)
    with pytest.raises(search_bf.BruteForceTooLarge, match="2\\^34"):
        search_bf.search(w, {})
    from extract.weights import save_model

    model = tmp_path / "m.safetensors"
    save_model(w, model, {})
    r = subprocess.run([sys.executable, "-m", "extract.cli", "certify", str(model), "--strategy", "brute-force",
                        "--out", str(tmp_path / "c.json")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "2^34" in r.stderr


def test_subcubic_blocks_of_queries_give_the_same_witness_and_claim(monkeypatch) -> None:
    """The [q, m, j] arrays built in blocks of queries (as at v = 512) give the same witness and
    claim as one block, and the claim is the checker's count."""
    w = models_at(5)[0][1]
    for knobs in SUBCUBIC_VARIANTS[-3:]:
        one = search_subcubic.search(w, knobs)
        monkeypatch.setattr(search_subcubic, "BLOCK_ENTRIES", 200)
        assert len(search_subcubic._query_blocks(w.config.d_vocab)) > 1
        many = search_subcubic.search(w, knobs)
        monkeypatch.undo()
        assert one.witness == many.witness and one.certified_count == many.certified_count
        cert = load_certificate_obj(build_certificate(w, "subcubic", knobs, many.witness, 0), "<test>")
        assert checker_subcubic.check(cert, OpCounter()) == many.certified_count


# ---------------------------------------------------------------------------------------------
# Counts above 2^63


@functools.cache
def wide_model() -> ModelWeights:
    """v = 24, n = 15: 24^15 ~ 5.0e20 ~ 2^68.8 sequences."""
    return tiny_trained_weights(ModelConfig(24, 15, 8, 8), 7, 600)


@pytest.mark.parametrize("strategy", ["cubic", "subcubic"])
def test_counts_above_2_to_63_round_trip_through_certificate_and_checker(tmp_path: Path, strategy: str) -> None:
    """A claim above 2^63 is written as a decimal string, and the independent checker process
    accepts it and reports the same integer; the search's claim is the checker's exact count."""
    w = wide_model()
    if strategy == "cubic":
        knobs: dict = {}
        res = search_cubic.search(w, knobs)
    else:
        knobs = SUBCUBIC_VARIANTS[-1]
        res = search_subcubic.search(w, knobs)
    assert res.certified_count > 2**63, res.certified_count
    cert = build_certificate(w, strategy, knobs, res.witness, res.certified_count)
    assert cert["claim"]["certified_count"] == str(res.certified_count)
    path = write_certificate(cert, tmp_path / "c.json")
    r = subprocess.run([sys.executable, "-m", "checker", str(path), "--json"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    entry = out[0] if isinstance(out, list) else out
    text = json.dumps(entry)
    assert str(res.certified_count) in text, text


# ---------------------------------------------------------------------------------------------
# Named configurations and model files


def test_every_named_configuration_has_a_name_and_its_own_models_folder() -> None:
    """k4 keeps models/seed-S.safetensors; every other configuration has its own folder."""
    from extract.models import model_path

    assert model_path(Path("m"), 5) == Path("m/seed-5.safetensors")
    assert model_path(Path("m"), 5, CONFIGS["k4"]) == Path("m/seed-5.safetensors")
    assert model_path(Path("m"), 5, CONFIGS["k5"]) == Path("m/n5-v64/seed-5.safetensors")
    assert model_path(Path("m"), 5, CONFIGS["k20-v512"]) == Path("m/n20-v512/seed-5.safetensors")
    assert models_subdir(ModelConfig(6, 3, 8, 8)) == "n3-v6-d8-h8"
    folders = {models_subdir(c) for c in CONFIGS.values()}
    assert len(folders) == len(CONFIGS)
    for name, c in CONFIGS.items():
        assert config_name(c) == name


def test_config_and_shape_are_exclusive_and_unknown_names_are_one_line() -> None:
    from extract.cli import build_parser, chosen_config

    p = build_parser()
    assert chosen_config(p.parse_args(["train", "--config", "k5"])) == CONFIGS["k5"]
    assert chosen_config(p.parse_args(["sweep", "--shape", "6,3,8,8"])) == ModelConfig(6, 3, 8, 8)
    assert chosen_config(p.parse_args(["certify", "seed:1", "--strategy", "cubic"])) == ModelConfig()
    for argv in (["train", "--config", "k5", "--shape", "6,3,8,8"], ["sweep", "--config", "k7"]):
        with pytest.raises(SystemExit) as e:
            p.parse_args(argv)
        assert e.value.code == 2


def test_seed_spec_with_a_config_resolves_in_that_configurations_folder(tmp_path: Path) -> None:
    """`certify seed:S --config k5` reads models/n5-v64/seed-S; a missing one names the train command."""
    from extract.errors import UserError
    from extract.models import resolve_model

    with pytest.raises(UserError, match="n5-v64/seed-3.safetensors: no such model.*--config k5"):
        resolve_model("seed:3", tmp_path, CONFIGS["k5"])
    f = tmp_path / "n5-v64" / "seed-3.safetensors"
    f.parent.mkdir()
    f.write_bytes(b"")
    assert resolve_model("seed:3", tmp_path, CONFIGS["k5"]) == f


# ---------------------------------------------------------------------------------------------
# Float accuracy beyond 2^34 sequences


def test_float_accuracy_is_refused_beyond_2_to_34_and_sampling_works_at_any_size(tmp_path: Path) -> None:
    """`accuracy` on a 64^6-sequence model exits 2 with one line naming --sample; --sample N
    gives an estimate; on a tiny model the sampled count agrees with the exhaustive one."""
    from extract.accuracy import TooManySequences, float_brute_force, sampled_accuracy
    from extract.weights import save_model

    big = ModelWeights.random(ModelConfig(64, 6, 4, 4), seed=2)
    with pytest.raises(TooManySequences, match="--sample"):
        float_brute_force(big)
    model = tmp_path / "m.safetensors"
    save_model(big, model, {})
    r = subprocess.run([sys.executable, "-m", "extract.cli", "accuracy", str(model)], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "--sample" in r.stderr
    r = subprocess.run([sys.executable, "-m", "extract.cli", "accuracy", str(model), "--sample", "2000", "--json"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["sampled"] is True and out["samples"] == 2000 and 0 <= out["correct"] <= 2000
    w = models_at(3)[0][1]
    exact = float_brute_force(w).accuracy
    est = sampled_accuracy(w, 20000, seed=1)
    assert abs(est.accuracy - exact) < 5 * est.stderr + 1e-3


# ---------------------------------------------------------------------------------------------
# Reports per configuration


def test_a_results_folder_with_two_shapes_is_reported_per_configuration(tmp_path: Path) -> None:
    """Rows of two shapes in one journal: one report per configuration, never pooled."""
    from extract.job import CheckOutcome, make_row
    from extract.journal import append_row
    from extract.report import split_by_config, summary_json, write_report
    from extract.sweep import strategy_by_name

    def row(seed: int, cfg: ModelConfig, certified: int) -> dict:
        job = Job(seed, strategy_by_name("cubic"), f"m/seed-{seed}.safetensors", f"{seed:064x}", "certs", cfg)
        return make_row(job, CheckOutcome("ok", certified, certified, 1000, 0.5), 1.0, 100)

    small = ModelConfig(6, 3, 8, 8)
    rows = [row(1, small, 100), row(2, small, 120), row(1, CONFIGS["k5"], 64**5 // 2)]
    res = tmp_path / "res"
    res.mkdir()
    for r in rows:
        append_row(res, r)
    assert list(split_by_config(rows)) == ["n3-v6-d8-h8", "k5"]
    paths = write_report(res, tmp_path / "rep", plots=False)
    text = Path(paths["markdown"]).read_text()
    assert "# Configuration k5" in text and "# Configuration n3-v6-d8-h8" in text
    by = summary_json(res)["by_configuration"]
    assert set(by) == {"k5", "n3-v6-d8-h8"}
