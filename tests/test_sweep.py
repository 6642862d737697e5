"""The sweep machinery: resumability (kill + rerun), journal robustness, CSV/JSON contents, executors.

Most tests use a deterministic fake per-job runner (so they do not depend on which strategies
exist yet); one end-to-end test runs every strategy family that is importable on a tiny model
and compares the certified counts with the exact oracle.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from extract.config import ModelConfig
from extract.errors import SweepError
from extract.executors import iter_results
from extract.job import CheckOutcome, Job, make_row
from extract.journal import floor_decimal as format_fraction
from extract.journal import (
    CSV_COLUMNS,
    JOURNAL,
    RESULTS_CSV,
    RESULTS_JSON,
    append_row,
    latest_rows,
    read_journal,
    write_summaries,
)
from extract.strategies import all_strategies
from extract.sweep import parse_seeds, run_sweep, select_strategies, strategy_by_name, unavailable_reason

REPO = Path(__file__).resolve().parents[1]
TINY = ModelConfig(d_vocab=6, n_ctx=3, d_model=8, d_head=8)
TINY_STEPS = 30
# A handful of catalogue strategies (the fake runner never imports their modules).
SOME = ["brute-force", "cubic", "subcubic:max_diff/mean+diff/svd", "subcubic:max_diff_exact/per-query/max_diff"]


def fake_runner(job: Job) -> dict:
    """Deterministic stand-in for run_job: logs its call (env SWEEP_TEST_LOG), sleeps (SWEEP_TEST_SLEEP)."""
    pids = os.environ.get("SWEEP_TEST_PIDS")
    if pids:
        with open(pids, "a") as f:
            f.write(f"{os.getpid()}\n")
    log = os.environ.get("SWEEP_TEST_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{job.seed} {job.strategy.name}\n")
    time.sleep(float(os.environ.get("SWEEP_TEST_SLEEP", "0")))
    total = job.config.n_sequences
    certified = (job.seed * 7 + len(job.strategy.name) * 3) % (total + 1)
    ops = 1000 * len(job.strategy.name) + job.seed
    return make_row(job, CheckOutcome("ok", certified, certified, ops, 0.001), 0.002, 321)


def _sweep(tmp: Path, seeds, strategies=SOME, **kw):
    kw.setdefault("log", lambda m: None)
    return run_sweep(seeds, [s for s in all_strategies() if s.name in strategies], tmp / "models", tmp / "res",
                     config=TINY, steps=TINY_STEPS, runner=fake_runner, progress=False, **kw)


def _sweep_script(tmp: Path, seeds: list[int], jobs: int = 1) -> str:
    """Python source running the fake-runner sweep of ``_sweep`` (for a subprocess)."""
    return ("from pathlib import Path\n"
            "from tests.test_sweep import _sweep\n"
            f"_sweep(Path({str(tmp)!r}), {seeds!r}, jobs={jobs})\n")


def _log_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_rerun_recomputes_nothing_finished(tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("SWEEP_TEST_LOG", str(log))
    first = _sweep(tmp_path, [1, 2])
    assert (first.computed, first.reused, first.trained) == (8, 0, 2)
    assert len(_log_lines(log)) == 8
    again = _sweep(tmp_path, [1, 2])
    assert (again.computed, again.reused, again.trained) == (0, 8, 0)
    assert len(_log_lines(log)) == 8
    more = _sweep(tmp_path, [1, 2, 3])  # a new seed: only its rows are computed
    assert (more.computed, more.reused, more.trained) == (4, 8, 1)
    assert sorted(_log_lines(log)[8:]) == sorted(f"3 {s}" for s in SOME)


def test_kill_midway_then_rerun_completes_without_recomputing(tmp_path):
    """Start a sweep in a subprocess, SIGKILL it after some rows, rerun: finished rows are kept
    and not recomputed, and the final table has every (seed, strategy) exactly once."""
    log = tmp_path / "calls.log"
    env = dict(os.environ, SWEEP_TEST_LOG=str(log), SWEEP_TEST_SLEEP="0.25", OPENBLAS_NUM_THREADS="1")
    script = _sweep_script(tmp_path, [1, 2, 3])
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = tmp_path / "res" / JOURNAL
    deadline = time.time() + 120
    while time.time() < deadline:
        if journal.exists() and journal.read_text().count("\n") >= 3:
            break
        if proc.poll() is not None:
            pytest.fail(f"sweep subprocess ended early: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("sweep subprocess produced no rows in 120 s")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished_before = {(r["seed"], r["strategy"]) for r in read_journal(tmp_path / "res")}
    assert 3 <= len(finished_before) < 12, "kill the sweep midway, not after it finished"
    calls_before = len(_log_lines(log))

    os.environ["SWEEP_TEST_LOG"] = str(log)
    try:
        summary = _sweep(tmp_path, [1, 2, 3])
    finally:
        del os.environ["SWEEP_TEST_LOG"]
    rerun_calls = {tuple(line.split(" ", 1)) for line in _log_lines(log)[calls_before:]}
    rerun_keys = {(int(s), name) for s, name in rerun_calls}
    assert not rerun_keys & finished_before, "a finished row was recomputed"
    assert summary.reused == len(finished_before)
    with open(tmp_path / "res" / RESULTS_CSV) as f:
        keys = [(int(r["seed"]), r["strategy"]) for r in csv.DictReader(f)]
    assert sorted(keys) == sorted((s, n) for s in (1, 2, 3) for n in SOME)


def test_csv_and_json_hold_one_complete_row_per_job(tmp_path):
    _sweep(tmp_path, [4, 5])
    res = tmp_path / "res"
    with open(res / RESULTS_CSV) as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        csv_rows = list(reader)
    obj = json.loads((res / RESULTS_JSON).read_text())
    assert obj["format"] == "compact-proofs-sweep-results" and len(obj["rows"]) == len(csv_rows) == 8
    for c, j in zip(csv_rows, obj["rows"]):
        assert int(c["seed"]) == j["seed"] and c["strategy"] == j["strategy"]
        total = TINY.d_vocab**TINY.n_ctx
        assert j["n_sequences"] == total
        assert Fraction(j["bound"]) == Fraction(j["certified"], total)
        assert abs(float(j["bound_decimal"]) - j["certified"] / total) < 1e-11
        assert json.loads(c["knobs"]) == j["knobs"]
        assert j["verdict"] == "ok" and j["cert_bytes"] == 321 and len(j["weights_sha256"]) == 64
        assert j["family"] == j["strategy"].split(":")[0]


def test_torn_last_journal_line_is_ignored_and_repaired(tmp_path):
    _sweep(tmp_path, [1])
    journal = tmp_path / "res" / JOURNAL
    rows = read_journal(tmp_path / "res")
    with open(journal, "ab") as f:
        f.write(b'{"seed": 9, "strategy": "cub')  # killed mid-write
    assert read_journal(tmp_path / "res") == rows
    again = _sweep(tmp_path, [1, 2])
    assert again.computed == 4 and journal.read_bytes().endswith(b"\n")
    assert len(read_journal(tmp_path / "res")) == 8


def test_corrupt_journal_line_is_a_clear_error_and_the_sweep_sets_it_aside(tmp_path):
    """Reading a corrupt journal is a one-line error naming file and line; a sweep moves the line
    to journal.corrupt.jsonl (saying so in one line), keeps every valid row, and completes.
    (tests/test_sweep_faults.py corrupts a line in the middle of a real results folder.)"""
    res = tmp_path / "res"
    res.mkdir()
    (res / JOURNAL).write_text('{"seed": 1}\nnot json\n')
    with pytest.raises(SweepError, match=r"journal.jsonl: line 1: field 'strategy'"):
        read_journal(res)
    (res / JOURNAL).write_text("not json\n")
    with pytest.raises(SweepError, match=r"journal.jsonl: line 1: expected one JSON object per line"):
        read_journal(res)
    said: list[str] = []
    summary = _sweep(tmp_path, [1], log=said.append)
    assert summary.computed == 4 and len(read_journal(res)) == 4
    assert [m for m in said if "set aside" in m] == [
        f"sweep: {res / JOURNAL}: line 1: expected one JSON object per line; set aside in journal.corrupt.jsonl, "
        "its row will be recomputed"]
    assert (res / "journal.corrupt.jsonl").read_text() == "not json\n"


def test_error_rows_are_retried_but_finished_rows_win(tmp_path):
    job = Job(1, strategy_by_name("cubic"), "m", "a" * 64, str(tmp_path))
    ok = make_row(job, CheckOutcome("ok", 3, 3, 10, 0.1), 0.1, 5)
    err = make_row(job, CheckOutcome("error", None, None, None, None, "boom"), None, None)
    assert latest_rows([ok, err])[(1, "cubic")]["verdict"] == "ok"
    assert latest_rows([err, ok])[(1, "cubic")]["verdict"] == "ok"
    res = tmp_path / "res"
    res.mkdir()
    append_row(res, err)
    assert [r["verdict"] for r in read_journal(res)] == ["error"]


def test_bound_decimals_are_rounded_down_exactly():
    assert format_fraction(Fraction(1, 3), 5) == "0.33333"
    assert format_fraction(Fraction(2, 3), 5) == "0.66666"
    assert format_fraction(Fraction(1), 3) == "1.000"
    assert format_fraction(Fraction(0), 2) == "0.00"


def test_seed_and_strategy_specs():
    assert parse_seeds("3,1,3") == [3, 1]
    assert len(parse_seeds("paper")) == 151
    for bad in ("x", "-1", ""):
        with pytest.raises(SweepError, match="--seeds"):
            parse_seeds(bad)
    assert len(select_strategies("all")) == 102
    assert [s.family for s in select_strategies("cubic,brute-force")] == ["cubic", "brute-force"]
    assert len(select_strategies("subcubic")) == 100
    with pytest.raises(SweepError, match="--strategies: unknown family"):
        select_strategies("quartic")


def test_bad_options_are_clear_errors(tmp_path):
    with pytest.raises(SweepError, match="--jobs"):
        _sweep(tmp_path, [1], jobs=0)
    with pytest.raises(SweepError, match="--executor"):
        list(iter_results(abs, [1], "spark", 1))
    (tmp_path / "file").write_text("x")
    with pytest.raises(SweepError, match="not a directory"):
        run_sweep([1], "cubic", tmp_path / "models", tmp_path / "file", config=TINY, runner=fake_runner,
                  progress=False)


def test_model_of_another_shape_is_refused(tmp_path):
    """Each shape has its own models folder (models/n{n}-v{v}-...); a file of another shape found
    at the path of the asked shape is refused."""
    import shutil

    from extract.models import model_path

    _sweep(tmp_path, [1])
    other = model_path(tmp_path / "models", 1, ModelConfig(7, 3, 8, 8))
    assert other != model_path(tmp_path / "models", 1, TINY)
    other.parent.mkdir(parents=True)
    shutil.copy(model_path(tmp_path / "models", 1, TINY), other)
    with pytest.raises(SweepError, match="differs from the sweep's"):
        run_sweep([1], "cubic", tmp_path / "models", tmp_path / "res2", config=ModelConfig(7, 3, 8, 8),
                  runner=fake_runner, progress=False)


def test_local_process_pool_gives_the_same_table(tmp_path):
    serial = _sweep(tmp_path, [1, 2])
    parallel = run_sweep([1, 2], [s for s in all_strategies() if s.name in SOME], tmp_path / "models",
                         tmp_path / "res-parallel", config=TINY, steps=TINY_STEPS, runner=fake_runner,
                         progress=False, log=lambda m: None, jobs=2)
    assert parallel.computed == 8 and parallel.trained == 0
    assert _strip(serial.rows) == _strip(parallel.rows)


def test_missing_optional_executor_is_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask_or_ray(name, *a, **k):
        if name.split(".")[0] in ("dask", "ray"):
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_dask_or_ray)
    with pytest.raises(SweepError, match="dask.distributed is not installed"):
        list(iter_results(abs, [1], "dask", 1))
    with pytest.raises(SweepError, match="ray is not installed"):
        list(iter_results(abs, [1], "ray", 1))


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in ("finished_at", "certificate")} for r in rows]


def test_dask_executor_gives_the_same_table(tmp_path):
    pytest.importorskip("dask.distributed")
    assert sorted(iter_results(abs, [-3, 1, -2], "dask", 2)) == [1, 2, 3]
    serial = _sweep(tmp_path, [1, 2])
    dask = run_sweep([1, 2], [s for s in all_strategies() if s.name in SOME], tmp_path / "models",
                     tmp_path / "res-dask", config=TINY, steps=TINY_STEPS, runner=fake_runner, progress=False, log=lambda m: None,
                     jobs=2, executor="dask")
    assert dask.computed == 8 and _strip(dask.rows) == _strip(serial.rows)


@pytest.mark.slow
def test_ray_executor_gives_the_same_table(tmp_path):
    pytest.importorskip("ray")
    assert sorted(iter_results(abs, [-3, 1, -2], "ray", 2)) == [1, 2, 3]
    serial = _sweep(tmp_path, [1, 2])
    ray_run = run_sweep([1, 2], [s for s in all_strategies() if s.name in SOME], tmp_path / "models",
                        tmp_path / "res-ray", config=TINY, steps=TINY_STEPS, runner=fake_runner, progress=False, log=lambda m: None,
                        jobs=2, executor="ray")
    assert ray_run.computed == 8 and _strip(ray_run.rows) == _strip(serial.rows)


AVAILABLE = [f for f in ("brute-force", "cubic", "subcubic") if unavailable_reason(f) is None]


@pytest.mark.skipif(not AVAILABLE, reason="no strategy family has both a search and a checker module yet")
def test_end_to_end_rows_are_checked_and_sound(tmp_path):
    """Real search + certificate + independent checker (subprocess) on a tiny model: every row is
    ok and no certified count exceeds the exact number of correct sequences."""
    from extract.weights import load_model
    from tests.oracle import exact_correct_count

    names = [s.name for s in all_strategies() if s.family in AVAILABLE][:6]
    summary = run_sweep([7], [s for s in all_strategies() if s.name in names], tmp_path / "models",
                        tmp_path / "res", config=TINY, steps=200, progress=False, log=lambda m: None)
    from extract.models import model_path
    truth = exact_correct_count(load_model(model_path(tmp_path / "models", 7, TINY)))
    assert len(summary.rows) == len(names)
    for r in summary.rows:
        assert r["verdict"] == "ok", r
        assert r["certified"] <= truth
        assert r["ops"] > 0 and r["cert_bytes"] == Path(r["certificate"]).stat().st_size


@pytest.mark.skipif("cubic" not in AVAILABLE, reason="the cubic strategy is not available yet")
@pytest.mark.parametrize("mode", ["subprocess", "inprocess"])
def test_checker_outcomes_for_good_inflated_and_malformed_certificates(tmp_path, mode):
    """The row verdict follows the independent checker: ok for an honest certificate, fail when
    the claim is inflated beyond what the checker certifies, malformed for a broken file."""
    from extract.certificate import build_certificate, write_certificate
    from extract.model import ModelWeights
    from extract.search.cubic import search
    from extract.job import check_certificate_file

    w = ModelWeights.random(TINY, seed=3)
    res = search(w, {})
    good = build_certificate(w, "cubic", {}, res.witness, res.certified_count)
    out = check_certificate_file(write_certificate(good, tmp_path / "good.json"), mode)
    assert (out.verdict, out.certified, out.claimed) == ("ok", res.certified_count, res.certified_count)
    assert out.ops > 0 and out.seconds >= 0
    inflated = dict(good, claim={"certified_count": res.certified_count + 1})
    out = check_certificate_file(write_certificate(inflated, tmp_path / "inflated.json"), mode)
    assert out.verdict == "fail" and out.certified == res.certified_count
    (tmp_path / "broken.json").write_text('{"format": "compact-proofs-certificate"')
    assert check_certificate_file(tmp_path / "broken.json", mode).verdict == "malformed"


@pytest.mark.skipif("cubic" not in AVAILABLE, reason="the cubic strategy is not available yet")
def test_a_float_claim_above_the_exact_count_is_recertified_with_the_checkers_count(tmp_path):
    """reclaim: the same witness, claiming what the checker counted, is checked again from
    scratch and accepted; the row's message keeps the first claim; an honest claim is untouched."""
    from extract.certificate import build_certificate, write_certificate
    from extract.model import ModelWeights
    from extract.search.cubic import search
    from extract.job import check_certificate_file, reclaim

    w = ModelWeights.random(TINY, seed=3)
    res = search(w, {})
    inflated = build_certificate(w, "cubic", {}, res.witness, res.certified_count + 5)
    path = write_certificate(inflated, tmp_path / "c.json")
    failed = check_certificate_file(path)
    assert failed.verdict == "fail"
    again = reclaim(inflated, path, failed, "subprocess")
    assert (again.verdict, again.certified, again.claimed) == ("ok", res.certified_count, res.certified_count)
    assert f"search claimed {res.certified_count + 5}" in again.message
    assert json.loads(path.read_text())["claim"]["certified_count"] == res.certified_count


