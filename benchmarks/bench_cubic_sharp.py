"""Benchmark: cubic vs cubic-sharp (certified count, bound, checker operations, cost bound, time).

Usage: python benchmarks/bench_cubic_sharp.py [--seeds 123,...] [--paper N] [--models-dir models]
                                              [--no-train] [--jsonl rows.jsonl]

For the showcase model (seed 123) and the first N paper seeds (default 10;
extract/data/paper_seeds_max_of_4.txt) it trains missing models with the paper's recipe
(models/seed-S.safetensors; skipped with --no-train), builds a strictly loaded certificate
of each strategy and runs the exact checker of each (checker.verify.check_certificate):
certified count, bound = count / v^n, counted operations, wall seconds, and the header
cost bound of cubic-sharp (checker.strategies.cubic_sharp.cost_bound). One row per model,
then mean +- std (sample) of both bounds over the paper seeds of the run (seed 123 counted
only if it is a paper seed), and the operation ratio sharp / cubic (mean, max).
--jsonl appends one JSON object per model (for aggregating background runs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

from checker.load import load_certificate_obj  # noqa: E402
from checker.strategies import cubic_sharp  # noqa: E402
from checker.verify import check_certificate  # noqa: E402
from extract.certificate import build_certificate  # noqa: E402
from extract.cli import model_path, paper_seeds, train_seed  # noqa: E402
from extract.config import TrainConfig  # noqa: E402
from extract.weights import load_model  # noqa: E402


def measure(path: Path) -> dict:
    """Both exact checks on one model file."""
    w = load_model(path)
    row: dict = {"n_sequences": w.config.n_sequences}
    for name in ("cubic", "cubic-sharp"):
        cert = load_certificate_obj(build_certificate(w, name, {}, {}, 0), str(path))
        t = time.perf_counter()
        verdict = check_certificate(cert)
        key = "sharp" if name == "cubic-sharp" else "cubic"
        row[f"{key}_count"] = verdict.certified
        row[f"{key}_ops"] = verdict.ops
        row[f"{key}_s"] = time.perf_counter() - t
        if name == "cubic-sharp":
            row["sharp_cost_bound"] = cubic_sharp.ops_bound(cert)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="123", help="comma-separated seeds checked first (default 123, the showcase)")
    p.add_argument("--paper", type=int, default=10, help="also the first N paper seeds (default 10)")
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--no-train", action="store_true", help="skip seeds whose model file is missing")
    p.add_argument("--jsonl", type=Path, help="append one JSON row per model to this file")
    args = p.parse_args(argv)
    torch.set_num_threads(1)

    paper = paper_seeds()
    seeds: list[int] = []
    for s in [int(x) for x in args.seeds.split(",") if x] + paper[: args.paper]:
        if s not in seeds:
            seeds.append(s)

    print(f"{'seed':>6} {'cubic':>9} {'bound':>7} {'sharp':>9} {'bound':>7} {'cubic_ops':>10} {'sharp_ops':>10} "
          f"{'ratio':>6} {'cost_bound':>11} {'cubic_s':>7} {'sharp_s':>7}")
    rows = []
    for seed in seeds:
        path = model_path(args.models_dir, seed)
        if not path.exists():
            if args.no_train:
                print(f"{seed:>6} (no model file, skipped)", flush=True)
                continue
            t = time.perf_counter()
            train_seed(seed, args.models_dir, TrainConfig().steps, progress=False)
            print(f"{seed:>6} (trained in {time.perf_counter() - t:.1f} s)", file=sys.stderr)
        row = {"seed": seed, "paper": seed in paper, **measure(path)}
        total = row["n_sequences"]
        row["cubic_bound"] = row["cubic_count"] / total
        row["sharp_bound"] = row["sharp_count"] / total
        row["ops_ratio"] = row["sharp_ops"] / row["cubic_ops"]
        rows.append(row)
        if args.jsonl:
            with args.jsonl.open("a") as f:
                f.write(json.dumps(row) + "\n")
        print(f"{seed:>6} {row['cubic_count']:>9} {row['cubic_bound']:7.4f} {row['sharp_count']:>9} {row['sharp_bound']:7.4f} "
              f"{row['cubic_ops']:>10} {row['sharp_ops']:>10} {row['ops_ratio']:6.3f} {row['sharp_cost_bound']:>11} "
              f"{row['cubic_s']:7.2f} {row['sharp_s']:7.2f}", flush=True)
    summarise([r for r in rows if r["paper"]])
    return 0


def summarise(rows: list[dict]) -> None:
    """Mean +- sample std of both bounds, and the operation ratio, over ``rows``."""
    if len(rows) < 2:
        return

    def ms(key: str) -> str:
        vals = [r[key] for r in rows]
        return f"{statistics.mean(vals):.4f} +- {statistics.stdev(vals):.4f} (min {min(vals):.4f}, max {max(vals):.4f})"

    print(f"paper seeds: {len(rows)}")
    print(f"cubic bound       : {ms('cubic_bound')}")
    print(f"cubic-sharp bound : {ms('sharp_bound')}")
    print(f"ops ratio         : {ms('ops_ratio')}")
    print(f"cubic ops (mean)  : {statistics.mean(r['cubic_ops'] for r in rows):.4g}")
    print(f"sharp ops (mean)  : {statistics.mean(r['sharp_ops'] for r in rows):.4g}")
    print(f"sharp <= bound    : {all(r['sharp_ops'] <= r['sharp_cost_bound'] for r in rows)}")


if __name__ == "__main__":
    raise SystemExit(main())
