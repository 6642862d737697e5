"""Benchmark of the sweep's executors: wall time of the same sweep on local --jobs 1 (the
baseline), local --jobs J, and a local Dask / Ray cluster of J workers, with each speed-up
measured against the baseline of the same run.

The models must exist (training is excluded from the timing: run the sweep or `compact-proofs
train --config NAME` first); every mode sweeps the same seeds x strategies into a fresh temporary
results folder, with the real search and the independent checker process per certificate.
Cluster start-up is part of a mode's time (a sweep run pays it too): on a 2-core machine the
speed-up is at most 2 minus that overhead.

Usage (K = 5 cubic, 8 seeds, about 1-2 min CPU per mode on a quiet machine):
    python benchmarks/bench_executors.py --config k5 --seeds 50,104,123,519,742,913,1185,1283
Smoke test (tiny shape, models trained into the folder given):
    python benchmarks/bench_executors.py --shape 6,3,8,8 --steps 50 --seeds 1,2,3,4 --models-dir /tmp/bench-models --train
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from extract.cli import parse_config, parse_shape  # noqa: E402
from extract.config import ModelConfig, TrainConfig, config_name  # noqa: E402
from extract.models import TrainJob, model_path, train_job  # noqa: E402
from extract.sweep import run_sweep  # noqa: E402


def time_mode(executor: str, jobs: int, seeds: list[int], strategies: str, models_dir: Path, config: ModelConfig,
              steps: int) -> tuple[float, int]:
    """Wall seconds of one sweep (fresh results folder) and its number of ok rows."""
    with tempfile.TemporaryDirectory(prefix=f"bench-exec-{executor}-") as tmp:
        t0 = time.perf_counter()
        summary = run_sweep(seeds, strategies, models_dir, Path(tmp) / "res", jobs=jobs, executor=executor,
                            config=config, steps=steps, progress=False, log=lambda m: None)
        seconds = time.perf_counter() - t0
    return seconds, sum(r["verdict"] == "ok" for r in summary.rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", default="50,104,123,519", help="comma-separated seeds (default 50,104,123,519)")
    p.add_argument("--strategies", default="cubic", help="strategy spec as for `sweep` (default cubic)")
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    g = p.add_mutually_exclusive_group()
    g.add_argument("--config", type=parse_config, default=None, help="named configuration (default k4)")
    g.add_argument("--shape", type=parse_shape, default=None, help="V,N,D,DH")
    p.add_argument("--steps", type=int, default=TrainConfig().steps)
    p.add_argument("--jobs", type=int, default=2, help="workers of the parallel modes (default 2)")
    p.add_argument("--modes", default="local,dask,ray", help="parallel modes to time after the baseline")
    p.add_argument("--train", action="store_true", help="train missing models first (not timed)")
    args = p.parse_args(argv)
    config = args.config or args.shape or ModelConfig()
    seeds = [int(s) for s in args.seeds.split(",")]
    missing = [s for s in seeds if not model_path(args.models_dir, s, config).exists()]
    if missing and not args.train:
        print(f"models missing for seeds {missing} in {args.models_dir} ({config_name(config)}); "
              "train them first or pass --train", file=sys.stderr)
        return 2
    for s in missing:
        train_job(TrainJob(s, config, args.steps, str(args.models_dir.resolve())))
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    print(f"configuration {config_name(config)}, seeds {seeds}, strategies {args.strategies}, "
          f"{os.cpu_count()} cores, load average before: {load}")
    modes = [("local", 1)] + [(m, args.jobs) for m in args.modes.split(",") if m]
    base = None
    print(f"{'executor':<8} {'jobs':>4} {'ok rows':>7} {'wall s':>8} {'speed-up':>8}")
    for executor, jobs in modes:
        module = {"dask": "distributed", "ray": "ray"}.get(executor)
        if module and importlib.util.find_spec(module) is None:
            print(f"{executor:<8} {jobs:>4}  (not installed)")
            continue
        seconds, ok = time_mode(executor, jobs, seeds, args.strategies, args.models_dir, config, args.steps)
        base = base or seconds
        print(f"{executor:<8} {jobs:>4} {ok:>7} {seconds:>8.1f} {base / seconds:>7.2f}x", flush=True)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    print(f"load average after: {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