def _cli_parser():
    import argparse

    from extract.cli import add_sweep_parsers

    parser = argparse.ArgumentParser()
    parser.add_argument("--models-dir", type=Path)
    add_sweep_parsers(parser.add_subparsers(dest="command"))
    return parser


@pytest.mark.skipif("cubic" not in AVAILABLE, reason="the cubic strategy is not available yet")
def test_sweep_subcommand_runs_resumes_and_reports(tmp_path, capsys):
    argv = ["--models-dir", str(tmp_path / "models"), "sweep", "--seeds", "1,2", "--strategies", "cubic",
            "--shape", "6,3,8,8", "--steps", "30", "--results", str(tmp_path / "res"), "--jobs", "1", "--quiet"]
    args = _cli_parser().parse_args(argv)
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "2 rows (2 computed, 0 reused, 2 models trained)" in out and "ok 2" in out
    assert (tmp_path / "res" / "report" / "report.md").exists()
    args = _cli_parser().parse_args(argv)
    assert args.func(args) == 0
    assert "2 rows (0 computed, 2 reused, 0 models trained)" in capsys.readouterr().out


def test_sweep_subcommand_bad_options(tmp_path):
    from extract.errors import UserError

    with pytest.raises(SystemExit):
        _cli_parser().parse_args(["sweep", "--shape", "6,3,8"])
    args = _cli_parser().parse_args(["--models-dir", str(tmp_path), "sweep", "--seeds", "a,b"])
    with pytest.raises(UserError, match="--seeds: 'a' is not an integer"):
        args.func(args)


