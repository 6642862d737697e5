"""Benchmark of the foundation: training one model and the float brute force over all v^n sequences.

Usage: python benchmarks/bench_foundation.py [--seed 123] [--steps 3000] [--threads 1,2] [--no-forward]

For each torch thread count it trains the model of --seed with the paper's recipe and runs the
fast float brute force (extract/accuracy.py) on it; as the baseline, measured in the same run,
it runs the batched float32 torch forward pass over all sequences once (1 thread). It prints a
table of seconds, sequences per second and ratios to the baseline, and checks that every
training run gave bit-identical weights.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from extract.accuracy import float_brute_force, float_brute_force_forward  # noqa: E402
from extract.config import ModelConfig, TrainConfig  # noqa: E402
from extract.model import ModelWeights  # noqa: E402
from extract.train import train  # noqa: E402


def digest(weights: ModelWeights) -> str:
    h = hashlib.sha256()
    for arr in weights.tensors().values():
        h.update(arr.tobytes())
    return h.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=123)
    p.add_argument("--steps", type=int, default=TrainConfig().steps)
    p.add_argument("--threads", default="1,2", help="comma-separated torch thread counts (default 1,2)")
    p.add_argument("--no-forward", action="store_true", help="skip the float32 forward-pass baseline (~1 min)")
    args = p.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    config = ModelConfig()
    rows: list[tuple[str, int, float, int | None, int]] = []  # (what, threads, seconds, sequences, correct)
    digests = set()
    weights = None
    for t in threads:
        start = time.perf_counter()
        weights = train(config, TrainConfig(seed=args.seed, steps=args.steps), threads=t)
        rows.append(("train", t, time.perf_counter() - start, None, 0))
        digests.add(digest(weights))
    assert weights is not None
    for t in threads:
        res = float_brute_force(weights, threads=t)
        rows.append(("float brute force (path outer sums)", t, res.seconds, res.total, res.correct))
    baseline = None
    if not args.no_forward:
        res = float_brute_force_forward(weights, threads=1)
        baseline = res.seconds
        rows.append(("float32 forward pass (baseline)", 1, res.seconds, res.total, res.correct))

    print(f"seed {args.seed}, {args.steps} steps, model {config}, cpu count {os.cpu_count()}")
    print(f"{'what':<38} {'threads':>7} {'seconds':>9} {'seq/s':>12} {'correct':>10} {'vs baseline':>12}")
    for what, t, sec, seqs, correct in rows:
        rate = f"{seqs / sec:,.0f}" if seqs else "-"
        ratio = f"{baseline / sec:.1f}x faster" if (baseline and seqs) else "-"
        corr = str(correct) if seqs else "-"
        print(f"{what:<38} {t:>7} {sec:>9.2f} {rate:>12} {corr:>10} {ratio:>12}")
    ok = len(digests) == 1
    print(f"training bit-identical across thread counts: {'yes' if ok else 'NO'} ({', '.join(sorted(digests))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
