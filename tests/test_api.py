"""The Python API (compact_proofs) on a tiny model: every way of giving a model certifies the same
weights, results match the checker and the exact oracle, ids round-trip, bad input is one line,
and the example (docs/examples/certify_a_model.py, same cells as the notebook) runs end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import pytest

import compact_proofs as cp
from extract.config import ModelConfig
from extract.model import MaxOfKTransformer
from extract.search import SearchResult
from extract.strategies import parse_strategy
from extract.weights import export_transformerlens_state_dict, save_model
from tests.oracle import exact_correct_count, tiny_trained_weights

ROOT = Path(__file__).resolve().parents[1]
TINY = ModelConfig(d_vocab=6, n_ctx=3, d_model=8, d_head=8)
WEIGHTS = tiny_trained_weights(TINY, 5, 300)
BEST = "subcubic:max_diff_exact/mean+diff/exact_EQKE+max_diff_exact"


@pytest.fixture()
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "models" / "seed-5.safetensors"
    save_model(WEIGHTS, path, {"seed": "5"})
    return path


class FakeHookedTransformer:
    """Duck-typed like TransformerLens: .cfg and .state_dict() with TransformerLens keys."""

    def __init__(self, **cfg: object) -> None:
        base = dict(n_layers=1, n_heads=1, attn_only=True, normalization_type=None, positional_embedding_type="standard",
                    use_attn_scale=True, d_head=TINY.d_head, attn_scale=TINY.d_head**0.5)
        self.cfg = SimpleNamespace(**{**base, **cfg})

    def state_dict(self) -> dict:
        return export_transformerlens_state_dict(WEIGHTS)


@pytest.mark.parametrize("strategy", ["brute-force", "cubic", "subcubic", BEST])
def test_certify_reports_the_checkers_verdict_and_an_exact_sound_bound(tmp_path: Path, model_file: Path, strategy: str) -> None:
    r = cp.certify(model_file, strategy, out=tmp_path / "certs")
    exact = exact_correct_count(WEIGHTS)
    assert r.ok and r.verdict is not None and r.certified is not None
    assert r.certified >= r.claimed and r.certified <= exact
    assert r.bound == Fraction(r.certified, TINY.n_sequences)
    assert r.ops == r.verdict.ops > 0
    assert r.strategy == parse_strategy(strategy, None).id and r.paper_name == parse_strategy(strategy, None).paper_name
    assert r.certificate.exists() and r.certificate.parent == tmp_path / "certs"
    again = cp.check(r.certificate)
    assert again.ok and again.certified == r.certified and again.ops == r.ops
    if strategy == "brute-force":
        assert r.certified == exact  # brute force decides every sequence exactly


def test_every_form_of_a_model_certifies_the_same_weights(tmp_path: Path, model_file: Path) -> None:
    forms = {
        "path": model_file,
        "str path": str(model_file),
        "seed": "seed:5",
        "weights": WEIGHTS,
        "our module": MaxOfKTransformer.from_weights(WEIGHTS),
        "our state dict": MaxOfKTransformer.from_weights(WEIGHTS).state_dict(),
        "TransformerLens state dict": export_transformerlens_state_dict(WEIGHTS),
        "HookedTransformer-like": FakeHookedTransformer(),
    }
    results = {name: cp.certify(m, "cubic", out=tmp_path / name.replace(" ", "-"), models_dir=model_file.parent)
               for name, m in forms.items()}
    shas = {r.weights_sha256 for r in results.values()}
    counts = {r.certified for r in results.values()}
    assert len(shas) == 1 and len(counts) == 1 and all(r.ok for r in results.values())
    assert results["seed"].certificate.name.startswith("seed-5.")


@pytest.mark.parametrize("cfg, words", [
    ({"n_layers": 2}, "cfg.n_layers is 2"),
    ({"normalization_type": "LN"}, "cfg.normalization_type"),
    ({"attn_scale": 1.0}, "cfg.attn_scale"),
])
def test_a_hooked_transformer_of_another_architecture_is_refused_in_one_line(cfg: dict, words: str) -> None:
    with pytest.raises(cp.CompactProofsError) as info:
        cp.load(FakeHookedTransformer(**cfg))
    assert words in str(info.value) and "\n" not in str(info.value)


def test_bad_models_are_one_line_errors(tmp_path: Path) -> None:
    sd = export_transformerlens_state_dict(WEIGHTS)
    sd["blocks.0.attn.b_Q"] = sd["blocks.0.attn.b_Q"] + 1
    cases = [("seed:777", "no such model"), (tmp_path / "missing.pt", "no such model file"), (sd, "blocks.0.attn.b_Q"),
             (42, "expected a path")]
    for model, words in cases:
        with pytest.raises(cp.CompactProofsError) as info:
            cp.load(model, models_dir=tmp_path)
        assert words in str(info.value) and "\n" not in str(info.value)


def test_strategies_have_unique_ids_paper_names_and_one_default_and_ids_round_trip() -> None:
    cat = cp.strategies()
    ids = [s.id for s in cat]
    assert len(ids) == len(set(ids)) >= 102
    assert [s.id for s in cat if s.is_default] == ["subcubic:mean_query+max_diff/mean+diff/max_diff"]
    assert all(s.paper_name for s in cat)
    for s in cat:
        assert parse_strategy(s.id, None).id == s.id
        family, _, variant = s.id.partition(":")
        if variant:
            assert parse_strategy(family, variant).id == s.id  # --variant without the prefix
            assert parse_strategy(family, s.id).id == s.id  # --variant with the prefix
    assert parse_strategy("subcubic", "default").is_default
    assert parse_strategy("subcubic", "max_diff_exact/mean_query+diff/svd").id == "subcubic:max_diff_exact/mean+diff/svd"


def test_unknown_strategy_is_a_one_line_error(model_file: Path) -> None:
    with pytest.raises(cp.CompactProofsError, match="unknown subcubic variant"):
        cp.certify(model_file, "subcubic", variant="a/b/c")
    with pytest.raises(cp.CompactProofsError, match="unknown strategy 'cubik'"):
        cp.certify(model_file, "cubik")


def test_check_refuses_a_model_file_and_a_malformed_certificate(tmp_path: Path, model_file: Path) -> None:
    with pytest.raises(cp.CompactProofsError, match="this is a model file, not a certificate"):
        cp.check(model_file)
    r = cp.certify(model_file, "cubic", out=tmp_path / "c.json")
    cert = json.loads(r.certificate.read_text())
    cert["weights"]["W_E"]["exponent"] += 1  # the weights no longer match their hash
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(cert))
    with pytest.raises(cp.CompactProofsError) as info:
        cp.check(bad)
    assert str(info.value).startswith(f"{bad}: ") and "\n" not in str(info.value)


def test_an_overclaiming_search_is_rechecked_at_the_checkers_count(tmp_path: Path, model_file: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import extract.strategies as strategies_module

    real = strategies_module.search_module("cubic")

    class Overclaiming:
        @staticmethod
        def search(weights, knobs):  # type: ignore[no-untyped-def]
            found = real.search(weights, knobs)
            return SearchResult(found.witness, found.certified_count + 5, found.info)

    monkeypatch.setattr(strategies_module, "search_module", lambda family: Overclaiming)
    honest = real.search(WEIGHTS, {}).certified_count
    r = cp.certify(model_file, "cubic", out=tmp_path)
    assert r.ok and r.certified == r.claimed == honest and "checked again" in r.message
    unchecked = cp.certify(model_file, "cubic", out=tmp_path / "u", check=False)
    assert unchecked.claimed == honest + 5 and unchecked.certified is None and unchecked.bound is None and not unchecked.ok
    rejected = cp.certify(model_file, "cubic", out=tmp_path / "r", reclaim=False)
    assert not rejected.ok and rejected.certified == honest < rejected.claimed


def test_export_coq_writes_an_instance_with_the_cubic_claim(tmp_path: Path, model_file: Path) -> None:
    out = cp.export_coq(model_file, "cubic", tmp_path / "Tiny.v")
    text = out.read_text()
    claim = cp.certify(model_file, "cubic", out=tmp_path).certified
    assert f"Definition Tiny_claim : N := {claim}%N." in text
    with pytest.raises(cp.CompactProofsError, match="expected a .v file"):
        cp.export_coq(model_file, "cubic", tmp_path / "bad-name.txt")


def test_train_saves_reuses_and_refuses_a_file_trained_differently(tmp_path: Path) -> None:
    path = cp.train(5, config=TINY, steps=30, models_dir=tmp_path)
    assert path.name == "seed-5-v6-n3-d8-h8-steps30.safetensors"
    stamp = path.stat().st_mtime_ns
    assert cp.train(5, config=TINY, steps=30, models_dir=tmp_path) == path and path.stat().st_mtime_ns == stamp
    with pytest.raises(cp.CompactProofsError, match=r"trained differently: steps=30 \(asked 31\)"):
        cp.train(5, config=TINY, steps=31, out=path)
    for bad in (dict(seed=-1), dict(seed=1, steps=0)):
        with pytest.raises(cp.CompactProofsError):
            cp.train(config=TINY, models_dir=tmp_path, **bad)  # type: ignore[arg-type]


def test_results_become_rows_for_the_plots(tmp_path: Path, model_file: Path) -> None:
    pytest.importorskip("matplotlib")
    results = [cp.certify(model_file, s, out=tmp_path) for s in ("brute-force", "cubic")]
    rows = [r.as_row(seed=5) for r in results]
    assert [row["verdict"] for row in rows] == ["ok", "ok"] and rows[1]["bound"] == f"{results[1].bound.numerator}/{results[1].bound.denominator}"
    cp.plot_bound_vs_cost(results, tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


# ----------------------------------------------------------------------------- the example


def script_cells(text: str) -> list[tuple[str, str]]:
    """(cell type, source) of a percent-format script: '# %%' code cells, '# %% [markdown]' markdown cells."""
    cells = []
    for chunk in re.split(r"^# %%", text, flags=re.M)[1:]:
        header, _, body = chunk.partition("\n")
        if header.strip() == "[markdown]":
            lines = [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in body.strip("\n").splitlines()]
            cells.append(("markdown", "\n".join(lines)))
        else:
            cells.append(("code", body.strip("\n")))
    return cells


def test_the_notebook_holds_the_same_cells_as_its_script_form() -> None:
    script = script_cells((ROOT / "docs/examples/certify_a_model.py").read_text())
    nb = json.loads((ROOT / "docs/examples/certify_a_model.ipynb").read_text())
    assert nb["nbformat"] == 4
    assert [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]] == script
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")


def test_the_example_runs_on_a_tiny_model(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    env = dict(os.environ, COMPACT_PROOFS_TINY="1", COMPACT_PROOFS_OUT=str(tmp_path / "out"),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(ROOT / "docs/examples/certify_a_model.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("claim holds: True") == 4
    assert (tmp_path / "out" / "bound_vs_cost.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list((tmp_path / "out" / "certificates").glob("*.cert.json"))) == 4