def test_compact_proofs_sweep_is_wired_into_the_cli(tmp_path):
    from extract.cli import build_parser

    try:
        build_parser().parse_args(["sweep", "--help"])
    except SystemExit as e:
        if e.code != 0:
            pytest.skip("`compact-proofs sweep` is not registered in extract/cli.py yet")
    proc = subprocess.run([sys.executable, "-m", "extract.cli", "report", "--results", str(tmp_path / "none")],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2 and "no such results folder" in proc.stderr and "Traceback" not in proc.stderr


def test_two_sweeps_cannot_write_one_results_folder(tmp_path):
    from extract.journal import lock_results

    (tmp_path / "res").mkdir()
    held = lock_results(tmp_path / "res")
    try:
        with pytest.raises(SweepError, match="another sweep is writing to this results folder"):
            _sweep(tmp_path, [1])
    finally:
        held.close()
    assert _sweep(tmp_path, [1]).computed == 4


def _running(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _sweep_subprocess_after_two_rows(tmp_path: Path, script: str, env: dict) -> tuple[subprocess.Popen, Path]:
    """Start ``script`` (a sweep into tmp_path/res) in a subprocess; return once two rows are journaled.
    stderr goes to a file, not a pipe: a leftover worker must not block the test."""
    err = tmp_path / "stderr.log"
    with open(err, "w") as err_f:
        proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=err_f)
    journal = tmp_path / "res" / JOURNAL
    deadline = time.time() + 120
    while time.time() < deadline and not (journal.exists() and journal.read_text().count("\n") >= 2):
        if proc.poll() is not None:
            pytest.fail(f"sweep subprocess ended early: {err.read_text()[-2000:]}")
        time.sleep(0.05)
    return proc, err


def test_sigterm_stops_the_workers_and_keeps_the_tables_in_step_with_the_journal(tmp_path):
    """SIGTERM mid-sweep (jobs=2): the sweep exits, no worker process is left running, and
    results.csv lists exactly the rows the journal holds."""
    pids = tmp_path / "pids.log"
    env = dict(os.environ, SWEEP_TEST_PIDS=str(pids), SWEEP_TEST_SLEEP="0.3", OPENBLAS_NUM_THREADS="1")
    script = _sweep_script(tmp_path, [1, 2, 3, 4], jobs=2)
    proc, err = _sweep_subprocess_after_two_rows(tmp_path, script, env)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) != 0
    assert "KeyboardInterrupt" in err.read_text()
    workers = {int(x) for x in _log_lines(pids)}
    assert workers and workers != {proc.pid}, "the sweep should have run jobs in worker processes"
    time.sleep(0.5)
    assert not [p for p in workers if _running(p)], "a worker process outlived the sweep"
    journaled = {(r["seed"], r["strategy"]) for r in read_journal(tmp_path / "res")}
    with open(tmp_path / "res" / RESULTS_CSV) as f:
        tabled = {(int(r["seed"]), r["strategy"]) for r in csv.DictReader(f)}
    assert tabled == journaled and 2 <= len(journaled) < 16


