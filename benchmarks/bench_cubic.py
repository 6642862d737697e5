"""Benchmark of the cubic strategy: exact check time, operation count and bound per model.

Usage: python benchmarks/bench_cubic.py [--seeds 123,50,...] [--paper N] [--models-dir models]
                                         [--no-train] [--no-brute-force]

For the showcase model (seed 123) and the first N paper seeds (default 10;
extract/data/paper_seeds_max_of_4.txt) it trains missing models with the paper's recipe
(models/seed-S.safetensors), then for each model:
- runs the exact checker (checker.verify.check_certificate on a freshly built and strictly
  loaded cubic certificate): certified count, bound, operations, seconds;
- as the baseline measured in the same run, evaluates the same cubic bound in float64 numpy
  (extract.search.cubic.float_cubic_count, no rigour): count and seconds, and the ratio of the
  exact check time to it;
- the float brute-force accuracy (extract.accuracy.float_brute_force), for comparison.
It prints one row per model and mean +- std (sample) over the models.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

from checker.load import load_certificate_obj  # noqa: E402
from checker.verify import check_certificate  # noqa: E402
from extract.certificate import build_certificate  # noqa: E402
from extract.config import TrainConfig  # noqa: E402
from extract.models import model_path, paper_seeds, train_seed  # noqa: E402
from extract.search.cubic import float_cubic_count  # noqa: E402
from extract.weights import load_model  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="123", help="comma-separated seeds checked first (default 123, the showcase)")
    p.add_argument("--paper", type=int, default=10, help="also the first N paper seeds (default 10)")
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--no-train", action="store_true", help="skip seeds whose model file is missing")
    p.add_argument("--no-brute-force", action="store_true", help="skip the float brute-force accuracy")
    args = p.parse_args(argv)
    torch.set_num_threads(1)

    seeds: list[int] = []
    for s in [int(x) for x in args.seeds.split(",") if x] + paper_seeds()[: args.paper]:
        if s not in seeds:
            seeds.append(s)

    print(f"{'seed':>6} {'certified':>9} {'bound':>7} {'float_bnd':>9} {'brute_acc':>9} "
          f"{'check_s':>7} {'ops':>9} {'float_s':>7} {'ratio':>6}")
    rows = []
    for seed in seeds:
        path = model_path(args.models_dir, seed)
        if not path.exists():
            if args.no_train:
                print(f"{seed:>6} (no model file, skipped)")
                continue
            t = time.perf_counter()
            train_seed(seed, args.models_dir, TrainConfig().steps, progress=False)
            print(f"{seed:>6} (trained in {time.perf_counter() - t:.1f} s)", file=sys.stderr)
        w = load_model(path)
        total = w.config.n_sequences
        cert = load_certificate_obj(build_certificate(w, "cubic", {}, {}, 0), str(path))
        verdict = check_certificate(cert)
        check_s = verdict.wall_ns / 1e9
        t = time.perf_counter()
        fcount = float_cubic_count(w)
        float_s = time.perf_counter() - t
        brute = None
        if not args.no_brute_force:
            from extract.accuracy import float_brute_force

            brute = float_brute_force(w).accuracy
        row = dict(seed=seed, certified=verdict.certified, bound=verdict.certified / total, float_bound=fcount / total,
                   brute=brute, check_s=check_s, ops=verdict.ops, float_s=float_s)
        rows.append(row)
        bs = f"{brute:9.5f}" if brute is not None else f"{'-':>9}"
        print(f"{seed:>6} {verdict.certified:>9} {row['bound']:7.4f} {row['float_bound']:9.4f} {bs} "
              f"{check_s:7.2f} {verdict.ops:9.3g} {float_s:7.3f} {check_s / float_s:6.0f}", flush=True)

    if len(rows) >= 2:
        def ms(key: str) -> str:
            vals = [r[key] for r in rows if r[key] is not None]
            return f"{statistics.mean(vals):.4f} +- {statistics.stdev(vals):.4f} (min {min(vals):.4f}, max {max(vals):.4f})"

        print(f"models: {len(rows)}")
        print(f"exact cubic bound : {ms('bound')}")
        print(f"float cubic bound : {ms('float_bound')}")
        if not args.no_brute_force:
            print(f"float brute force : {ms('brute')}")
        print(f"exact check time s: {ms('check_s')}")
        print(f"float64 cubic s   : {ms('float_s')}")
        print(f"ops per check     : {statistics.mean(r['ops'] for r in rows):.4g}")
        print("reference (paper): cubic bound 0.9531 +- 0.0087 over 151 seeds, about 3.5e7 FLOPs, about 39 s per model")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
