"""The Coq development: exported instances build exactly when their claim is provable.

Each build test writes an instance file with extract.coq_export and compiles it with coqc
against coq/theories (built once per session, incremental). A build
that succeeds is a kernel-checked proof of Model.at_least_correct for that data.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from extract.config import ModelConfig
from extract.coq_export import (
    COQ_SUBCUBIC_COVERED,
    CoqExportError,
    coq_subcubic_witness,
    export_instance,
    float_brute_force_claim,
    python_subcubic_certificate,
    render_instance,
)
from extract.model import ModelWeights
from tests.coq_helpers import COQ, REJECTED, ROOT, build_theories, coq, coq_builds
from tests.oracle import exact_correct_count, tiny_trained_weights

TINY = ModelConfig(d_vocab=6, n_ctx=2, d_model=4, d_head=3)  # 1/sqrt(3) is irrational

@pytest.fixture(scope="module")
def built_theories() -> Path:
    """coq/theories compiled (incremental; only the theories, not the committed instances,
    which coq/build.sh builds and checks)."""
    return build_theories("theories/BruteForceSound.vo", "theories/CubicSound.vo", "theories/SubcubicSound.vo")




@pytest.fixture(scope="module")
def tiny() -> ModelWeights:
    return tiny_trained_weights(TINY, seed=3, steps=300)


@pytest.mark.coq
@coq
def test_exported_tiny_instance_builds_and_claims_at_most_the_true_count(built_theories, tiny, tmp_path):
    out = export_instance(tiny, "brute-force", tmp_path / "TinyOk.v")
    claim = int(out.read_text().split("TinyOk_claim : N := ")[1].split("%N")[0])
    assert 0 < claim <= exact_correct_count(tiny)
    res = coq_builds(out)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]


@pytest.mark.coq
@coq
def test_claim_above_the_true_count_fails_to_build(built_theories, tiny, tmp_path):
    # Soundness in action: no checker run can prove more correct sequences than exist.
    too_many = exact_correct_count(tiny) + 1
    path = tmp_path / "TinyClaim.v"
    path.write_text(render_instance(tiny, "brute-force", too_many, "TinyClaim"))
    res = coq_builds(path)
    assert res.returncode != 0
    assert REJECTED in res.stdout + res.stderr  # the checker ran and answered false


@pytest.mark.coq
@coq
def test_changed_weight_fails_to_build(built_theories, tiny, tmp_path):
    # The original claim, written next to a changed weight (W_U negated: the model now
    # prefers small tokens), whose true count is below that claim: the build must fail.
    claim = float_brute_force_claim(tiny)
    mutated = replace(tiny, W_U=(-tiny.W_U).astype(np.float32))
    assert exact_correct_count(mutated) < claim
    path = tmp_path / "TinyWeight.v"
    path.write_text(render_instance(mutated, "brute-force", claim, "TinyWeight"))
    res = coq_builds(path)
    assert res.returncode != 0
    assert REJECTED in res.stdout + res.stderr


@pytest.mark.coq
@coq
def test_cubic_instance_builds_with_the_python_cubic_count(built_theories, tmp_path):
    # The Coq cubic checker certifies at least the Python cubic checker's count, and no
    # cubic claim above the true count builds.
    from extract.search.cubic import exact_cubic_count

    w = tiny_trained_weights(ModelConfig(d_vocab=8, n_ctx=3, d_model=6, d_head=5), seed=1, steps=300)
    out = export_instance(w, "cubic", tmp_path / "TinyCubic.v")
    claim = int(out.read_text().split("TinyCubic_claim : N := ")[1].split("%N")[0])
    assert claim == exact_cubic_count(w)[0] > 0
    res = coq_builds(out)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    bad = tmp_path / "TinyCubicBad.v"
    bad.write_text(render_instance(w, "cubic", exact_correct_count(w) + 1, "TinyCubicBad"))
    res = coq_builds(bad)
    assert res.returncode != 0 and REJECTED in res.stdout + res.stderr


def test_export_rejects_models_too_large_for_kernel_brute_force(tmp_path):
    w = ModelWeights.random(ModelConfig(d_vocab=64, n_ctx=4, d_model=4, d_head=4), seed=0)
    with pytest.raises(CoqExportError, match="brute-force"):
        export_instance(w, "brute-force", tmp_path / "Big.v")


@pytest.mark.parametrize("bad", ["1bad.v", "has-dash.v", "noext.txt"])
def test_export_rejects_file_names_that_are_not_coq_identifiers(tmp_path, bad):
    w = ModelWeights.random(TINY, seed=0)
    with pytest.raises(CoqExportError, match="--out"):
        export_instance(w, "brute-force", tmp_path / bad)


def test_export_rejects_unknown_strategy(tmp_path):
    w = ModelWeights.random(TINY, seed=0)
    with pytest.raises(CoqExportError, match="strategy"):
        export_instance(w, "subcubic", tmp_path / "X.v")


def test_rendered_weights_are_the_exact_certificate_mantissas():
    from extract.certificate import dyadic_from_float32

    w = ModelWeights.random(TINY, seed=1)
    text = render_instance(w, "brute-force", 0, "X")
    for name, arr in w.tensors().items():
        t = dyadic_from_float32(arr)
        block = text.split(f"  {name} := ")[1].split("|}")[0]
        assert f"exponent := {t.exponent} " in block
        assert block.count("[") == 1 + len(t.mantissas)
        first_row = "[" + "; ".join(str(m) for m in t.mantissas[0]) + "]"
        assert first_row in block


def test_committed_showcase_instance_is_the_export_of_seed_123():
    # coq/instances/Showcase_cubic.v must be exactly what the exporter writes for the
    # showcase model (same weights, same claim); skipped where the model file is absent.
    model = ROOT / "models" / "seed-123.safetensors"
    if not model.exists():
        pytest.skip("models/seed-123.safetensors not present (compact-proofs train --seed 123)")
    from extract.coq_export import python_cubic_claim
    from extract.weights import load_model

    w = load_model(model)
    committed = (COQ / "instances" / "Showcase_cubic.v").read_text()
    assert committed == render_instance(w, "cubic", python_cubic_claim(w), "Showcase_cubic")


def test_committed_k5_instance_is_the_export_of_the_k5_seed_123_model():
    # coq/instances/K5_cubic.v: the cubic instance of the Max-of-5 model (--config k5, seed 123).
    model = ROOT / "models" / "n5-v64" / "seed-123.safetensors"
    if not model.exists():
        pytest.skip("models/n5-v64/seed-123.safetensors not present (compact-proofs train --config k5 --seed 123)")
    from extract.coq_export import python_cubic_claim
    from extract.weights import load_model

    w = load_model(model)
    assert w.config.n_ctx == 5
    committed = (COQ / "instances" / "K5_cubic.v").read_text()
    assert committed == render_instance(w, "cubic", python_cubic_claim(w), "K5_cubic")


@pytest.mark.coq
@coq
@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_random_tiny_models_brute_and_cubic_instances_build(built_theories, tmp_path, seed):
    # Several shapes (d_head perfect square or not): the exported brute-force and cubic
    # instances build, and neither claim exceeds the true count.
    from extract.search.cubic import exact_cubic_count
    from tests.oracle import random_tiny_config

    cfg = random_tiny_config(np.random.default_rng(seed), v=(6, 8), n=(2, 3), d=(4, 6))
    w = tiny_trained_weights(cfg, seed=seed, steps=200)
    truth = exact_correct_count(w)
    assert float_brute_force_claim(w) <= truth and exact_cubic_count(w)[0] <= truth
    for strategy, name in (("brute-force", f"B{seed}"), ("cubic", f"C{seed}")):
        out = export_instance(w, strategy, tmp_path / f"{name}.v")
        res = coq_builds(out)
        assert res.returncode == 0, f"{cfg} {strategy}: " + res.stdout[-1500:] + res.stderr[-1500:]


ASSUMPTION_CASES = {
    "closed": ("Lemma ok : True. Proof. exact I. Qed.\nPrint Assumptions ok.", True),
    "reals": ("From Coq Require Import Reals.\nLemma r : (0 < 1)%R. Proof. apply Rlt_0_1. Qed.\n"
              "Print Assumptions r.", True),
    "user axiom": ("Axiom cheat : False.\nLemma bad : 1 = 2. Proof. destruct cheat. Qed.\n"
                   "Print Assumptions bad.", False),
    "primitive integers": ("From Coq Require Import Uint63.\nLemma two : (1 + 1 = 2)%uint63. Proof. reflexivity. Qed.\n"
                           "Print Assumptions two.", False),
}


@pytest.mark.coq
@coq
@pytest.mark.parametrize("case", sorted(ASSUMPTION_CASES))
def test_assumption_check_allows_only_the_real_number_axioms(case, tmp_path):
    """check_assumptions.sh passes a theorem that is closed or uses only the Reals axioms, and
    fails one using a user axiom or the primitive 63-bit integers (PrimInt63/Uint63)."""
    text, allowed = ASSUMPTION_CASES[case]
    f = tmp_path / "A.v"
    f.write_text(text + "\n")
    res = subprocess.run(["bash", str(COQ / "check_assumptions.sh"), str(f)], capture_output=True, text=True, timeout=300)
    assert (res.returncode == 0) == allowed, res.stdout + res.stderr
    if not allowed:
        assert "disallowed assumption" in res.stderr


# ---------------------------------------------------------------------------------------------
# The subcubic checker (coq/theories/Subcubic.v, SubcubicSound.v)

BEST = "max_diff_exact/mean+diff/exact_EQKE+max_diff_exact"
DEFAULT = "mean_query+max_diff/mean+diff/max_diff"
COMMITTED_SUBCUBIC = {"Showcase_subcubic_best": BEST, "Showcase_subcubic_default": DEFAULT}
# Every direct-path mode, both attention modes and both error modes the Coq checker covers.
SAMPLE_VARIANTS = (BEST, DEFAULT, "svd_query+max_diff/per-query/max_diff", "max_diff/mean+diff/exact_EQKE+max_diff_exact",
                   "global_max_diff_exact/per-query/max_diff", "max_diff_exact/per-query/max_diff")


def claim_of(text: str, name: str) -> int:
    return int(text.split(f"{name}_claim : N := ")[1].split("%N")[0])


def mutated_gaps(cert: dict, value: int) -> dict:
    """The certificate with every gap set to ``value`` (gap 0 would make top = m: out of range)."""
    wit = dict(cert["witness"])
    wit["gaps"] = [[[value for _ in row] for row in plane] for plane in wit["gaps"]]
    return {**cert, "witness": wit}


def mutated_eps(cert: dict) -> dict:
    """The certificate with every claimed error bound eps[q] set to 0 (below any true bound)."""
    wit = dict(cert["witness"])
    wit["eps"] = {**wit["eps"], "values": [0 for _ in wit["eps"]["values"]]}
    return {**cert, "witness": wit}


@pytest.fixture(scope="module")
def tiny_sub() -> ModelWeights:
    return tiny_trained_weights(ModelConfig(d_vocab=8, n_ctx=3, d_model=6, d_head=5), seed=1, steps=300)


@pytest.mark.coq
@coq
@pytest.mark.parametrize("variant", SAMPLE_VARIANTS)
def test_subcubic_instances_build_with_the_python_subcubic_count(built_theories, tiny_sub, tmp_path, variant):
    # Covered variants: the instance claiming the Python checker's count builds, and no
    # claim above the true count does.
    assert variant in COQ_SUBCUBIC_COVERED
    name = "S" + str(COQ_SUBCUBIC_COVERED.index(variant))
    out = export_instance(tiny_sub, "subcubic:" + variant, tmp_path / f"{name}.v")
    cert, count = python_subcubic_certificate(tiny_sub, variant)
    assert claim_of(out.read_text(), name) == count <= exact_correct_count(tiny_sub)
    res = coq_builds(out)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    bad = tmp_path / f"{name}Over.v"
    bad.write_text(render_instance(tiny_sub, "subcubic:" + variant, exact_correct_count(tiny_sub) + 1,
                                   f"{name}Over", coq_subcubic_witness(cert)))
    res = coq_builds(bad)
    assert res.returncode != 0 and REJECTED in res.stdout + res.stderr


@pytest.mark.coq
@coq
@pytest.mark.parametrize("variant", [BEST, DEFAULT])
@pytest.mark.parametrize("mutation", ["gap 0", "gap 9", "eps 0"])
def test_subcubic_mutated_witness_fails_to_build(built_theories, tiny_sub, tmp_path, variant, mutation):
    # gap 0 (top = m, outside the range the proof covers) and gap v + 1 (top < 0) leave only
    # the all-max cases; eps = 0 (max_diff) fails the (RD) test for every query: the original
    # claim, above what is left, no longer builds.
    cert, count = python_subcubic_certificate(tiny_sub, variant)
    assert count > tiny_sub.config.d_vocab
    if mutation == "eps 0":
        if "eps" not in cert["witness"]:
            pytest.skip("no eps in this variant's witness")
        bad = mutated_eps(cert)
    else:
        bad = mutated_gaps(cert, int(mutation.split()[1]))
    name = "Mut" + mutation.replace(" ", "")
    path = tmp_path / f"{name}.v"
    path.write_text(render_instance(tiny_sub, "subcubic:" + variant, count, name, coq_subcubic_witness(bad)))
    res = coq_builds(path)
    assert res.returncode != 0 and REJECTED in res.stdout + res.stderr


def test_export_rejects_subcubic_variants_not_proved_in_coq(tmp_path):
    w = ModelWeights.random(TINY, seed=0)
    with pytest.raises(CoqExportError, match="covers only"):
        export_instance(w, "subcubic:mean_query+max_diff/mean+diff/svd", tmp_path / "X.v")


@pytest.mark.parametrize("name", sorted(COMMITTED_SUBCUBIC))
def test_committed_subcubic_instances_are_the_export_of_seed_123(name):
    model = ROOT / "models" / "seed-123.safetensors"
    if not model.exists():
        pytest.skip("models/seed-123.safetensors not present (compact-proofs train --seed 123)")
    from extract.weights import load_model

    w = load_model(model)
    variant = COMMITTED_SUBCUBIC[name]
    cert, count = python_subcubic_certificate(w, variant)
    committed = (COQ / "instances" / f"{name}.v").read_text()
    assert committed == render_instance(w, "subcubic:" + variant, count, name, coq_subcubic_witness(cert))


@pytest.mark.slow
@pytest.mark.coq
@coq
@pytest.mark.parametrize("name", sorted(COMMITTED_SUBCUBIC))
@pytest.mark.parametrize("mutation", ["over-claim", "gaps", "eps"])
def test_committed_subcubic_instance_mutations_fail_to_build(built_theories, tmp_path, name, mutation):
    # The seed-123 instances (about two minutes of CPU each): a claim above the true count,
    # or the committed claim with every gap set to 0, must not build. (The Coq count can
    # exceed the Python count -- it tests every arrangement on its own -- so "Python + 1" is
    # not an over-claim.)
    model = ROOT / "models" / "seed-123.safetensors"
    if not model.exists():
        pytest.skip("models/seed-123.safetensors not present (compact-proofs train --seed 123)")
    from extract.weights import load_model

    w = load_model(model)
    variant = COMMITTED_SUBCUBIC[name]
    cert, count = python_subcubic_certificate(w, variant)
    if mutation == "over-claim":
        text = render_instance(w, "subcubic:" + variant, exact_correct_count(w) + 1, "Mut", coq_subcubic_witness(cert))
    elif mutation == "gaps":
        text = render_instance(w, "subcubic:" + variant, count, "Mut", coq_subcubic_witness(mutated_gaps(cert, 0)))
    else:
        if "eps" not in cert["witness"]:
            pytest.skip("no eps in this variant's witness")
        text = render_instance(w, "subcubic:" + variant, count, "Mut", coq_subcubic_witness(mutated_eps(cert)))
    path = tmp_path / "Mut.v"
    path.write_text(text)
    res = coq_builds(path, timeout=900)
    assert res.returncode != 0 and REJECTED in res.stdout + res.stderr
