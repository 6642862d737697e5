"""The sweep under faults: kills at random (seeded) points, a full disk, a corrupted results line,
two sweeps on one folder. In every case nothing finished is lost, the error is one line, and a
rerun of the same command completes without recomputing a finished row.

tests/test_sweep.py covers the single cases (SIGKILL of the sweep after three rows, SIGKILL of a
worker after two rows, SIGTERM, a torn last line, an in-process lock holder); this file extends
them to random kill points, ENOSPC (simulated and, where a tmpfs can be mounted, real), a line
corrupted in the middle of a journal, and two real sweep processes started together. The jobs
are the deterministic fake runner of tests/test_sweep.py, so these tests exercise the sweep's
bookkeeping, not the strategies.
"""

from __future__ import annotations

import csv
import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from extract.errors import SweepError
from extract.journal import CORRUPT, JOURNAL, RESULTS_CSV, append_row, read_journal, row_key
from tests.test_sweep import SOME, _log_lines, _sweep

REPO = Path(__file__).resolve().parents[1]
SEEDS = [1, 2, 3, 4]
ALL_KEYS = {(s, n) for s in SEEDS for n in SOME}

# Python run in a subprocess: the fake-runner sweep of tests/test_sweep.py, a SweepError as one
# line on stderr and exit 2 (what extract/cli.py does). FAULT=kill-mid-write: the journal's
# write after FAULT_AFTER rows writes half its line, then the process kills itself.
SCRIPT = """\
import os, sys
from pathlib import Path
import extract.journal as journal
from extract.errors import SweepError
from tests.test_sweep import _sweep

fault, after = os.environ.get("FAULT", ""), int(os.environ.get("FAULT_AFTER", "0"))
real_write, calls = os.write, [0]

def faulty_write(fd, data):
    if b'"strategy"' in bytes(data[:4096]):  # a journal row
        calls[0] += 1
        if calls[0] > after and fault == "kill-mid-write":  # half a line, then SIGKILL
            real_write(fd, bytes(data[: len(data) // 2]))
            os.kill(os.getpid(), 9)
    return real_write(fd, data)

journal.os.write = faulty_write  # the journal's own writes only (it calls os.write)
try:
    _sweep(Path(sys.argv[1]), [int(s) for s in sys.argv[2].split(",")], jobs=int(sys.argv[3]))
except SweepError as e:
    print(e, file=sys.stderr)
    sys.exit(2)
"""


def start(tmp: Path, seeds=SEEDS, jobs: int = 1, env_extra: dict | None = None, log: Path | None = None,
          sleep: float = 0.15, err_dir: Path | None = None) -> tuple[subprocess.Popen, Path]:
    err = (err_dir or tmp) / f"stderr-{uuid.uuid4().hex[:8]}.log"
    env = dict(os.environ, SWEEP_TEST_SLEEP=str(sleep), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=str(REPO), **(env_extra or {}))
    if log is not None:
        env["SWEEP_TEST_LOG"] = str(log)
    with open(err, "w") as f:
        proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp), ",".join(map(str, seeds)), str(jobs)],
                                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=f)
    return proc, err


def journaled(tmp: Path) -> set:
    return {row_key(r) for r in read_journal(tmp / "res")}


def wait_rows(tmp: Path, proc: subprocess.Popen, n: int, timeout: float = 120) -> None:
    journal = tmp / "res" / JOURNAL
    deadline = time.time() + timeout
    while time.time() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= n:
            return
        if proc.poll() is not None:
            return
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"no {n} rows within {timeout} s")


def rerun_completes(tmp: Path, finished: set, log: Path) -> None:
    """A rerun computes exactly the rows not finished before, and the tables hold every row once."""
    before = len(_log_lines(log))
    os.environ["SWEEP_TEST_LOG"] = str(log)
    try:
        summary = _sweep(tmp, SEEDS)
    finally:
        del os.environ["SWEEP_TEST_LOG"]
    redone = {(int(a), b) for a, b in (ln.split(" ", 1) for ln in _log_lines(log)[before:])}
    assert not redone & finished, "a finished row was recomputed"
    assert redone == ALL_KEYS - finished
    assert summary.reused == len(finished) and len(summary.rows) == len(ALL_KEYS)
    with open(tmp / "res" / RESULTS_CSV) as f:
        keys = [(int(r["seed"]), r["strategy"]) for r in csv.DictReader(f)]
    assert sorted(keys) == sorted(ALL_KEYS)


