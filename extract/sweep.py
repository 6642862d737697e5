"""The sweep: every (model seed, strategy) pair trained, certified, independently checked, journaled.

One *row* per (seed, strategy): the certified bound (count / v^n, as an exact fraction and a
decimal), claimed and certified counts, the checker's op count and wall time, the search wall
time, the certificate size, the verdict and the weights' SHA-256.

Resumability: every finished row is appended to ``journal.jsonl`` as one line, written with a
single ``write`` and ``fsync``-ed before the next row is recorded. A rerun reads the journal and
skips every (seed, strategy) whose row is finished *for the same weights* (same SHA-256); killing
a sweep loses at most the rows still being computed. ``results.csv`` and ``results.json`` are
regenerated from the journal (atomically, via a temporary file and ``os.replace``).

Executors: local processes (``concurrent.futures.ProcessPoolExecutor``; ``jobs == 1`` runs in
this process), or the same job function handed to Dask (``dask.distributed``) or Ray, both
optional and imported only when asked for.

The checker runs in a separate Python process by default (``python -m checker FILE --json``):
that process never imports ``extract``, torch or numpy floats, so nothing in the untrusted
search can influence the verdict, and a crash of the checker is contained in one row.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import subprocess
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from extract.config import ModelConfig, TrainConfig

JOURNAL = "journal.jsonl"
RESULTS_CSV = "results.csv"
RESULTS_JSON = "results.json"
RESULTS_FORMAT = "compact-proofs-sweep-results"
RESULTS_VERSION = 1

# Verdicts. "ok": the checker certified at least the claim; "fail": it certified less;
# "malformed": the checker rejected the certificate as malformed (exit 2);
# "error": the search or the checker crashed. Only the first three are *finished*.
FINISHED_VERDICTS: frozenset[str] = frozenset({"ok", "fail", "malformed"})
VERDICTS: tuple[str, ...] = ("ok", "fail", "malformed", "error")

CSV_COLUMNS: tuple[str, ...] = (
    "seed",
    "strategy",
    "family",
    "knobs",
    "d_vocab",
    "n_ctx",
    "d_model",
    "d_head",
    "n_sequences",
    "certified",
    "claimed",
    "bound",
    "bound_decimal",
    "ops",
    "check_seconds",
    "search_seconds",
    "cert_bytes",
    "verdict",
    "message",
    "weights_sha256",
    "certificate",
    "finished_at",
)


class SweepError(Exception):
    """Bad input or a bad results folder: one line naming the file/option and what was expected."""


class WorkerDied(SweepError):
    """A local worker process ended abnormally (SIGKILL, out of memory); the sweep stops cleanly."""


# --------------------------------------------------------------------------------------------
# Strategies


def strategy_by_name(name: str):
    """The catalogue Strategy named ``name`` (``family`` or ``family:variant``); SweepError otherwise."""
    from extract.strategies import parse_strategy

    family, _, variant = name.partition(":")
    try:
        return parse_strategy(family, variant or None)
    except ValueError as e:
        raise SweepError(f"strategy {name!r}: {e}") from None


def select_strategies(spec: str) -> list:
    """``all`` (the 102 of the catalogue), or a comma-separated list of families and/or full names."""
    from extract.strategies import all_strategies

    catalogue = all_strategies()
    if spec.strip() == "all":
        return catalogue
    out: list = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        matches = [s for s in catalogue if s.family == item or s.name == item]
        if not matches:
            if item == "single-sequence" or item.startswith("subcubic:"):
                matches = [strategy_by_name(item)]
            else:
                families = sorted({s.family for s in catalogue})
                raise SweepError(f"--strategies: unknown family or strategy {item!r}; expected all or a "
                                 f"comma-separated list of {', '.join(families)} or full names (see `strategies`)")
        out.extend(m for m in matches if m not in out)
    if not out:
        raise SweepError("--strategies: empty list; expected all or FAMILY[,FAMILY]")
    return out


def unavailable_reason(family: str) -> str | None:
    """None when both the search module and the checker module of ``family`` import; else why not."""
    import importlib

    from extract.strategies import SEARCH_MODULES

    try:
        importlib.import_module(SEARCH_MODULES[family])
    except Exception as e:  # noqa: BLE001 - any import failure means "not available"
        return f"search module {SEARCH_MODULES[family]} does not import ({type(e).__name__}: {e})"
    try:
        from checker.registry import strategy_module

        strategy_module(family)
    except Exception as e:  # noqa: BLE001
        return f"checker module for {family!r} does not import ({type(e).__name__}: {e})"
    return None


def parse_seeds(spec: str) -> list[int]:
    """``paper`` (the 151 paper seeds) or ``S1,S2,...`` (non-negative integers, duplicates dropped)."""
    if spec.strip() == "paper":
        from extract.cli import paper_seeds

        return paper_seeds()
    seeds: list[int] = []
    for tok in (t.strip() for t in spec.split(",")):
        if not tok:
            continue
        try:
            s = int(tok)
        except ValueError:
            raise SweepError(f"--seeds: {tok!r} is not an integer; expected paper or S1,S2,...") from None
        if s < 0:
            raise SweepError(f"--seeds: {s} is negative; expected non-negative integers")
        if s not in seeds:
            seeds.append(s)
    if not seeds:
        raise SweepError("--seeds: empty list; expected paper or S1,S2,...")
    return seeds


# --------------------------------------------------------------------------------------------
# Models


def model_file(models_dir: Path, seed: int) -> Path:
    from extract.cli import model_path

    return model_path(Path(models_dir), seed)


@dataclass(frozen=True)
class TrainJob:
    seed: int
    config: ModelConfig
    steps: int
    models_dir: str


def train_job(job: TrainJob) -> dict[str, Any]:
    """Train the model of ``job.seed`` unless its file exists; written atomically (tmp + rename)."""
    _limit_threads()
    path = model_file(Path(job.models_dir), job.seed)
    if path.exists():
        return {"seed": job.seed, "path": str(path), "trained": False, "seconds": 0.0}
    from extract.train import train
    from extract.weights import save_model

    t0 = time.perf_counter()
    weights = train(job.config, TrainConfig(seed=job.seed, steps=job.steps))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    meta = {"seed": str(job.seed), "steps": str(job.steps), "recipe": "paper-max-of-4"}
    save_model(weights, tmp, meta)
    os.replace(tmp, path)
    return {"seed": job.seed, "path": str(path), "trained": True, "seconds": time.perf_counter() - t0}


def load_weights(path: Path, config: ModelConfig):
    """The weights in ``path``; SweepError if unreadable or of another shape than ``config``."""
    from extract.weights import ModelFileError, load_model

    try:
        weights = load_model(path)
    except ModelFileError as e:
        raise SweepError(str(e)) from None
    if weights.config != config:
        w = weights.config
        raise SweepError(f"{path}: model shape (v={w.d_vocab}, n={w.n_ctx}, d={w.d_model}, d_head={w.d_head}) "
                         f"differs from the sweep's (v={config.d_vocab}, n={config.n_ctx}, d={config.d_model}, "
                         f"d_head={config.d_head}); use another --models-dir")
    return weights


# --------------------------------------------------------------------------------------------
# One job: certify + check


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to produce the row of one (seed, strategy); picklable."""

    seed: int
    strategy: str
    model_file: str
    weights_sha256: str
    certs_dir: str
    config: ModelConfig = field(default_factory=ModelConfig)
    checker: str = "subprocess"  # or "inprocess"

    @property
    def key(self) -> tuple[int, str]:
        return (self.seed, self.strategy)