def test_a_killed_worker_ends_the_sweep_with_one_line_and_the_journal_intact(tmp_path):
    """SIGKILL of one worker (jobs=2): the sweep raises one SweepError (cmd_sweep turns it into
    a one-line error, exit 2) and no traceback escapes, the tables match the journal, and a
    rerun finishes the rest without redoing any row."""
    pids = tmp_path / "pids.log"
    log = tmp_path / "calls.log"
    env = dict(os.environ, SWEEP_TEST_PIDS=str(pids), SWEEP_TEST_LOG=str(log), SWEEP_TEST_SLEEP="0.3",
               OPENBLAS_NUM_THREADS="1")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from extract.errors import SweepError\n"
        "from tests.test_sweep import _sweep\n"
        "try:\n"
        f"    _sweep(Path({str(tmp_path)!r}), [1, 2, 3, 4], jobs=2)\n"
        "except SweepError as e:\n"
        "    print(e, file=sys.stderr); sys.exit(2)\n"
    )
    proc, err = _sweep_subprocess_after_two_rows(tmp_path, script, env)
    victim = next(int(x) for x in _log_lines(pids) if int(x) != proc.pid)
    os.kill(victim, signal.SIGKILL)
    assert proc.wait(timeout=60) == 2
    text = err.read_text()
    assert "worker process died" in text and "Traceback" not in text
    journaled = {(r["seed"], r["strategy"]) for r in read_journal(tmp_path / "res")}
    with open(tmp_path / "res" / RESULTS_CSV) as f:
        assert {(int(r["seed"]), r["strategy"]) for r in csv.DictReader(f)} == journaled
    log.write_text("")
    summary = _sweep(tmp_path, [1, 2, 3, 4])
    redone = {(int(a), b) for a, b in (line.split(" ", 1) for line in _log_lines(log))}
    assert len(summary.rows) == 16 and not (redone & journaled)


