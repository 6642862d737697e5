"""The `compact-proofs` command on tiny models: subcommands named as the API, strategy ids
round-trip, bounds printed as exact fractions, progress bars only on a terminal, a verdict
bound to a model file by a hash computed from the file, model files in sweep and report, and
bad input refused with one line and exit 2 (never a traceback)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import compact_proofs as cp
from extract.certificate import weights_sha256
from extract.cli import bound_text, build_parser, decimal, main, progress_enabled
from extract.config import ModelConfig
from extract.journal import JOURNAL, RESULTS_CSV, read_journal
from extract.model import ModelWeights
from extract.strategies import all_strategies, beyond_paper_strategies
from extract.weights import export_transformerlens_state_dict, save_model
from tests.oracle import exact_correct_count, tiny_trained_weights

ROOT = Path(__file__).resolve().parents[1]
TINY = ModelConfig(d_vocab=6, n_ctx=3, d_model=8, d_head=8)
WEIGHTS = tiny_trained_weights(TINY, 5, 300)
OTHER = ModelWeights.random(TINY, seed=6)  # another model; its quality does not matter


@pytest.fixture()
def models(tmp_path: Path) -> Path:
    """models/seed-5.safetensors (ours) and other.safetensors (another model)."""
    d = tmp_path / "models"
    save_model(WEIGHTS, d / "seed-5.safetensors", {"seed": "5"})
    save_model(OTHER, d / "other.safetensors", {"seed": "6"})
    return d


def run_cli(*argv: str, cwd: Path = ROOT, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """`python -m extract.cli ARGV` in a subprocess (stdout and stderr are pipes, not terminals)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "extract.cli", *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


# --------------------------------------------------------------------------------------------
# One naming scheme


def test_subcommands_share_the_api_function_names():
    sub = next(a for a in build_parser()._actions if isinstance(a, __import__("argparse")._SubParsersAction))
    api = {"certify", "check", "strategies", "export_coq", "train", "prove"}
    cli = {name.replace("-", "_") for name in sub.choices}
    assert api <= cli
    assert all(callable(getattr(cp, name)) for name in api)