@dataclass(frozen=True)
class CheckOutcome:
    verdict: str
    certified: int | None
    claimed: int | None
    ops: int | None
    seconds: float | None
    message: str = ""


def certificate_file(job: Job) -> Path:
    from extract.cli import certificate_filename

    return Path(job.certs_dir) / certificate_filename(Path(job.model_file), strategy_by_name(job.strategy))


def run_job(job: Job) -> dict[str, Any]:
    """Search, write the certificate, run the independent checker; the row (never raises)."""
    _limit_threads()
    strategy = strategy_by_name(job.strategy)
    out = certificate_file(job)
    search_seconds: float | None = None
    try:
        from extract.certificate import write_certificate
        from extract.cli import certify

        weights = load_weights(Path(job.model_file), job.config)
        t0 = time.perf_counter()
        cert = certify(weights, strategy, {"model_file": Path(job.model_file).name, "seed": str(job.seed)})
        search_seconds = time.perf_counter() - t0
        if cert.get("weights_sha256") != job.weights_sha256:
            raise SweepError(f"{job.model_file}: weights changed during the sweep (sha256 mismatch)")
        write_certificate(cert, out)
    except Exception as e:  # noqa: BLE001 - a crashing search is recorded, not fatal to the sweep
        return make_row(job, CheckOutcome("error", None, None, None, None, _one_line(e)), search_seconds, None)
    outcome = check_certificate_file(out, job.checker)
    if outcome.verdict == "fail" and outcome.certified is not None:
        outcome = reclaim(cert, out, outcome, job.checker)
    return make_row(job, outcome, search_seconds, out.stat().st_size)