# --------------------------------------------------------------------------------------------
# Provenance: checker version and training recipe in every row; old journals still resume


def test_rows_record_the_checker_version_and_the_training_recipe(tmp_path):
    from extract.config import TrainConfig
    from extract.models import recipe_record

    summary = _sweep(tmp_path, [1])
    recipe = recipe_record(TrainConfig(seed=1, steps=TINY_STEPS))
    for r in summary.rows:
        assert r["checker_version"].startswith(("git:", "package:")), r["checker_version"]
        assert r["train_recipe"] == recipe
    with open(tmp_path / "res" / RESULTS_CSV) as f:
        for c in csv.DictReader(f):
            assert json.loads(c["train_recipe"]) == recipe and c["checker_version"] == summary.rows[0]["checker_version"]


def test_checker_version_is_the_commit_of_the_checkers_repository():
    from extract.job import checker_version

    head = subprocess.run(["git", "-C", str(REPO / "checker"), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    assert checker_version().split("+")[0] == f"git:{head.stdout.strip()}"


def test_a_model_of_another_recipe_is_refused_with_one_line(tmp_path, capsys):
    from extract.cli import main

    _sweep(tmp_path, [1])
    journal = (tmp_path / "res" / JOURNAL).read_bytes()
    with pytest.raises(SweepError) as e:
        run_sweep([1], ",".join(SOME), tmp_path / "models", tmp_path / "res", config=TINY, steps=TINY_STEPS + 1,
                  runner=fake_runner, progress=False, log=lambda m: None)
    msg = str(e.value)
    assert "seed-1.safetensors: trained with another recipe" in msg and f"steps={TINY_STEPS} (asked {TINY_STEPS + 1})" in msg
    assert "\n" not in msg and (tmp_path / "res" / JOURNAL).read_bytes() == journal
    code = main(["--models-dir", str(tmp_path / "models"), "sweep", "--seeds", "1", "--strategies", "cubic",
                 "--shape", "6,3,8,8", "--results", str(tmp_path / "res2"), "--quiet"])  # default --steps 3000
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "steps=30 (asked 3000)" in err


def test_journal_rows_without_provenance_columns_still_load_and_resume(tmp_path):
    """Rows of results version 1 (no checker_version, no train_recipe) are reused by a rerun."""
    _sweep(tmp_path, [1, 2])
    journal = tmp_path / "res" / JOURNAL
    old = [{k: v for k, v in json.loads(line).items() if k not in ("checker_version", "train_recipe")}
           for line in journal.read_text().splitlines()]
    journal.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in old))
    again = _sweep(tmp_path, [1, 2])
    assert (again.computed, again.reused) == (0, 8)
    with open(tmp_path / "res" / RESULTS_CSV) as f:
        assert all(c["checker_version"] == "" and c["train_recipe"] == "" for c in csv.DictReader(f))


