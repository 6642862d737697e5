"""The Coq cubic-sharp checker (coq/theories/CubicSharp.v, CubicSharpSound.v): exported instances
build with the Python cubic-sharp checker's count, and no claim above the true count builds.

Each build test writes an instance file with extract.coq_export and compiles it with coqc against
coq/theories (built once per module, incremental); a build that succeeds is a kernel-checked proof
of Model.certified_accuracy for that data.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from extract.config import ModelConfig
from extract.coq_export import export_instance, python_cubic_sharp_claim, render_instance
from extract.model import ModelWeights
from extract.search import exact_checker_count
from tests.coq_helpers import COQ, REJECTED, ROOT, build_theories, coq, coq_builds
from tests.oracle import exact_correct_count, random_tiny_config, tiny_trained_weights

# The committed tiny instance coq/instances/Tiny_cubic_sharp.v: random weights (numpy, so the
# same on every machine) on which the Python cubic-sharp count (1111) is far above cubic's (36).
TINY_CONFIG = ModelConfig(d_vocab=8, n_ctx=4, d_model=8, d_head=5)
TINY_SEED = 22

def tiny_sharp_model() -> ModelWeights:
    """The model of coq/instances/Tiny_cubic_sharp.v."""
    return ModelWeights.random(TINY_CONFIG, seed=TINY_SEED)


@pytest.fixture(scope="module")
def built_theories() -> Path:
    """coq/theories compiled up to CubicSharpSound.vo (incremental)."""
    return build_theories("theories/CubicSharpSound.vo")




def claim_of(text: str, name: str) -> int:
    return int(text.split(f"{name}_claim : N := ")[1].split("%N")[0])


def test_committed_tiny_instance_is_the_export_of_its_model():
    # coq/instances/Tiny_cubic_sharp.v is exactly what the exporter writes for the random model
    # (same weights, the Python cubic-sharp count as the claim).
    w = tiny_sharp_model()
    committed = (COQ / "instances" / "Tiny_cubic_sharp.v").read_text()
    assert committed == render_instance(w, "cubic-sharp", python_cubic_sharp_claim(w), "Tiny_cubic_sharp")


def test_tiny_instance_claims_more_than_cubic_and_at_most_the_true_count():
    w = tiny_sharp_model()
    sharp = python_cubic_sharp_claim(w)
    assert exact_checker_count(w, "cubic")[0] < sharp <= exact_correct_count(w)


@pytest.mark.coq
@coq
def test_tiny_instance_builds_with_the_python_count_and_an_over_claim_fails(built_theories, tmp_path):
    w = tiny_sharp_model()
    out = export_instance(w, "cubic-sharp", tmp_path / "TinySharp.v")
    claim = claim_of(out.read_text(), "TinySharp")
    assert claim == python_cubic_sharp_claim(w) > 0
    res = coq_builds(out)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    # Soundness in action: no claim above the true count builds.
    bad = tmp_path / "TinySharpOver.v"
    bad.write_text(render_instance(w, "cubic-sharp", exact_correct_count(w) + 1, "TinySharpOver"))
    res = coq_builds(bad)
    assert res.returncode != 0 and REJECTED in res.stdout + res.stderr


@pytest.mark.coq
@coq
def test_changed_weight_fails_to_build(built_theories, tmp_path):
    # The original claim next to W_U negated (the model now prefers small tokens): the true
    # count drops below the claim, so the instance must not build.
    w = tiny_sharp_model()
    claim = python_cubic_sharp_claim(w)
    mutated = replace(w, W_U=(-w.W_U).astype(np.float32))
    assert exact_correct_count(mutated) < claim
    path = tmp_path / "TinySharpWeight.v"
    path.write_text(render_instance(mutated, "cubic-sharp", claim, "TinySharpWeight"))
    res = coq_builds(path)
    assert res.returncode != 0 and REJECTED in res.stdout + res.stderr


@pytest.mark.coq
@coq
@pytest.mark.parametrize("seed", [31, 32, 33])
def test_trained_tiny_models_cubic_sharp_instances_build(built_theories, tmp_path, seed):
    # Several shapes (n = 2..4, d_head a perfect square or not), briefly trained: the instance
    # claiming the Python cubic-sharp count builds, and that count is at most the true count.
    cfg = random_tiny_config(np.random.default_rng(seed), v=(5, 8), n=(2, 4), d=(4, 6))
    w = tiny_trained_weights(cfg, seed=seed, steps=200)
    out = export_instance(w, "cubic-sharp", tmp_path / f"Sharp{seed}.v")
    assert claim_of(out.read_text(), f"Sharp{seed}") <= exact_correct_count(w)
    res = coq_builds(out)
    assert res.returncode == 0, f"{cfg}: " + res.stdout[-1500:] + res.stderr[-1500:]


@pytest.mark.slow
@pytest.mark.coq
@coq
def test_seed_123_instance_builds_with_the_python_count(built_theories, tmp_path):
    # The seed-123 instance is not in coq/build.sh (about 10 minutes of CPU, docs/coq.md
    # "Measured"); this builds the export (claim 16,750,596, the Python cubic-sharp count).
    model = ROOT / "models" / "seed-123.safetensors"
    if not model.exists():
        pytest.skip("models/seed-123.safetensors not present (compact-proofs train --seed 123)")
    from extract.weights import load_model

    w = load_model(model)
    out = export_instance(w, "cubic-sharp", tmp_path / "Seed123Sharp.v")
    assert claim_of(out.read_text(), "Seed123Sharp") == python_cubic_sharp_claim(w)
    res = coq_builds(out, timeout=3600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