def reclaim(cert: dict[str, Any], out: Path, failed: CheckOutcome, mode: str) -> CheckOutcome:
    """The search's claim (a float estimate) exceeded the checker's exact count: write the same
    witness claiming the checker's count and check that certificate again, from scratch.

    The row keeps the trail in its message. The bound is always the final checker's count, so
    this changes no number; it turns a float rounding disagreement into an accepted certificate.
    """
    from extract.certificate import json_int, write_certificate

    write_certificate(dict(cert, claim=dict(cert["claim"], certified_count=json_int(failed.certified))), out)
    again = check_certificate_file(out, mode)
    note = (f"search claimed {failed.claimed} > checker's {failed.certified} "
            f"(first check {failed.seconds:.3f} s); re-checked claiming {failed.certified}")
    return replace(again, message=f"{again.message} {note}".strip())


def check_certificate_file(path: Path, mode: str = "subprocess") -> CheckOutcome:
    """Run the independent checker on ``path``: a fresh ``python -m checker --json`` process, or in-process."""
    if mode == "inprocess":
        return _check_inprocess(path)
    if mode != "subprocess":
        raise SweepError(f"checker mode {mode!r}: expected subprocess or inprocess")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "checker", str(path), "--json"],
                          capture_output=True, text=True, env=env, check=False)
    try:
        entry = _checker_json_entry(json.loads(proc.stdout))
    except (ValueError, KeyError, TypeError, IndexError) as e:
        msg = f"checker exited {proc.returncode} without one --json verdict ({e}): {_last_line(proc.stderr)}"
        return CheckOutcome("error", None, None, None, None, msg)
    return _outcome_from_entry(entry, proc.returncode)


def _checker_json_entry(obj: Any) -> dict[str, Any]:
    """The single file entry of the checker's --json output (a JSON array with one object per file)."""
    if isinstance(obj, list) and len(obj) == 1 and isinstance(obj[0], dict):
        return obj[0]
    raise ValueError(f"expected an array of one verdict object, got {type(obj).__name__}")


def _as_int(x: Any) -> int | None:
    if x is None or isinstance(x, bool):
        return None
    return int(x)  # ints, or decimal strings for counts beyond 2^53


