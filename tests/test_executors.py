"""Sweeps on an existing Dask or Ray cluster, reached through ``--address`` (extract/executors.py).

Each test starts a local multi-worker cluster of its own (2 worker processes / 2 Ray nodes),
points the sweep at its address, and checks that (a) the table is the serial sweep's table,
(b) the jobs ran in more than one worker process, (c) the jobs received absolute paths even
though the sweep was given relative ones (workers of a real cluster run in other folders).
The runner is the fake one of tests/test_sweep.py (deterministic rows, no search), so the tests
measure the plumbing, not the proofs. Clusters are stopped through their own handles.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from extract.errors import SweepError
from extract.job import Job
from extract.strategies import all_strategies
from extract.sweep import run_sweep
from tests.test_sweep import SOME, TINY, TINY_STEPS, fake_runner

STRATEGIES = [s for s in all_strategies() if s.name in SOME]


def recording_runner(job: Job) -> dict:
    """fake_runner, after appending 'pid model_file certs_dir' to the file $EXECUTOR_TEST_LOG."""
    with open(os.environ["EXECUTOR_TEST_LOG"], "a") as f:
        f.write(f"{os.getpid()} {job.model_file} {job.certs_dir}\n")
    return fake_runner(job)


def _strip(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("finished_at", "certificate")} for r in rows]


def _sweep(root: Path, name: str, **kw) -> list[dict]:
    """The fake sweep of seeds 1..3 with RELATIVE models/results folders (cwd = root)."""
    summary = run_sweep([1, 2, 3], STRATEGIES, Path("models"), Path(name), config=TINY, steps=TINY_STEPS,
                        runner=recording_runner, progress=False, log=lambda m: None, **kw)
    assert summary.computed == 12 and summary.claims_hold
    return summary.rows


def _log(path: Path) -> list[tuple[str, str, str]]:
    return [tuple(line.split(" ")) for line in path.read_text().splitlines()]


def _assert_same_table_on_two_workers(root: Path, log: Path, rows: list[dict]) -> None:
    serial_log = root / "serial.log"
    os.environ["EXECUTOR_TEST_LOG"] = str(serial_log)
    serial = _sweep(root, "res-serial")
    assert _strip(rows) == _strip(serial)
    entries = _log(log)
    assert len(entries) == 12
    assert len({pid for pid, _, _ in entries}) >= 2, "all jobs ran in one worker process"
    assert all(Path(m).is_absolute() and Path(c).is_absolute() for _, m, c in entries)


def test_sweep_on_an_existing_local_dask_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller-made LocalCluster(2 single-threaded worker processes) reached by its address."""
    distributed = pytest.importorskip("dask.distributed")
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "dask.log"
    monkeypatch.setenv("EXECUTOR_TEST_LOG", str(log))
    monkeypatch.setenv("SWEEP_TEST_SLEEP", "0.2")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        rows = _sweep(tmp_path, "res-dask", executor="dask", jobs=1, address=cluster.scheduler_address)
    finally:
        cluster.close()
    _assert_same_table_on_two_workers(tmp_path, log, rows)


@pytest.mark.slow
def test_sweep_on_an_existing_local_ray_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A two-node local Ray cluster (ray.cluster_utils.Cluster: head + one node, 1 CPU each)
    reached by its address. Marked slow: starting the two nodes alone takes 15-30 s here."""
    pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    monkeypatch.chdir(tmp_path)
    log = tmp_path / "ray.log"
    monkeypatch.setenv("EXECUTOR_TEST_LOG", str(log))
    monkeypatch.setenv("SWEEP_TEST_SLEEP", "0.5")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        rows = _sweep(tmp_path, "res-ray", executor="ray", jobs=1, address=cluster.address)
    finally:
        cluster.shutdown()
    _assert_same_table_on_two_workers(tmp_path, log, rows)


def test_unreachable_dask_address_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """sweep --executor dask --address tcp://127.0.0.1:1 (nothing listens): exit 2, one line naming --address."""
    pytest.importorskip("dask.distributed")
    from extract import executors
    from extract.cli import main

    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 2.0)
    with pytest.raises(SweepError, match="--address tcp://127.0.0.1:1: cannot connect"):
        list(executors.iter_results(abs, [1], "dask", 1, address="tcp://127.0.0.1:1"))
    rc = main(["--models-dir", str(tmp_path / "models"), "sweep", "--seeds", "1", "--strategies", "cubic",
               "--shape", "6,3,8,8", "--steps", "5", "--executor", "dask", "--address", "tcp://127.0.0.1:1",
               "--results", str(tmp_path / "res"), "--quiet", "--no-report"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "--address tcp://127.0.0.1:1" in err[0], err
