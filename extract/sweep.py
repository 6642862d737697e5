"""The sweep's scheduling: which (seed, strategy) jobs to run, in which order, and on what.

``run_sweep`` trains the missing models (extract/models.py), reads the weight hash and recorded
recipe of every model once, skips every (seed, strategy) whose journal row is finished for the
same weights (extract/journal.py), runs the rest (extract/job.py) on an executor
(extract/executors.py), journals each row as it arrives, and regenerates the summary tables.

Claims: a rerun recomputes no finished row of the same weights (the journal is the record);
killing a sweep loses at most the rows still being computed; a model trained with another
recorded recipe than the one asked for stops the sweep with one line before any job runs.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from checker.registry import strategy_module
from extract.config import ModelConfig, TrainConfig
from extract.errors import SweepError
from extract.executors import WorkerDied, iter_results
from extract.job import CHECKER_MODES, Job, run_job
from extract.journal import (
    FINISHED_VERDICTS,
    JOURNAL,
    append_row,
    latest_rows,
    lock_results,
    model_label,
    row_key,
    read_journal,
    repair_journal,
    set_aside_corrupt_lines,
    write_summaries,
)
from extract.models import ModelInfo, TrainJob, inspect_model, model_path, paper_seeds, train_job
from extract.strategies import SEARCH_MODULES, Strategy, all_strategies, parse_strategy

# --------------------------------------------------------------------------------------------
# What to run


def strategy_by_name(name: str) -> Strategy:
    """The catalogue Strategy named ``name`` (``family`` or ``family:variant``); SweepError otherwise."""
    family, _, variant = name.partition(":")
    try:
        return parse_strategy(family, variant or None)
    except ValueError as e:
        raise SweepError(f"strategy {name!r}: {e}") from None


def select_strategies(spec: str) -> list[Strategy]:
    """``all`` (the 102 of the catalogue), or a comma-separated list of families and/or full names."""
    catalogue = all_strategies()
    if spec.strip() == "all":
        return catalogue
    out: list[Strategy] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        matches = [s for s in catalogue if s.family == item or s.name == item]
        if not matches:
            if item in ("single-sequence", "cubic-sharp", "refine") or item.startswith(("subcubic:", "refine:")):
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
    try:
        importlib.import_module(SEARCH_MODULES[family])
    except Exception as e:  # noqa: BLE001 - any import failure means "not available"
        return f"search module {SEARCH_MODULES[family]} does not import ({type(e).__name__}: {e})"
    try:
        strategy_module(family)
    except Exception as e:  # noqa: BLE001
        return f"checker module for {family!r} does not import ({type(e).__name__}: {e})"
    return None


def parse_seeds(spec: str) -> list[int]:
    """``paper`` (the 151 paper seeds) or ``S1,S2,...`` (non-negative integers, duplicates
    dropped; an empty item, as in ``1,,2`` or ``1,``, is an error)."""
    if spec.strip() == "paper":
        return paper_seeds()
    if not spec.strip():
        raise SweepError("--seeds: empty list; expected paper or S1,S2,...")
    seeds: list[int] = []
    for tok in (t.strip() for t in spec.split(",")):
        if not tok:
            raise SweepError(f"--seeds: empty item in {spec!r}; expected paper or S1,S2,... (no empty items)")
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


@dataclass(frozen=True)
class _Plan:
    """The resolved options of one run_sweep call."""

    seeds: tuple[int, ...]
    strategies: tuple[Strategy, ...]
    models_dir: Path
    results_dir: Path
    certs_dir: Path
    jobs: int
    executor: str
    config: ModelConfig
    steps: int
    checker: str
    progress: bool
    address: str | None
    runner: Callable[[Job], dict[str, Any]]
    say: Callable[[str], None]
    model_files: tuple[Path, ...] = ()
    max_ops: int | None = None


def run_sweep(
    seeds: Sequence[int],
    strategies: Sequence[Strategy] | str,
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
    model_files: Sequence[Path] = (),
    max_ops: int | None = None,
) -> SweepSummary:
    """Train missing models, then certify + check every (seed, strategy) not finished yet.

    ``strategies``: Strategy objects or a spec string for select_strategies. Families whose search
    or checker module does not import are skipped (reported in ``skipped_strategies``), so they run
    on a later rerun once they exist. ``config``/``steps`` override the paper's model shape and
    training length (tests use tiny models); an existing model must record the recipe
    TrainConfig(seed, steps) or none. ``runner`` is the per-job function (picklable).
    ``model_files``: models given as files (any shape, any origin) certified besides the seeds;
    their rows name the file (``model``) and its weights' hash instead of a seed. ``max_ops``: the
    checker's work budget for every certificate (None: the checker's default).
    """
    t_start = time.perf_counter()
    # Absolute paths: jobs may run on workers of an existing cluster started in another folder.
    results_dir, models_dir = Path(results_dir).resolve(), Path(models_dir).resolve()
    certs_dir = Path(certs_dir).resolve() if certs_dir is not None else None
    if jobs < 1:
        raise SweepError(f"--jobs: {jobs}; expected a positive integer")
    if checker not in CHECKER_MODES:
        raise SweepError(f"checker mode {checker!r}: expected subprocess or inprocess")
    plan = _Plan(
        seeds=tuple(seeds),
        strategies=tuple(select_strategies(strategies) if isinstance(strategies, str) else strategies),
        models_dir=Path(models_dir), results_dir=results_dir,
        certs_dir=Path(certs_dir) if certs_dir is not None else results_dir / "certificates",
        jobs=jobs, executor=executor, config=config or ModelConfig(),
        steps=TrainConfig().steps if steps is None else steps, checker=checker, progress=progress,
        address=address, runner=runner, say=log or (lambda msg: print(msg, file=sys.stderr)),
        model_files=tuple(Path(p) for p in model_files), max_ops=max_ops,
    )
    if not plan.seeds and not plan.model_files:
        raise SweepError("nothing to sweep: expected --seeds or model files (--models, --models-glob)")
    if results_dir.exists() and not results_dir.is_dir():
        raise SweepError(f"{results_dir}: not a directory; expected a results folder")
    results_dir.mkdir(parents=True, exist_ok=True)
    lock = lock_results(results_dir)
    try:
        with _sigterm_as_interrupt():
            return _run_locked(plan, t_start)
    except (KeyboardInterrupt, WorkerDied):
        _tables_if_possible(results_dir)  # the tables then list every row the journal holds
        raise
    finally:
        lock.close()


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
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


def _run_locked(plan: _Plan, t_start: float) -> SweepSummary:
    try:
        for note in set_aside_corrupt_lines(plan.results_dir):
            plan.say(f"sweep: {note}")
        repair_journal(plan.results_dir)
    except OSError as e:
        raise _disk_error(plan.results_dir, e, "repair the journal") from None
    done_rows = latest_rows(read_journal(plan.results_dir))

    strats = list(plan.strategies)
    skipped: dict[str, str] = {}
    if plan.runner is run_job:
        reasons = {f: unavailable_reason(f) for f in sorted({s.family for s in strats})}
        skipped = {f: r for f, r in reasons.items() if r is not None}
        for f, r in skipped.items():
            plan.say(f"sweep: skipping family {f}: {r}")
        strats = [s for s in strats if s.family not in skipped]

    files = {p: inspect_model(p, None, None) for p in plan.model_files}  # unreadable files stop the sweep here
    models, trained = _models(plan)

    all_jobs = [Job(s, st, str(models[s].path), models[s].weights_sha256, str(plan.certs_dir), plan.config,
                    plan.checker, models[s].recipe, max_ops=plan.max_ops)
                for s in plan.seeds for st in strats]
    for path, info in files.items():
        all_jobs += [Job(None, st, str(path), info.weights_sha256, str(plan.certs_dir), info.config, plan.checker,
                         info.recipe, model=str(path), max_ops=plan.max_ops) for st in strats]
    pending = []
    reused = 0
    for j in all_jobs:
        old = done_rows.get(j.key)
        if old is not None and old["verdict"] in FINISHED_VERDICTS and old["weights_sha256"] == j.weights_sha256:
            reused += 1
        else:
            pending.append(j)
    if reused:
        plan.say(f"sweep: {reused} finished rows reused from {plan.results_dir / JOURNAL}, {len(pending)} to compute")
    computed = 0
    bar = _bar(plan.progress, len(pending), "certify+check")
    try:
        for row in iter_results(plan.runner, pending, plan.executor, plan.jobs, plan.address):
            try:
                append_row(plan.results_dir, row)
            except OSError as e:
                raise _disk_error(plan.results_dir, e, "record a finished row") from None
            computed += 1
            bar.set_postfix_str(f"{model_label(row)[-30:]} {row['strategy'][:40]} {row['verdict']}", refresh=False)
            bar.update(1)
    except BaseException:
        bar.close()
        _tables_if_possible(plan.results_dir)
        raise
    bar.close()
    try:
        rows = write_summaries(plan.results_dir)
    except OSError as e:
        raise _disk_error(plan.results_dir, e, "write results.csv/results.json") from None
    wanted = {j.key for j in all_jobs}
    rows = [r for r in rows if row_key(r) in wanted]
    return SweepSummary(rows, computed, reused, trained, skipped, time.perf_counter() - t_start)


def _models(plan: _Plan) -> tuple[dict[int, ModelInfo], int]:
    """Every seed's model, read once: existing files are checked against the asked recipe before
    anything is trained; missing ones are trained on the executor. Returns (seed -> info, trained)."""
    paths = {s: model_path(plan.models_dir, s, plan.config) for s in plan.seeds}
    infos = {s: inspect_model(p, plan.config, TrainConfig(seed=s, steps=plan.steps))
             for s, p in paths.items() if p.exists()}
    missing = [s for s in plan.seeds if s not in infos]
    trained = 0
    if missing:
        tjobs = [TrainJob(s, plan.config, plan.steps, str(plan.models_dir)) for s in missing]
        bar = _bar(plan.progress, len(tjobs), "training")
        try:
            for res in iter_results(train_job, tjobs, plan.executor, plan.jobs, plan.address):
                trained += bool(res["trained"])
                bar.update(1)
        except OSError as e:
            raise SweepError(f"{plan.models_dir}: cannot write a trained model: {os.strerror(e.errno) if e.errno else e}; "
                             "models written before are kept: free space and rerun the same command") from None
        finally:
            bar.close()
        for s in missing:
            infos[s] = inspect_model(paths[s], plan.config, TrainConfig(seed=s, steps=plan.steps))
    return infos, trained


def _disk_error(results_dir: Path, e: OSError, what: str) -> SweepError:
    """One line for a failed write (disk full, read-only, ...): what failed, and how to go on."""
    why = os.strerror(e.errno) if e.errno else str(e)
    return SweepError(f"{results_dir / JOURNAL}: cannot {what}: {why}; every row recorded before is kept; "
                      "free space (or fix the folder) and rerun the same command to resume")


def _tables_if_possible(results_dir: Path) -> None:
    """Regenerate the tables on the way out of a failed sweep; a second failure (e.g. the disk
    is still full) must not hide the first, and the journal stays the record either way."""
    with contextlib.suppress(OSError, SweepError):
        write_summaries(results_dir)


class _NoBar:
    def update(self, n: int = 1) -> None: ...
    def set_postfix_str(self, s: str, refresh: bool = True) -> None: ...
    def close(self) -> None: ...


def _bar(progress: bool, total: int, desc: str) -> Any:
    if not progress or total == 0:
        return _NoBar()
    return tqdm(total=total, desc=desc, unit="job", dynamic_ncols=True, file=sys.stderr)