def _outcome_from_entry(entry: dict[str, Any], returncode: int) -> CheckOutcome:
    """Map one entry of `python -m checker --json` (status ok | claim-fails | malformed |
    internal-error) to an outcome, cross-checking the status against the counts and exit code."""
    status = entry.get("status")
    message = f"{entry.get('field', '')}: {entry.get('message', '')}" if "message" in entry else ""
    if status == "malformed":
        return CheckOutcome("malformed", None, None, None, None, message)
    if status not in ("ok", "claim-fails"):
        return CheckOutcome("error", None, None, None, None, f"checker status {status!r} (exit {returncode}) {message}")
    certified, claimed, ops = _as_int(entry.get("certified")), _as_int(entry.get("claimed")), _as_int(entry.get("ops"))
    wall_ns = _as_int(entry.get("wall_ns"))
    seconds = wall_ns / 1e9 if wall_ns is not None else float(entry["seconds"])
    if certified is None or claimed is None or ops is None:
        return CheckOutcome("error", certified, claimed, ops, seconds, "checker output lacks counts")
    ok = status == "ok"
    if ok != (certified >= claimed) or returncode != (0 if ok else 1):
        return CheckOutcome("error", certified, claimed, ops, seconds,
                            f"checker output inconsistent: status {status}, exit {returncode}, "
                            f"certified {certified}, claimed {claimed}")
    return CheckOutcome("ok" if ok else "fail", certified, claimed, ops, seconds, "")


def _check_inprocess(path: Path) -> CheckOutcome:
    from checker.errors import CertificateError
    from checker.verify import check_file

    try:
        v = check_file(path)
    except CertificateError as e:
        return CheckOutcome("malformed", None, None, None, None, str(e))
    except Exception as e:  # noqa: BLE001 - CheckerInternalError and anything else: never a verdict
        return CheckOutcome("error", None, None, None, None, _one_line(e))
    return CheckOutcome("ok" if v.ok else "fail", v.certified, v.claimed, v.ops, v.wall_ns / 1e9, "")


