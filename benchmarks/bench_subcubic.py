"""Benchmark of the 100 subcubic variants: bound, checker op count, check and search time, scaling in v.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_subcubic.py [--model models/seed-123.safetensors]
      [--sizes 16 32 64] [--variants all|core] [--json out.json]

Part 1: on the model, every variant: certified bound (count / v^n), exact-checker op count,
check CPU seconds, search CPU seconds (search without its internal exact count), each also
as a ratio to the default variant (mean_query+max_diff/mean+diff/max_diff) measured in the
same run. Part 2: checker op counts on random models with v in --sizes (n, d, d_head of the
model), and the fitted exponent k of ops ~ v^k per variant, summarised per cost class.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from checker.load import load_certificate_obj  # noqa: E402
from checker.ops import OpCounter  # noqa: E402
from checker.strategies import subcubic as checker_subcubic  # noqa: E402
from extract.certificate import build_certificate  # noqa: E402
from extract.config import ModelConfig  # noqa: E402
from extract.model import ModelWeights  # noqa: E402
from extract.search import subcubic as search_subcubic  # noqa: E402
from extract.strategies import all_strategies  # noqa: E402
from extract.weights import load_model  # noqa: E402

DEFAULT = "mean_query+max_diff/mean+diff/max_diff"


def run_variant(w: ModelWeights, knobs: dict[str, str]) -> dict:
    """Search (CPU s), build + check (CPU s, ops, count)."""
    t0 = time.process_time()
    res = search_subcubic.search(w, knobs)
    t_search = time.process_time() - t0
    cert = load_certificate_obj(build_certificate(w, "subcubic", knobs, res.witness, 0), "<bench>")
    ops = OpCounter()
    t0 = time.process_time()
    count = checker_subcubic.check(cert, ops)
    t_check = time.process_time() - t0
    return {"count": count, "bound": count / w.config.n_sequences, "ops": ops.count,
            "check_s": t_check, "search_s": t_search, "float_estimate": int(res.info["float_estimate"])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/seed-123.safetensors")
    ap.add_argument("--sizes", type=int, nargs="*", default=[16, 32, 64])
    ap.add_argument("--variants", choices=("all", "core"), default="all")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    strategies = [s for s in all_strategies() if s.family == "subcubic"]
    if args.variants == "core":
        strategies = [s for s in strategies if s.knob_dict["attention"] == "mean+diff"
                      and s.knob_dict["attention_error"] in ("max_diff", "exact_EQKE+max_diff_exact",
                                                             "max_diff_subproduct_recursive", "svd")]
    w = load_model(args.model)
    cfg = w.config
    print(f"model {args.model}: v={cfg.d_vocab} n={cfg.n_ctx} d={cfg.d_model} d_head={cfg.d_head}")
    rows = {s.variant: run_variant(w, s.knob_dict) for s in strategies}
    base = rows.get(DEFAULT) or run_variant(w, dict(zip(("direct_path", "attention", "attention_error"), DEFAULT.split("/"))))
    print(f"\nbaseline (default variant {DEFAULT}): bound {base['bound']:.4f}, ops {base['ops']:.3e}, "
          f"check {base['check_s']:.3f} s, search {base['search_s']:.3f} s (CPU)")
    hdr = f"{'variant':66s} {'bound':>7s} {'ops':>10s} {'ops/base':>8s} {'check_s':>8s} {'chk/base':>8s} {'search_s':>8s}"
    print(hdr)
    print("-" * len(hdr))
    for name, r in sorted(rows.items(), key=lambda kv: -kv[1]["bound"]):
        print(f"{name:66s} {r['bound']:7.4f} {r['ops']:10.3e} {r['ops'] / base['ops']:8.2f} {r['check_s']:8.3f} "
              f"{r['check_s'] / base['check_s']:8.2f} {r['search_s']:8.3f}")
    total_cpu = sum(r["check_s"] + r["search_s"] for r in rows.values())
    print(f"\n{len(rows)} variants: total search+check CPU {total_cpu:.1f} s ({total_cpu / len(rows):.3f} s per variant)")

    scaling: dict[str, list[int]] = {}
    if args.sizes:
        print(f"\nchecker op counts on random models, n={cfg.n_ctx} d={cfg.d_model} d_head={cfg.d_head}:")
        for v in args.sizes:
            wv = ModelWeights.random(ModelConfig(v, cfg.n_ctx, cfg.d_model, cfg.d_head), seed=v)
            for s in strategies:
                scaling.setdefault(s.variant, []).append(run_variant(wv, s.knob_dict)["ops"])
        logv = np.log(np.array(args.sizes, dtype=float))
        classes: dict[str, list[float]] = {}
        print(f"{'variant':66s} " + " ".join(f"{'v=' + str(v):>10s}" for v in args.sizes) + f" {'k':>5s}")
        for s in strategies:
            ops = scaling[s.variant]
            k = float(np.polyfit(logv, np.log(np.array(ops, dtype=float)), 1)[0]) if len(ops) > 1 else math.nan
            classes.setdefault(s.cost_class, []).append(k)
            print(f"{s.variant:66s} " + " ".join(f"{o:10.3e}" for o in ops) + f" {k:5.2f}")
        print("\nfitted exponent of ops ~ v^k, per cost class (min / mean / max over its variants):")
        for cls, ks in classes.items():
            print(f"  {cls:45s} {min(ks):.2f} / {sum(ks) / len(ks):.2f} / {max(ks):.2f}  ({len(ks)} variants)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "variants": rows, "scaling_sizes": args.sizes, "scaling_ops": scaling}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
