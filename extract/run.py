"""The main job (`compact-proofs run`): the showcase model, every strategy, checked, tabulated, reported.

It is the sweep restricted to one seed: train the model if missing, certify with every requested
strategy, run the independent checker (a separate process) on every certificate, print one table
line per strategy, and write the report (markdown, JSON summary, plots) into ``out_dir``. Finished
rows are reused on a rerun with the same model (see docs/sweep.md). Exit code 0 only when every
requested strategy ran and every claim holds.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from extract.config import ModelConfig
from extract.job import run_job
from extract.report import write_report
from extract.sweep import run_sweep, select_strategies

TABLE_COLUMNS = ("strategy", "bound", "certified/claimed", "ops", "check s", "verdict")


def run_showcase(
    seed: int,
    models_dir: Path,
    out_dir: Path,
    strategies: str = "all",
    as_json: bool = False,
    *,
    jobs: int | None = None,
    config: ModelConfig | None = None,
    steps: int | None = None,
    runner: Callable[..., dict[str, Any]] = run_job,
    out=None,
) -> int:
    """Train (if missing), certify, check and report one model; the process exit code.

    0: every requested strategy ran and the checker accepted every claim; 1: some claim failed,
    some certificate was malformed, some search crashed, or a requested family is not installed.
    Bad options raise extract.errors.SweepError, a UserError (exit 2). ``jobs``/``config``/``steps``/``runner`` are
    for tests and benchmarks (defaults: all cores, the paper's model, 3000 steps, the real job).
    """
    out = out or sys.stdout
    out_dir = Path(out_dir)
    summary = run_sweep(  # bad options raise SweepError, a UserError
        [seed], select_strategies(strategies), Path(models_dir), out_dir / "results",
        jobs=jobs or os.cpu_count() or 1, certs_dir=out_dir / "certificates", config=config, steps=steps,
        progress=not as_json, runner=runner,
    )
    report_paths: dict[str, str] = {}
    if summary.rows:
        report_paths = write_report(out_dir / "results", out_dir)
    ok = summary.claims_hold and not summary.skipped_strategies
    if as_json:
        print(json.dumps({
            "seed": seed,
            "ok": ok,
            "rows": summary.rows,
            "computed": summary.computed,
            "reused": summary.reused,
            "seconds": summary.seconds,
            "skipped_families": summary.skipped_strategies,
            "report": report_paths,
        }, indent=1, sort_keys=True), file=out)
    else:
        print(format_table(summary.rows), file=out)
        n_ok = sum(r["verdict"] == "ok" for r in summary.rows)
        print(f"\nseed {seed}: {n_ok}/{len(summary.rows)} claims hold "
              f"({summary.computed} computed, {summary.reused} reused, {summary.seconds:.1f} s)", file=out)
        for fam, why in summary.skipped_strategies.items():
            print(f"NOT RUN: {fam}: {why}", file=out)
        if report_paths:
            print("report: " + ", ".join(report_paths.values()), file=out)
    return 0 if ok else 1


def format_table(rows: list[dict[str, Any]]) -> str:
    """A fixed-width table: strategy, bound, certified/claimed, ops, check seconds, verdict."""
    body = []
    for r in rows:
        certified = "-" if r["certified"] is None else str(r["certified"])
        claimed = "-" if r["claimed"] is None else str(r["claimed"])
        body.append((
            r["strategy"],
            r["bound_decimal"][:8] if r["bound_decimal"] else "-",
            f"{certified}/{claimed}",
            "-" if r["ops"] is None else f"{r['ops']:.3e}",
            "-" if r["check_seconds"] is None else f"{r['check_seconds']:.3f}",
            r["verdict"] + (f" ({r['message'][:80]})" if r["verdict"] != "ok" and r.get("message") else ""),
        ))
    widths = [max([len(h)] + [len(b[i]) for b in body]) for i, h in enumerate(TABLE_COLUMNS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(TABLE_COLUMNS, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths)).rstrip() for b in body]
    return "\n".join(lines)