def make_row(job: Job, outcome: CheckOutcome, search_seconds: float | None, cert_bytes: int | None) -> dict[str, Any]:
    """The journal row of ``job``: bound = certified / v^n exactly (a fraction string) and as a decimal."""
    strategy = strategy_by_name(job.strategy)
    c = job.config
    total = c.n_sequences
    certified = outcome.certified
    bound = Fraction(certified, total) if certified is not None else None
    return {
        "seed": job.seed,
        "strategy": job.strategy,
        "family": strategy.family,
        "knobs": strategy.knob_dict,
        "d_vocab": c.d_vocab,
        "n_ctx": c.n_ctx,
        "d_model": c.d_model,
        "d_head": c.d_head,
        "n_sequences": total,
        "certified": certified,
        "claimed": outcome.claimed,
        "bound": None if bound is None else f"{bound.numerator}/{bound.denominator}",
        "bound_decimal": None if bound is None else format_fraction(bound, 12),
        "ops": outcome.ops,
        "check_seconds": outcome.seconds,
        "search_seconds": search_seconds,
        "cert_bytes": cert_bytes,
        "verdict": outcome.verdict,
        "message": outcome.message,
        "weights_sha256": job.weights_sha256,
        "certificate": str(certificate_file(job)),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def format_fraction(x: Fraction, digits: int) -> str:
    """``x`` in [0, 1] as a decimal string truncated (rounded down) to ``digits`` places."""
    scaled = x.numerator * 10**digits // x.denominator
    s = str(scaled).rjust(digits + 1, "0")
    return f"{s[:-digits]}.{s[-digits:]}"


def _one_line(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    return f"{type(e).__name__}: {e}{where}".replace("\n", " ")[:500]


def _last_line(text: str) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1][:500] if lines else ""


def _limit_threads() -> None:
    """One BLAS/torch thread per worker: workers are the parallelism."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


# --------------------------------------------------------------------------------------------
# Journal and summaries


def read_journal(results_dir: Path) -> list[dict[str, Any]]:
    """Every row of the journal, in order. A torn last line (no newline: the writer was killed
    mid-write) is ignored; any other unreadable line is a SweepError naming file and line."""
    path = Path(results_dir) / JOURNAL
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    rows = []
    for i, raw in enumerate(complete, 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except ValueError:
            raise SweepError(f"{path}: line {i}: expected one JSON object per line") from None
        _validate_row(row, f"{path}: line {i}")
        rows.append(row)
    del tail  # an unterminated last line is a row whose write never completed
    return rows


def _validate_row(row: Any, where: str) -> None:
    if not isinstance(row, dict):
        raise SweepError(f"{where}: expected a JSON object")
    for key, kind in (("seed", int), ("strategy", str), ("verdict", str), ("weights_sha256", str)):
        if not isinstance(row.get(key), kind) or isinstance(row.get(key), bool):
            raise SweepError(f"{where}: field {key!r}: expected {kind.__name__}")
    if row["verdict"] not in VERDICTS:
        raise SweepError(f"{where}: field 'verdict': expected one of {', '.join(VERDICTS)}")


def repair_journal(results_dir: Path) -> None:
    """Cut a torn last line so the next append starts on a fresh line."""
    path = Path(results_dir) / JOURNAL
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        with open(path, "r+b") as f:
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())


def append_row(results_dir: Path, row: dict[str, Any]) -> None:
    """Append one row as one line with a single write, then fsync: either all of it lands or the
    line is torn (no newline) and ignored by read_journal."""
    line = (json.dumps(row, sort_keys=True) + "\n").encode()
    fd = os.open(Path(results_dir) / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def latest_rows(rows: Iterable[dict[str, Any]]) -> dict[tuple[int, str], dict[str, Any]]:
    """The last journal row of each (seed, strategy); a finished row is never replaced by an error."""
    out: dict[tuple[int, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["seed"], row["strategy"])
        old = out.get(key)
        if old is not None and old["verdict"] in FINISHED_VERDICTS and row["verdict"] not in FINISHED_VERDICTS \
                and old["weights_sha256"] == row["weights_sha256"]:
            continue
        out[key] = row
    return out


def _catalogue_order() -> dict[str, int]:
    from extract.strategies import all_strategies

    return {s.name: i for i, s in enumerate(all_strategies())}


def write_summaries(results_dir: Path) -> list[dict[str, Any]]:
    """Regenerate results.csv and results.json from the journal (atomic replace); returns the rows."""
    results_dir = Path(results_dir)
    order = _catalogue_order()
    rows = sorted(latest_rows(read_journal(results_dir)).values(),
                  key=lambda r: (r["seed"], order.get(r["strategy"], len(order)), r["strategy"]))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (json.dumps(r.get(k), sort_keys=True) if k == "knobs" else
                        ("" if r.get(k) is None else r.get(k))) for k in CSV_COLUMNS})
    _atomic_write(results_dir / RESULTS_CSV, buf.getvalue())
    obj = {"format": RESULTS_FORMAT, "version": RESULTS_VERSION, "columns": list(CSV_COLUMNS), "rows": rows}
    _atomic_write(results_dir / RESULTS_JSON, json.dumps(obj, indent=1, sort_keys=True) + "\n")
    return rows


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# Executors


def iter_results(fn: Callable[[Any], Any], items: Sequence[Any], executor: str, jobs: int,
                 address: str | None = None) -> Iterator[Any]:
    """fn(item) for every item, yielded as they complete, on the chosen executor.

    local: this process when jobs == 1, else a ProcessPoolExecutor of ``jobs`` spawned workers;
    dask: a dask.distributed Client (``address`` of a running scheduler, or a LocalCluster of
    ``jobs`` single-threaded worker processes); ray: ray.init(address or local with ``jobs`` CPUs).
    """
    if not items:
        return iter(())
    if executor == "local":
        return _iter_local(fn, items, jobs)
    if executor == "dask":
        return _iter_dask(fn, items, jobs, address)
    if executor == "ray":
        return _iter_ray(fn, items, jobs, address)
    raise SweepError(f"--executor: {executor!r}; expected local, dask or ray")


def _iter_local(fn, items, jobs):
    if jobs <= 1:
        for item in items:
            yield fn(item)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_limit_threads)
    try:
        pending = {pool.submit(fn, item) for item in items}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                try:
                    yield f.result()
                except BrokenProcessPool:
                    raise WorkerDied("a worker process died (killed from outside, or out of memory); "
                                     "finished rows are kept in the journal: rerun the same command to resume") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _iter_dask(fn, items, jobs, address):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SweepError("--executor dask: dask.distributed is not installed; "
                         "pip install 'compact-proofs[dask]' (or dask[distributed])") from None
    address = address or os.environ.get("COMPACT_PROOFS_DASK_SCHEDULER")
    cluster = None
    if address:
        client = Client(address)
    else:
        cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(fn, list(items), pure=False)
        for f in as_completed(futures):
            yield f.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _apply(fn: Callable[[Any], Any], item: Any) -> Any:
    """fn(item): a plain module-level function for engines that need one (Ray cannot wrap builtins)."""
    return fn(item)


def _iter_ray(fn, items, jobs, address):
    try:
        import ray
    except ImportError:
        raise SweepError("--executor ray: ray is not installed; pip install 'compact-proofs[ray]' (or ray)") from None
    address = address or os.environ.get("COMPACT_PROOFS_RAY_ADDRESS")
    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address)
        else:
            ray.init(num_cpus=max(1, jobs), include_dashboard=False)
        started = True
    try:
        remote = ray.remote(num_cpus=1)(_apply)
        refs = [remote.remote(fn, item) for item in items]
        while refs:
            done, refs = ray.wait(refs, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


# --------------------------------------------------------------------------------------------
# The sweep


@dataclass
class SweepSummary:
    """What a run_sweep call did: rows now in the table, how many were computed or reused."""

    rows: list[dict[str, Any]]
    computed: int
    reused: int
    trained: int
    skipped_strategies: dict[str, str]
    seconds: float

    @property
    def claims_hold(self) -> bool:
        return all(r["verdict"] == "ok" for r in self.rows)


def run_sweep(
    seeds: Sequence[int],
    strategies: Sequence[Any] | str,
    models_dir: Path,
    results_dir: Path,
    jobs: int = 1,
    executor: str = "local",
    *,
    certs_dir: Path | None = None,
    config: ModelConfig | None = None,
    steps: int | None = None,
    checker: str = "subprocess",
    progress: bool = True,
    address: str | None = None,
    runner: Callable[[Job], dict[str, Any]] = run_job,
    log: Callable[[str], None] | None = None,
) -> SweepSummary:
    """Train missing models, then certify + check every (seed, strategy) not finished yet.

    ``strategies``: Strategy objects or a spec string for select_strategies. Families whose search
    or checker module does not import are skipped (reported in ``skipped_strategies``), so they run
    on a later rerun once they exist. ``config``/``steps`` override the paper's model shape and
    training length (tests use tiny models). ``runner`` is the per-job function (picklable).
    """
    t_start = time.perf_counter()
    config = config or ModelConfig()
    steps = TrainConfig().steps if steps is None else steps
    models_dir, results_dir = Path(models_dir), Path(results_dir)
    certs_dir = Path(certs_dir) if certs_dir is not None else results_dir / "certificates"
    if jobs < 1:
        raise SweepError(f"--jobs: {jobs}; expected a positive integer")
    if checker not in ("subprocess", "inprocess"):
        raise SweepError(f"checker mode {checker!r}: expected subprocess or inprocess")
    say = log or (lambda msg: print(msg, file=sys.stderr))
    strats = select_strategies(strategies) if isinstance(strategies, str) else list(strategies)
    if results_dir.exists() and not results_dir.is_dir():
        raise SweepError(f"{results_dir}: not a directory; expected a results folder")
    results_dir.mkdir(parents=True, exist_ok=True)
    lock = _lock_results(results_dir)
    try:
        with _sigterm_as_interrupt():
            return _run_locked(seeds, strats, models_dir, results_dir, certs_dir, jobs, executor, config, steps,
                               checker, progress, address, runner, say, t_start)
    except (KeyboardInterrupt, WorkerDied):
        write_summaries(results_dir)  # the tables then list every row the journal holds
        raise
    finally:
        lock.close()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Within the block, SIGTERM raises KeyboardInterrupt (main thread only), so the worker pool
    is shut down and the summaries are written, as on Ctrl-C; the previous handler is restored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _lock_results(results_dir: Path):
    """An exclusive advisory lock on RESULTS/.lock: one sweep writes a results folder at a time."""
    import fcntl

    f = open(results_dir / ".lock", "w")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise SweepError(f"{results_dir}: another sweep is writing to this results folder; wait for it "
                         f"or use another --results") from None
    return f


def _run_locked(seeds, strats, models_dir, results_dir, certs_dir, jobs, executor, config, steps, checker,
                progress, address, runner, say, t_start) -> SweepSummary:
    done_rows = latest_rows(read_journal(results_dir))  # validates the journal before any work
    repair_journal(results_dir)

    skipped: dict[str, str] = {}
    if runner is run_job:
        reasons = {f: unavailable_reason(f) for f in sorted({s.family for s in strats})}
        skipped = {f: r for f, r in reasons.items() if r is not None}
        for f, r in skipped.items():
            say(f"sweep: skipping family {f}: {r}")
        strats = [s for s in strats if s.family not in skipped]

    # Phase 1: models.
    missing = [s for s in seeds if not model_file(models_dir, s).exists()]
    trained = 0
    if missing:
        tjobs = [TrainJob(s, config, steps, str(models_dir)) for s in missing]
        bar = _bar(progress, len(tjobs), "training")
        for res in iter_results(train_job, tjobs, executor, jobs, address):
            trained += bool(res["trained"])
            bar.update(1)
        bar.close()
    shas = {s: _sha_of(model_file(models_dir, s), config) for s in seeds}

    # Phase 2: certify + check.
    all_jobs = [Job(s, st.name, str(model_file(models_dir, s)), shas[s], str(certs_dir), config, checker)
                for s in seeds for st in strats]
    pending = []
    reused = 0
    for j in all_jobs:
        old = done_rows.get(j.key)
        if old is not None and old["verdict"] in FINISHED_VERDICTS and old["weights_sha256"] == j.weights_sha256:
            reused += 1
        else:
            pending.append(j)
    if reused:
        say(f"sweep: {reused} finished rows reused from {results_dir / JOURNAL}, {len(pending)} to compute")
    computed = 0
    bar = _bar(progress, len(pending), "certify+check")
    try:
        for row in iter_results(runner, pending, executor, jobs, address):
            append_row(results_dir, row)
            computed += 1
            bar.set_postfix_str(f"{row['seed']} {row['strategy'][:40]} {row['verdict']}", refresh=False)
            bar.update(1)
    finally:
        bar.close()
        rows = write_summaries(results_dir)
    wanted = {j.key for j in all_jobs}
    rows = [r for r in rows if (r["seed"], r["strategy"]) in wanted]
    return SweepSummary(rows, computed, reused, trained, skipped, time.perf_counter() - t_start)


def _sha_of(path: Path, config: ModelConfig) -> str:
    from extract.certificate import weights_sha256

    return weights_sha256(load_weights(path, config))


class _NoBar:
    def update(self, n: int = 1) -> None: ...
    def set_postfix_str(self, s: str, refresh: bool = True) -> None: ...
    def close(self) -> None: ...


def _bar(progress: bool, total: int, desc: str):
    if not progress or total == 0:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="job", dynamic_ncols=True, file=sys.stderr)


# --------------------------------------------------------------------------------------------
# Command line (registered into `compact-proofs` by extract/cli.py)


def add_sweep_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``sweep`` and ``report`` subcommands (each sets ``func``)."""
    s = subparsers.add_parser("sweep", help="train, certify and check many (seed, strategy) pairs; resumable")
    s.add_argument("--seeds", default="paper", help="paper (the 151 seeds) or S1,S2,... (default paper)")
    s.add_argument("--strategies", default="all", help="all | FAMILY[,FAMILY] | full strategy names (default all)")
    s.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel workers (default: cores)")
    s.add_argument("--executor", choices=("local", "dask", "ray"), default="local",
                   help="local processes (default), or an existing Dask/Ray installation")
    s.add_argument("--address", default=None, help="scheduler address for dask/ray (default: start a local one)")
    s.add_argument("--results", type=Path, default=Path("out/sweep"), help="results folder (default out/sweep)")
    s.add_argument("--certs", type=Path, default=None, help="certificates folder (default RESULTS/certificates)")
    s.add_argument("--steps", type=int, default=TrainConfig().steps, help="training steps for missing models")
    s.add_argument("--shape", type=parse_shape, default=ModelConfig(), metavar="V,N,D,DH",
                   help="model shape d_vocab,n_ctx,d_model,d_head (default 64,4,32,32, the paper's)")
    s.add_argument("--checker", choices=("subprocess", "inprocess"), default="subprocess",
                   help="run the checker in a fresh process per certificate (default) or in the worker")
    s.add_argument("--no-report", action="store_true", help="do not write the report at the end")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=cmd_sweep)

    r = subparsers.add_parser("report", help="markdown summary, Pareto frontiers and plots of sweep results")
    r.add_argument("--results", type=Path, default=Path("out/sweep"), help="results folder (default out/sweep)")
    r.add_argument("--out", type=Path, default=None, help="report folder (default RESULTS/report)")
    r.add_argument("--json", action="store_true", help="print the summary as JSON instead of markdown")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    r.set_defaults(func=cmd_report)


