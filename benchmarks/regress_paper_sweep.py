"""Regression of one strategy against the committed paper sweep: certified count and checker ops.

Usage: python benchmarks/regress_paper_sweep.py [--strategy cubic] [--models-dir models] [SEED ...]

For every seed (default: every seed of docs/results/paper-sweep/results.csv with a row of the
strategy, whose model file exists), runs the checker's own routine in-process on the search's
certificate without a witness (extract.search.exact_checker_count; cubic, brute-force) and compares count and ops with the committed
row. Prints one line per seed and a summary; exits 1 if any differ. A change to a strategy or the
checker that moves a committed count must say why (README); this is how to see whether it does.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from extract.search import exact_checker_count
from extract.weights import load_model

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results" / "paper-sweep" / "results.csv"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--strategy", default="cubic",
                   help="cubic (default) or brute-force: strategies whose certificate needs no witness")
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("seeds", nargs="*", type=int)
    a = p.parse_args(argv)
    rows = {int(r["seed"]): r for r in csv.DictReader(RESULTS.open()) if r["strategy"] == a.strategy}
    if not rows:
        print(f"no rows of strategy {a.strategy!r} in {RESULTS}", file=sys.stderr)
        return 2
    seeds = a.seeds or sorted(s for s in rows if (a.models_dir / f"seed-{s}.safetensors").exists())
    different = 0
    start = time.perf_counter()
    for s in seeds:
        count, ops = exact_checker_count(load_model(a.models_dir / f"seed-{s}.safetensors"), a.strategy)
        r = rows[s]
        same = count == int(r["certified"]) and ops == int(r["ops"])
        different += not same
        print(f"{s}: certified {count} ops {ops}; committed {r['certified']} ops {r['ops']}: {'same' if same else 'DIFFERENT'}", flush=True)
    print(f"{a.strategy}: {len(seeds)} seeds, {different} different, {time.perf_counter() - start:.1f} s")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