def one_line(err: Path) -> str:
    lines = [ln for ln in err.read_text().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in lines[0], err.read_text()[-2000:]
    return lines[0]


# --------------------------------------------------------------------------------------------
# Kills at random points


def test_kills_at_random_points_lose_nothing_finished(tmp_path):
    """Three kills at seeded random points (after a random number of rows plus a random delay),
    each of a random victim: the sweep process, one worker (jobs=2), or the sweep in the middle
    of writing a journal line. After each kill every row finished before is still there; a
    rerun then computes exactly the missing rows."""
    rng = random.Random(20261202)
    log = tmp_path / "calls.log"
    finished: set = set()
    victims = ["sweep", "worker", "mid-write"]
    rng.shuffle(victims)
    for victim in victims:
        rows_before = len(finished)
        k = rng.randrange(rows_before + 1, min(rows_before + 4, len(ALL_KEYS)))
        jobs = 2 if victim == "worker" else 1
        pids = tmp_path / "pids.log"
        pids.write_text("")
        env = {"SWEEP_TEST_PIDS": str(pids)}
        if victim == "mid-write":
            env.update(FAULT="kill-mid-write", FAULT_AFTER=str(k - rows_before - 1))
        proc, err = start(tmp_path, jobs=jobs, env_extra=env, log=log)
        if victim != "mid-write":
            wait_rows(tmp_path, proc, k)
            time.sleep(rng.uniform(0.0, 0.2))
            if victim == "sweep":
                proc.send_signal(signal.SIGKILL)
            else:
                workers = [int(x) for x in _log_lines(pids) if int(x) != proc.pid]
                assert workers, "no worker has run a job yet"
                os.kill(workers[-1], signal.SIGKILL)
        code = proc.wait(timeout=120)
        if victim == "worker":
            assert code == 2 and "worker process died" in one_line(err)
        else:
            assert code == -signal.SIGKILL
        now = journaled(tmp_path)  # readable: a torn last line is ignored
        assert finished <= now, f"{victim}: finished rows were lost"
        assert len(now) < len(ALL_KEYS), f"{victim}: killed too late to test anything"
        finished = now
    rerun_completes(tmp_path, finished, log)


# --------------------------------------------------------------------------------------------
# The disk fills up


@pytest.mark.parametrize("fault", ["enospc", "short-then-enospc"])
def test_a_full_disk_stops_the_sweep_with_one_line_and_a_rerun_completes(tmp_path, fault, monkeypatch):
    """os.write of the journal fails with ENOSPC after 3 rows (immediately, or after writing half
    a line): one SweepError line (the CLI prints it, exit 2) naming the journal and 'No space left
    on device'; the journal holds the 3 rows and no partial line; the tables match the journal;
    the rerun (space freed) computes only the rest. (The real thing: the tmpfs test below.)"""
    import extract.journal as journal

    real, calls = os.write, {"rows": 0, "short": False}

    def faulty_write(fd, data):
        if b'"strategy"' in bytes(data[:4096]):
            calls["rows"] += 1
            if calls["rows"] > 3:
                if fault == "short-then-enospc" and not calls["short"]:
                    calls["short"] = True
                    return real(fd, bytes(data[: len(data) // 2]))
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    log = tmp_path / "calls.log"
    monkeypatch.setenv("SWEEP_TEST_LOG", str(log))
    monkeypatch.setattr(journal.os, "write", faulty_write)
    with pytest.raises(SweepError) as info:
        _sweep(tmp_path, SEEDS)
    monkeypatch.setattr(journal.os, "write", real)
    monkeypatch.delenv("SWEEP_TEST_LOG")
    line = str(info.value)
    assert "\n" not in line and str(tmp_path / "res" / JOURNAL) in line
    assert "No space left on device" in line and "rerun" in line
    data = (tmp_path / "res" / JOURNAL).read_bytes()
    assert data.endswith(b"\n") and data.count(b"\n") == 3  # the failed append was cut back
    finished = journaled(tmp_path)
    with open(tmp_path / "res" / RESULTS_CSV) as f:
        assert {(int(r["seed"]), r["strategy"]) for r in csv.DictReader(f)} == finished
    rerun_completes(tmp_path, finished, log)


def test_a_failed_append_leaves_no_partial_line(tmp_path, monkeypatch):
    """append_row directly: a short write then ENOSPC is undone (the file keeps its length)."""
    import extract.journal as journal

    res = tmp_path / "res"
    res.mkdir()
    row = {"seed": 1, "strategy": "cubic", "verdict": "ok", "weights_sha256": "a" * 64}
    append_row(res, row)
    size = (res / JOURNAL).stat().st_size
    real = os.write
    state = {"n": 0}

    def short_then_full(fd, data):
        state["n"] += 1
        if state["n"] == 1:
            return real(fd, bytes(data[:5]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(journal.os, "write", short_then_full)
    with pytest.raises(OSError):
        append_row(res, dict(row, seed=2))
    monkeypatch.setattr(journal.os, "write", real)
    assert (res / JOURNAL).stat().st_size == size and read_journal(res) == [row]


def _mount_tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    return proc.returncode == 0


def test_a_really_full_tmpfs_stops_the_sweep_with_one_line(tmp_path):
    """A 1 MiB tmpfs (mounted when running as root) filled up to 12 KiB: the sweep stops with one
    line and exit 2; after the filler is removed the rerun completes without recomputing."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "1m"):
        pytest.skip("cannot mount a tmpfs here (needs root and mount)")
    try:
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
            except OSError:
                pass
        (tmp_path / "models").mkdir()
        (disk / "models").symlink_to(tmp_path / "models")  # models on the real disk, results on the full one
        os.truncate(filler, filler.stat().st_size - 3 * 4096)  # 3 pages left: some rows fit, not all 16
        log = tmp_path / "calls.log"
        proc, err = start(disk, log=log, sleep=0, err_dir=tmp_path)
        code = proc.wait(timeout=120)
        assert code == 2, err.read_text()[-3000:]
        assert "No space left on device" in one_line(err)
        finished = journaled(disk)
        assert len(finished) < len(ALL_KEYS)
        filler.unlink()
        rerun_completes(disk, finished, log)
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


# --------------------------------------------------------------------------------------------
# A corrupted results line


def test_a_corrupted_line_in_the_middle_is_set_aside_and_only_its_row_recomputed(tmp_path):
    log = tmp_path / "calls.log"
    _sweep(tmp_path, SEEDS[:2])
    journal = tmp_path / "res" / JOURNAL
    lines = journal.read_bytes().split(b"\n")
    victim = lines[3]
    lines[3] = victim[: len(victim) // 2] + b"\x00garbage"  # bit rot in the middle of the file
    journal.write_bytes(b"\n".join(lines))
    with pytest.raises(SweepError, match=r"journal.jsonl: line 4: expected one JSON object per line"):
        read_journal(tmp_path / "res")  # what report says: one line naming file and line
    said: list[str] = []
    before = len(_log_lines(log))
    os.environ["SWEEP_TEST_LOG"] = str(log)
    try:
        summary = _sweep(tmp_path, SEEDS[:2], log=said.append)
    finally:
        del os.environ["SWEEP_TEST_LOG"]
    assert summary.computed == 1 and summary.reused == 7
    notes = [m for m in said if CORRUPT in m]
    assert len(notes) == 1 and "line 4" in notes[0]
    assert len(_log_lines(log)) == before + 1
    assert (tmp_path / "res" / CORRUPT).read_bytes() == lines[3] + b"\n"  # kept for inspection


# --------------------------------------------------------------------------------------------
# Two sweeps on one folder


def test_two_sweeps_started_together_one_runs_the_other_says_so_in_one_line(tmp_path):
    log = tmp_path / "calls.log"
    a, err_a = start(tmp_path, log=log, sleep=0.1)
    b, err_b = start(tmp_path, log=log, sleep=0.1)
    codes = sorted([a.wait(timeout=180), b.wait(timeout=180)])
    assert codes == [0, 2], (err_a.read_text()[-1000:], err_b.read_text()[-1000:])
    loser = err_a if a.returncode == 2 else err_b
    assert "another sweep is writing to this results folder" in one_line(loser)
    rows = read_journal(tmp_path / "res")
    assert sorted(row_key(r) for r in rows) == sorted(ALL_KEYS)  # every row once: no double work
    assert len(_log_lines(log)) == len(ALL_KEYS)
    rerun_completes(tmp_path, journaled(tmp_path), log)