def parse_shape(text: str) -> ModelConfig:
    """``V,N,D,DH`` -> ModelConfig (argparse type: ValueError/TypeError become a usage error)."""
    parts = text.split(",")
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"{text!r}: expected four integers d_vocab,n_ctx,d_model,d_head")
    try:
        return ModelConfig(*(int(p) for p in parts))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None


def _user_error(msg: str) -> Exception:
    from extract.errors import UserError

    return UserError(msg)


def cmd_sweep(args: argparse.Namespace) -> int:
    try:
        summary = run_sweep(parse_seeds(args.seeds), args.strategies, args.models_dir, args.results,
                            jobs=args.jobs, executor=args.executor, certs_dir=args.certs, steps=args.steps,
                            config=args.shape,
                            checker=args.checker, progress=not args.quiet, address=args.address)
        counts = {v: sum(r["verdict"] == v for r in summary.rows) for v in VERDICTS}
        print(f"sweep: {len(summary.rows)} rows ({summary.computed} computed, {summary.reused} reused, "
              f"{summary.trained} models trained) in {summary.seconds:.1f} s; "
              + ", ".join(f"{k} {n}" for k, n in counts.items()))
        print(f"results: {args.results / RESULTS_CSV}, {args.results / RESULTS_JSON}")
        if not args.no_report and summary.rows:
            from extract.report import write_report

            paths = write_report(args.results, args.results / "report")
            print(f"report: {paths['markdown']}")
    except SweepError as e:
        raise _user_error(str(e)) from None
    except KeyboardInterrupt:
        print(f"sweep interrupted: finished rows are kept in {args.results / JOURNAL} and the tables; "
              "rerun the same command to resume", file=sys.stderr)
        return 130
    return 0 if summary.claims_hold and not summary.skipped_strategies else 1


def cmd_report(args: argparse.Namespace) -> int:
    from extract.report import ReportError, summary_json, write_report

    try:
        out = args.out or args.results / "report"
        paths = write_report(args.results, out, plots=not args.no_plots)
        if args.json:
            print(json.dumps(summary_json(args.results), indent=1, sort_keys=True))
        else:
            print(Path(paths["markdown"]).read_text())
            print(f"report written to {out}")
    except (ReportError, SweepError) as e:
        raise _user_error(str(e)) from None
    return 0


__all__ = [
    "Job", "TrainJob", "CheckOutcome", "SweepError", "SweepSummary", "run_sweep", "run_job", "train_job",
    "read_journal", "append_row", "write_summaries", "latest_rows", "iter_results", "select_strategies",
    "parse_seeds", "add_sweep_parsers", "check_certificate_file", "make_row",
]
