"""Benchmark of the sweep: time per (model, strategy) on a few seeds, and an estimate of the full
151 models x 102 strategies sweep on 2 cores, with where the time goes.

Runs a fresh sweep (serial, one job at a time, so per-job times are not inflated by our own
parallelism) into a temporary results folder, over the given seeds and a sample of strategies,
then prints:
  - per family: mean search time, mean check time (the checker's own wall time), mean job wall
    time including overheads (model load, certificate write, checker process start), and each
    ratio to the cubic job measured in the same run (the baseline);
  - the training time of one model (trained in this run when --train is given, else the mean of
    the models trained by this run, else not measured);
  - the estimate: 151 x (train + sum over the 102 strategies of the family's mean job time) / jobs,
    assuming perfect parallelism over `--jobs` workers (2 cores by default).

Usage (full-size models, a few minutes):
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_sweep.py --seeds 123,50 --subcubic-sample 10
Smoke test on a tiny shape:
    python benchmarks/bench_sweep.py --shape 6,3,8,8 --steps 50 --seeds 1,2 --models-dir /tmp/bench-models
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from extract.config import ModelConfig, TrainConfig  # noqa: E402
from extract.strategies import all_strategies  # noqa: E402
from extract.cli import parse_shape  # noqa: E402
from extract.models import TrainJob, train_job  # noqa: E402
from extract.models import model_path as model_file  # noqa: E402
from extract.sweep import run_sweep, unavailable_reason  # noqa: E402

PAPER_MODELS = 151


def sample_strategies(subcubic_sample: int) -> list:
    """Brute force, cubic, and ``subcubic_sample`` subcubic variants spread evenly over the 100."""
    cat = all_strategies()
    sub = [s for s in cat if s.family == "subcubic"]
    k = max(0, min(subcubic_sample, len(sub)))
    picked = [sub[round(i * (len(sub) - 1) / max(k - 1, 1))] for i in range(k)] if k else []
    return [s for s in cat if s.family != "subcubic"] + list(dict.fromkeys(picked))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", default="123", help="comma-separated seeds (default 123)")
    p.add_argument("--subcubic-sample", type=int, default=10, help="subcubic variants to time (default 10 of 100)")
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--shape", type=parse_shape, default=ModelConfig())
    p.add_argument("--steps", type=int, default=TrainConfig().steps)
    p.add_argument("--jobs", type=int, default=2, help="workers assumed by the full-sweep estimate (default 2)")
    p.add_argument("--train", action="store_true",
                   help="time training one model from scratch even if every model exists (missing ones are always timed)")
    p.add_argument("--checker", choices=("subprocess", "inprocess"), default="subprocess")
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    strategies = sample_strategies(args.subcubic_sample)
    missing_families = {f: unavailable_reason(f) for f in sorted({s.family for s in strategies})}
    missing_families = {f: r for f, r in missing_families.items() if r}
    strategies = [s for s in strategies if s.family not in missing_families]

    train_seconds: list[float] = []
    for s in seeds:  # missing models are trained (and timed) first, so the sweep below is job time only
        if not model_file(args.models_dir, s).exists():
            train_seconds.append(train_job(TrainJob(s, args.shape, args.steps, str(args.models_dir)))["seconds"])
    if args.train and not train_seconds:
        with tempfile.TemporaryDirectory() as tmp:
            res = train_job(TrainJob(seeds[0], args.shape, args.steps, tmp))
            train_seconds.append(res["seconds"])
    with tempfile.TemporaryDirectory() as results:
        t0 = time.perf_counter()
        summary = run_sweep(seeds, strategies, args.models_dir, Path(results), jobs=1, config=args.shape,
                            steps=args.steps, checker=args.checker, progress=True, log=lambda m: None)
        wall = time.perf_counter() - t0
    rows = summary.rows
    by_family: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_family[r["family"]].append(r)

    def mean(xs):
        xs = [x for x in xs if x is not None]
        return statistics.fmean(xs) if xs else float("nan")

    search_total = sum(r["search_seconds"] or 0 for r in rows)
    check_total = sum(r["check_seconds"] or 0 for r in rows)
    overhead_total = wall - search_total - check_total
    overhead_per_job = overhead_total / max(len(rows), 1)

    print(f"\nmeasured: {len(seeds)} model(s) x {len(strategies)} strategies = {len(rows)} jobs, serial, "
          f"shape {args.shape.d_vocab},{args.shape.n_ctx},{args.shape.d_model},{args.shape.d_head}, "
          f"checker {args.checker}, wall {wall:.1f} s")
    print(f"where the time goes: search {search_total:.1f} s ({100 * search_total / wall:.0f}%), "
          f"check {check_total:.1f} s ({100 * check_total / wall:.0f}%), "
          "overhead (model load, hashing, certificate I/O, checker process start) "
          f"{overhead_total:.1f} s ({100 * overhead_total / wall:.0f}%, {overhead_per_job:.2f} s/job)")
    verdicts = defaultdict(int)
    for r in rows:
        verdicts[r["verdict"]] += 1
    print("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))

    per_family_job: dict[str, float] = {}
    for fam, rs in by_family.items():
        per_family_job[fam] = mean([(r["search_seconds"] or 0) + (r["check_seconds"] or 0) for r in rs]) + overhead_per_job
    base = per_family_job.get("cubic")
    print(f"\n{'family':<12} {'jobs':>4} {'search s':>9} {'check s':>8} {'job s':>7} {'job/cubic':>9} {'check ops':>10}")
    for fam in sorted(by_family):
        rs = by_family[fam]
        ratio = per_family_job[fam] / base if base else float("nan")
        print(f"{fam:<12} {len(rs):>4} {mean([r['search_seconds'] for r in rs]):>9.2f} "
              f"{mean([r['check_seconds'] for r in rs]):>8.2f} {per_family_job[fam]:>7.2f} {ratio:>9.2f} "
              f"{mean([r['ops'] for r in rs]):>10.3g}")

    n_per_family = defaultdict(int)
    for s in all_strategies():
        n_per_family[s.family] += 1
    t_train = mean(train_seconds) if train_seconds else None
    per_model = sum(n_per_family[f] * per_family_job[f] for f in per_family_job)
    print(f"\ntraining one model: {'not measured (pass --train)' if t_train is None else f'{t_train:.1f} s'}"
          + (f" (mean of {len(train_seconds)})" if len(train_seconds) > 1 else ""))
    estimate = PAPER_MODELS * (per_model + (t_train or 0)) / args.jobs
    covered = ", ".join(f"{f} x{n_per_family[f]}" for f in sorted(per_family_job))
    print(f"per model, all measured families ({covered}): {per_model:.0f} s of jobs"
          + ("" if t_train is None else f" + {t_train:.0f} s training"))
    print(f"ESTIMATE full sweep {PAPER_MODELS} models x 102 strategies on {args.jobs} workers: "
          f"{estimate / 3600:.2f} h ({estimate:.0f} s), assuming perfect parallelism")
    if missing_families:
        print("NOT IN THE ESTIMATE (not available): " + "; ".join(f"{f}: {r}" for f, r in missing_families.items()))
    if t_train is None:
        print("NOT IN THE ESTIMATE: training (pass --train to measure it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