def test_strategies_prints_id_paper_name_cost_class_and_marks_the_default(capsys):
    assert main(["strategies"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [ln for ln in lines[1:-1]]
    listed = all_strategies() + beyond_paper_strategies()
    assert len(rows) == len(listed)
    marked = [ln for ln in rows if ln.startswith("*")]
    assert len(marked) == 1
    default = next(s for s in all_strategies() if s.is_default)
    assert default.id in marked[0] and default.paper_name in marked[0] and default.cost_class in marked[0]
    for s, line in zip(listed, rows):
        assert line[2:].split()[0] == s.id and s.paper_name in line and line.rstrip().endswith(s.cost_class)


def test_strategies_json_has_ids_paper_names_and_one_default(capsys):
    assert main(["strategies", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [i["id"] for i in items] == [s.id for s in all_strategies() + beyond_paper_strategies()]
    assert sum(i["is_default"] for i in items) == 1
    assert all({"id", "name", "paper_name", "family", "knobs", "cost_class", "is_default"} <= set(i) for i in items)


@pytest.mark.parametrize("how", ["full id", "bare variant", "family + full id"])
def test_variant_accepts_the_exact_ids_strategies_prints(tmp_path, models, capsys, how):
    s = next(s for s in all_strategies() if s.family == "subcubic" and not s.is_default)
    variant = s.id.split(":", 1)[1]
    argv = {"full id": ["--strategy", s.id], "bare variant": ["--strategy", "subcubic", "--variant", variant],
            "family + full id": ["--strategy", "subcubic", "--variant", s.id]}[how]
    out = tmp_path / "c.json"
    assert main(["certify", "seed:5", "--models-dir", str(models), *argv, "--out", str(out)]) == 0
    assert json.loads(out.read_text())["strategy"]["knobs"] == s.knob_dict


# --------------------------------------------------------------------------------------------
# certify and check: fractions, --json, summary, --out file, progress bars


def test_certify_check_prints_each_bound_as_a_fraction_and_ends_with_a_summary(tmp_path, models, capsys):
    code = main(["certify", "seed:5", "--strategy", "subcubic", "--variant", "all", "--out", str(tmp_path / "c"),
                 "--check", "--quiet", "--models-dir", str(models)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and len(lines) == 101
    assert lines[-1].startswith("certify: 100 of 100 claims hold; best bound ")
    for line in lines[:-1]:
        assert ": claim holds: certified " in line and f"/{TINY.n_sequences}" in line


def test_certify_json_has_results_and_a_summary_and_out_names_the_file(tmp_path, models, capsys):
    out = tmp_path / "mine.cert"  # any suffix names a file
    assert main(["--models-dir", str(models), "certify", "seed:5", "--strategy", "cubic", "--check", "--json",
                 "--out", str(out)]) == 0
    obj = json.loads(capsys.readouterr().out)
    (r,) = obj["results"]
    assert obj["summary"] == {"certificates": 1, "checked": True, "claims_hold": 1}
    assert r["certificate"] == str(out) and out.is_file()
    assert Fraction(r["bound"]) == Fraction(r["certified"], TINY.n_sequences)
    assert r["certified"] <= exact_correct_count(WEIGHTS) and r["verdict"] == "ok"


def test_check_prints_the_bound_as_a_fraction_and_the_weights_hash(tmp_path, models, capsys):
    cert = cp.certify(models / "seed-5.safetensors", "cubic", check=False, out=tmp_path / "c.json").certificate
    assert main(["check", str(cert)]) == 0
    line = capsys.readouterr().out.strip()
    v = cp.check(cert)
    b = Fraction(v.certified, TINY.n_sequences)
    assert f"bound {v.certified}/{TINY.n_sequences}" in line and f"{b.numerator}/{b.denominator}" in line
    assert decimal(b) in line and f"weights sha256 {weights_sha256(WEIGHTS)}" in line


def test_bound_text_is_exact():
    assert bound_text(96, 216) == "bound 96/216 = 4/9 ~ 0.444444"
    assert bound_text(7, 216) == "bound 7/216 ~ 0.032407"
    assert decimal(Fraction(2, 3), 3) == "0.666" and decimal(Fraction(1), 2) == "1.00"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bars_only_on_a_terminal_and_not_with_quiet(tmp_path, models, capsys, monkeypatch):
    assert progress_enabled(False, _Tty()) and not progress_enabled(True, _Tty())
    assert not progress_enabled(False, io.StringIO())
    certs = [cp.certify(models / "seed-5.safetensors", s, check=False, out=tmp_path / "c").certificate
             for s in ("cubic", "brute-force")]
    fake = _Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    assert main(["check", *map(str, certs)]) == 0
    assert "checking:" in fake.getvalue() and "/2 [" in fake.getvalue()  # the tqdm bar, on stderr
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and out[-1] == "check: 2 of 2 claims hold"
    fake = _Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    assert main(["check", "--quiet", *map(str, certs)]) == 0
    assert fake.getvalue() == ""


def test_a_pipe_gets_no_progress_bar(tmp_path, models):
    certs = [str(cp.certify(models / "seed-5.safetensors", s, check=False, out=tmp_path / "c").certificate)
             for s in ("cubic", "brute-force")]
    proc = run_cli("check", *certs, "--json")
    assert proc.returncode == 0 and proc.stderr == ""
    obj = json.loads(proc.stdout)
    assert obj["summary"] == {"files": 2, "claims_hold": 2, "exit_code": 0}


# --------------------------------------------------------------------------------------------
# A verdict bound to a model file (#17)


def test_check_with_the_right_model_names_its_hash(tmp_path, models, capsys):
    cert = cp.certify(models / "seed-5.safetensors", "cubic", check=False, out=tmp_path / "c.json").certificate
    model = models / "seed-5.safetensors"
    assert main(["check", str(cert), "--model", str(model)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.endswith(f"weights sha256 {weights_sha256(WEIGHTS)} = model {model}")
    assert cp.check(cert, model=model).ok and cp.check(cert, model="seed:5", models_dir=models).ok


def test_a_transformerlens_file_of_the_same_weights_matches(tmp_path, models):
    import torch

    tl = tmp_path / "tl.pt"
    torch.save(export_transformerlens_state_dict(WEIGHTS), tl)
    cert = cp.certify(models / "seed-5.safetensors", "cubic", check=False, out=tmp_path / "c.json").certificate
    assert cp.model_sha256(tl) == weights_sha256(WEIGHTS)
    assert cp.check(cert, model=tl).ok


def test_check_with_another_model_is_one_line_and_exit_2(tmp_path, models, capsys):
    cert = cp.certify(models / "seed-5.safetensors", "cubic", check=False, out=tmp_path / "c.json").certificate
    assert main(["check", str(cert), "--model", str(models / "other.safetensors")]) == 2
    (line,) = capsys.readouterr().out.splitlines()
    assert str(cert) in line and "not the model" in line and str(models / "other.safetensors") in line
    with pytest.raises(cp.ModelMismatch, match="not the model"):
        cp.check(cert, model=models / "other.safetensors")
    assert main(["check", str(cert), "--json", "--model", str(models / "other.safetensors")]) == 2
    obj = json.loads(capsys.readouterr().out)
    assert obj["results"][0]["status"] == "other-model" and obj["summary"]["exit_code"] == 2


def test_the_model_hash_is_computed_from_the_file_not_the_certificate(tmp_path, models):
    """A certificate whose weights were swapped for another model's (hash recomputed, so the
    checker accepts its weights) is refused for the original model file."""
    cert_path = cp.certify(models / "other.safetensors", "cubic", check=False, out=tmp_path / "o.json").certificate
    cert = json.loads(cert_path.read_text())
    cert["provenance"] = {"model_file": "seed-5.safetensors"}  # provenance binds nothing
    cert_path.write_text(json.dumps(cert))
    with pytest.raises(cp.CompactProofsError, match="not the model"):
        cp.check(cert_path, model=models / "seed-5.safetensors")


def test_model_hash_equals_the_writers_hash_on_odd_values():
    """Zeros, subnormals, negative and huge values: the bit-level reading agrees with the writer."""
    rng = np.random.default_rng(0)
    w = ModelWeights.random(TINY, seed=3)
    t = w.tensors()
    t["W_E"] = t["W_E"].copy()
    t["W_E"][0, :3] = np.array([0.0, -0.0, 1e-45], dtype=np.float32)  # 1e-45: the least subnormal
    t["W_E"][1, :2] = np.array([3.0e38, -np.float32(2) ** -140], dtype=np.float32)
    t["W_pos"] = np.zeros_like(t["W_pos"])
    t["W_U"] = (rng.standard_normal(t["W_U"].shape) * 1e-30).astype(np.float32)
    odd = ModelWeights.from_tensors(TINY, t)
    assert cp.model_sha256(odd) == weights_sha256(odd)
    assert cp.model_sha256(odd) != cp.model_sha256(w)


# --------------------------------------------------------------------------------------------
# Bad input: one line, exit 2


BAD_INPUT = [
    (["train", "--steps", "0"], "--steps: expected a positive integer, got 0"),
    (["train", "--seed", "-3"], "--seed: expected a non-negative integer, got -3"),
    (["run", "--seed", "-1"], "--seed: expected a non-negative integer"),
    (["sweep", "--seeds", "1,,2", "--results", "/nonexistent/r"], "--seeds: empty item in '1,,2'"),
    (["sweep", "--seeds", "1,-2"], "--seeds: -2 is negative"),
    (["sweep", "--seeds", "1", "--steps", "0"], "--steps: expected a positive integer"),
    (["certify", "seed:5", "--strategy", "quartic"], "quartic"),
    (["sweep", "--models", "/nonexistent/m.pt"], "--models: /nonexistent/m.pt: no such model file or folder"),
]


@pytest.mark.parametrize("argv,fragment", BAD_INPUT)
def test_bad_input_is_one_line_and_exit_2(argv, fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as e:  # argparse usage errors exit from parse_args
        code = e.code
    captured = capsys.readouterr()
    assert_one_line_error(subprocess.CompletedProcess(argv, code, captured.out, captured.err), fragment)


def test_bad_input_in_a_fresh_process_is_one_line_and_exit_2(tmp_path):
    """The same, end to end (the console script's process: no traceback reaches the terminal)."""
    assert_one_line_error(run_cli("train", "--steps", "0", cwd=tmp_path), BAD_INPUT[0][1])


def test_a_model_file_given_to_check_is_named_as_such(models):
    proc = run_cli("check", str(models / "seed-5.safetensors"))
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr
    assert "this is a model file, not a certificate" in proc.stdout


def test_a_closed_pipe_ends_quietly():
    """`compact-proofs strategies | head -1`: no BrokenPipeError traceback."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(f"{sys.executable} -m extract.cli strategies | head -1; "
                          f"{sys.executable} -m extract.cli strategies --json | head -c 10 >/dev/null",
                          shell=True, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.stdout.startswith("  id") and proc.stderr == ""


def test_models_dir_is_accepted_before_and_after_the_subcommand(tmp_path, models):
    p = build_parser()
    assert p.parse_args(["--models-dir", "A", "certify", "m", "--strategy", "cubic"]).models_dir == Path("A")
    assert p.parse_args(["certify", "m", "--strategy", "cubic", "--models-dir", "B"]).models_dir == Path("B")
    assert p.parse_args(["sweep", "--models-dir", "C"]).models_dir == Path("C")
    assert p.parse_args(["check", "x.json"]).models_dir == Path("models")


# --------------------------------------------------------------------------------------------
# export-coq prints the compile command


def test_export_coq_prints_the_command_that_builds_the_instance(tmp_path, models, capsys):
    out = tmp_path / "TinyFive.v"
    assert main(["export-coq", "seed:5", "--strategy", "brute-force", "--out", str(out), "--models-dir", str(models)]) == 0
    text = capsys.readouterr().out
    assert f"compact-proofs prove {out}" in text
    coqc = next(ln for ln in text.splitlines() if "coqc " in ln).split(": ", 1)[1]
    assert coqc.startswith("coqc -R ") and str(ROOT / "coq" / "theories") in coqc and coqc.endswith(str(out))


# --------------------------------------------------------------------------------------------
# Bring your own model: sweep and report on model files


def test_sweep_and_report_take_model_files_and_name_them(tmp_path, models, capsys):
    import torch

    byo = tmp_path / "byo"
    byo.mkdir()
    torch.save(export_transformerlens_state_dict(OTHER), byo / "tl_other.pt")
    save_model(WEIGHTS, byo / "ours.safetensors", {})
    res = tmp_path / "res"
    argv = ["sweep", "--models", str(byo), "--strategies", "cubic,brute-force", "--results", str(res),
            "--jobs", "1", "--quiet", "--no-report", "--checker", "inprocess", "--models-dir", str(tmp_path / "none")]
    assert main(argv) == 0
    assert "4 rows (4 computed, 0 reused, 0 models trained)" in capsys.readouterr().out
    rows = read_journal(res)
    assert {(r["model"], r["seed"]) for r in rows} == {(str(byo / "tl_other.pt"), None), (str(byo / "ours.safetensors"), None)}
    sha = {r["model"]: r["weights_sha256"] for r in rows}
    assert sha[str(byo / "tl_other.pt")] == weights_sha256(OTHER) and sha[str(byo / "ours.safetensors")] == weights_sha256(WEIGHTS)
    for r in rows:
        exact = exact_correct_count(OTHER if "tl_other" in r["model"] else WEIGHTS)
        assert r["verdict"] == "ok" and r["certified"] <= exact
        assert Path(r["certificate"]).is_file() and r["weights_sha256"][:12] in r["certificate"]
    assert (res / RESULTS_CSV).read_text().splitlines()[0].endswith(",model")
    # a rerun, naming the files by a glob, reuses every row
    assert main(["sweep", "--models-glob", str(byo / "*.pt"), "--models", str(byo / "ours.safetensors"),
                 *argv[3:]]) == 0
    assert "4 rows (0 computed, 4 reused" in capsys.readouterr().out
    # the report names the files; --models restricts it to one of them
    assert main(["report", "--results", str(res), "--no-plots"]) == 0
    md = capsys.readouterr().out
    assert "tl_other.pt" in md and "ours.safetensors" in md and "2 models" in md
    assert main(["report", "--results", str(res), "--no-plots", "--json", "--models", str(byo / "tl_other.pt")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["models"] == 1 and summary["rows"] == 2


def test_an_unreadable_model_file_stops_the_sweep_before_any_job(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    code = main(["sweep", "--models", str(bad), "--strategies", "cubic", "--results", str(tmp_path / "res"), "--quiet"])
    captured = capsys.readouterr()
    assert_one_line_error(subprocess.CompletedProcess([], code, captured.out, captured.err), str(bad))
    assert not (tmp_path / "res" / JOURNAL).exists()


# --------------------------------------------------------------------------------------------
# prove: one command builds an exported instance and prints its assumptions


from tests.coq_helpers import HAVE_COQ  # noqa: E402


@pytest.mark.coq
@pytest.mark.skipif(not HAVE_COQ, reason="coqc not installed")
def test_prove_builds_a_tiny_brute_force_instance_and_lists_only_allowed_axioms(tmp_path, models, capsys):
    tiny = ModelConfig(d_vocab=4, n_ctx=2, d_model=4, d_head=4)
    save_model(tiny_trained_weights(tiny, 1, 200), models / "seed-1.safetensors", {"seed": "1"})
    out = tmp_path / "inst" / "TinyProve.v"
    code = main(["prove", "seed:1", "--strategy", "brute-force", "--out", str(out), "--models-dir", str(models)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "proved: Theorem TinyProve_accuracy" in text and "every assumption is allowed" in text
    assert (out.parent / "TinyProve.vo").exists()
    assert "ClassicalDedekindReals.sig_forall_dec" in text  # the Reals axioms are printed


@pytest.mark.coq
@pytest.mark.skipif(not HAVE_COQ, reason="coqc not installed")
def test_prove_fails_in_one_line_on_a_false_claim(tmp_path):
    from extract.coq_export import render_instance

    w = tiny_trained_weights(ModelConfig(d_vocab=4, n_ctx=2, d_model=4, d_head=4), 1, 200)
    bad = tmp_path / "TooMany.v"
    bad.write_text(render_instance(w, "brute-force", exact_correct_count(w) + 1, "TooMany"))
    with pytest.raises(cp.CompactProofsError, match="coqc .*TooMany.v failed"):
        cp.prove(bad)


def test_prove_without_coqc_says_so_in_one_line(tmp_path, models, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no coqc there
    inst = tmp_path / "X.v"
    inst.write_text("Theorem X_accuracy : True.\n")
    with pytest.raises(cp.CompactProofsError, match="coqc not found on PATH"):
        cp.prove(inst)


def test_report_without_matplotlib_writes_its_tables_and_says_which_extra_in_one_line(tmp_path, capsys, monkeypatch):
    from tests.test_plots import hide_matplotlib
    from tests.test_sweep import _sweep

    _sweep(tmp_path, [1, 2])
    hide_matplotlib(monkeypatch)
    assert main(["report", "--results", str(tmp_path / "res")]) == 0
    captured = capsys.readouterr()
    (line,) = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert "matplotlib" in line and "compact-proofs[plot]" in line and "Traceback" not in captured.err
    assert (tmp_path / "res" / "report" / "report.md").is_file() and (tmp_path / "res" / "report" / "summary.json").is_file()


def test_an_unreadable_certificate_is_one_line_with_the_checkers_code(tmp_path, capsys):
    """Exit 3 where the checker distinguishes unreadable files (checker.errors.InputError), else 2."""
    import checker.errors

    assert main(["check", str(tmp_path / "missing.json")]) == (3 if hasattr(checker.errors, "InputError") else 2)
    (line,) = capsys.readouterr().out.splitlines()
    assert str(tmp_path / "missing.json") in line


def test_max_ops_reaches_the_checkers_work_budget(tmp_path, models, capsys):
    import inspect

    from checker.load import load_certificate

    if "max_ops" not in inspect.signature(load_certificate).parameters:
        pytest.skip("this checker has no work budget (checker helper's --max-ops not merged)")
    cert = cp.certify(models / "seed-5.safetensors", "cubic", check=False, out=tmp_path / "c.json").certificate
    assert main(["check", str(cert), "--max-ops", "1"]) == 2
    (line,) = capsys.readouterr().out.splitlines()
    assert str(cert) in line and "budget" in line
    assert main(["check", str(cert), "--max-ops", str(10**12)]) == 0