def test_the_committed_paper_sweep_journal_loads(tmp_path):
    src = REPO / "docs" / "results" / "paper-sweep" / JOURNAL
    if not src.exists():
        pytest.skip("no committed paper sweep")
    res = tmp_path / "res"
    res.mkdir()
    (res / JOURNAL).write_bytes(src.read_bytes())
    rows = write_summaries(res)
    assert len(rows) == 151 * 102 and all(r["verdict"] == "ok" for r in rows)
    obj = json.loads((res / RESULTS_JSON).read_text())
    assert obj["columns"] == list(CSV_COLUMNS) and len(obj["rows"]) == len(rows)


def test_a_bad_provenance_field_is_a_clear_error(tmp_path):
    job = Job(1, strategy_by_name("cubic"), "m", "a" * 64, str(tmp_path))
    row = make_row(job, CheckOutcome("ok", 3, 3, 10, 0.1), 0.1, 5)
    res = tmp_path / "res"
    res.mkdir()
    append_row(res, dict(row, train_recipe=7))
    with pytest.raises(SweepError, match=r"journal.jsonl: line 1: field 'train_recipe'"):
        read_journal(res)


def test_the_checker_work_budget_reaches_every_checker_process(tmp_path: Path) -> None:
    """--max-ops is the budget of the sweep's checker processes: a budget below a certificate's cost
    bound turns its row into one malformed line naming the cost, a generous one checks it."""
    tight = run_sweep([1], "cubic", tmp_path / "models", tmp_path / "tight", config=TINY, steps=TINY_STEPS,
                      progress=False, max_ops=1000)
    assert [r["verdict"] for r in tight.rows] == ["malformed"] and "(cost)" in tight.rows[0]["message"]
    roomy = run_sweep([1], "cubic", tmp_path / "models", tmp_path / "roomy", config=TINY, steps=TINY_STEPS,
                      progress=False, max_ops=10**12)
    assert [r["verdict"] for r in roomy.rows] == ["ok"]
