"""Benchmark of the exact brute-force check against the float brute force, on one model.

Usage: python benchmarks/bench_brute_force.py [--model models/seed-123.safetensors] [--seed 123] [--forward]

In one run on this machine, each phase in its own fresh process (so its peak resident memory
is its own): (1) the float64 brute force of extract/accuracy.py (the baseline; with --forward
also the float32 torch forward pass); (2) the exact check of a brute-force certificate
(checker.verify.check_certificate after strict loading). Prints the times, their ratio, the
peak RSS of each process, where the exact check's time goes, the exact certified count next
to the float count, and every sequence on which they differ with its float64 margin.
The model is trained (train seed --seed, the paper's recipe) if the file is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def load_or_train(model: Path, seed: int):
    from extract.weights import load_model

    if model.exists():
        return load_model(model)
    from extract.config import ModelConfig, TrainConfig
    from extract.train import train
    from extract.weights import save_model

    w = train(ModelConfig(), TrainConfig(seed=seed))
    save_model(w, model, {"seed": str(seed), "recipe": "paper-max-of-4"})
    return w


def phase_float(model: Path, forward: bool, repeat: int) -> dict:
    import torch

    torch.set_num_threads(1)
    from extract.accuracy import float_brute_force, float_brute_force_forward
    from extract.weights import load_model

    w = load_model(model)
    runs = [float_brute_force(w, threads=1) for _ in range(repeat)]
    res = runs[0]
    out = {"float64_runs": [r.seconds for r in runs], "float64_correct": res.correct, "total": res.total,
           "float64_wrong": res.wrong_indices.tolist()}
    if forward:
        fw = float_brute_force_forward(w, threads=1)
        out.update({"forward_seconds": fw.seconds, "forward_correct": fw.correct})
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def phase_certify(model: Path, seed: int, cert_path: Path) -> dict:
    from extract.certificate import build_certificate, write_certificate
    from extract.search.brute_force import search

    w = load_or_train(model, seed)
    t0 = time.perf_counter()
    found = search(w, {})
    search_s = time.perf_counter() - t0
    write_certificate(build_certificate(w, "brute-force", {}, found.witness, found.certified_count, found.info), cert_path)
    return {"claim": found.certified_count, "search_seconds": search_s, "v": w.config.d_vocab, "n": w.config.n_ctx,
            "size_mb": cert_path.stat().st_size / 1e6}


def phase_exact(cert_path: Path, repeat: int) -> dict:
    import numpy as np

    from checker.load import load_certificate
    from checker.ops import OpCounter
    from checker.strategies import brute_force
    from checker.verify import check_certificate

    t0 = time.perf_counter()
    cert = load_certificate(cert_path)
    load_s = time.perf_counter() - t0
    verdicts = [check_certificate(cert) for _ in range(repeat)]  # timed, as `python -m checker` runs it
    verdict = verdicts[0]
    rss = peak_rss_mb()
    # an untimed second run with statistics (same code path plus the list of unproved sequences)
    res = brute_force.run(cert, OpCounter(), want_unproved=True)
    unproved = np.concatenate(res.unproved).tolist() if res.unproved else []
    # reference: the same sweep without competitor pruning (every sequence x every competitor)
    from checker.strategies.brute_force import sweep as brute_force_sweep

    pruned = brute_force_sweep.kept_competitors
    brute_force_sweep.kept_competitors = lambda ub: np.arange(len(ub))
    ops_full = OpCounter()
    t0 = time.perf_counter()
    full = brute_force.check(cert, ops_full)
    full_s = time.perf_counter() - t0
    brute_force_sweep.kept_competitors = pruned
    return {
        "noprune_seconds": full_s, "noprune_ops": ops_full.count, "noprune_certified": full,
        "load_seconds": load_s, "check_runs": [x.wall_ns / 1e9 for x in verdicts], "ops": verdict.ops,
        "certified": verdict.certified, "claimed": verdict.claimed, "ok": verdict.ok,
        "peak_rss_mb": rss, "fast_proved": res.fast_proved,
        "second_proved": res.second_proved, "refuted": res.fast_refuted,
        "fallback_proved": res.fallback_proved, "fallback_not_proved": res.fallback_not_proved,
        "unproved": sorted(unproved), "stats_run_certified": res.proved,
    }


def child(args: list[str]) -> dict:
    r = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"phase {args[:2]} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=Path("models/seed-123.safetensors"))
    p.add_argument("--seed", type=int, default=123)
    p.add_argument("--forward", action="store_true", help="also time the float32 torch forward pass (~1 min)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs of each baseline and check (min and median reported)")
    p.add_argument("--phase", choices=["certify", "float", "exact"], help=argparse.SUPPRESS)
    p.add_argument("--cert", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.phase == "float":
        print(json.dumps(phase_float(args.model, args.forward, args.repeat)))
        return 0
    if args.phase == "certify":
        print(json.dumps(phase_certify(args.model, args.seed, args.cert)))
        return 0
    if args.phase == "exact":
        print(json.dumps(phase_exact(args.cert, args.repeat)))
        return 0

    # every phase runs in a fresh child of this small process: on Linux ru_maxrss survives exec,
    # so the parent must stay small for the children's peaks to be their own
    with tempfile.TemporaryDirectory() as tmp:
        cert_path = Path(tmp) / "bf.cert.json"
        cf = child(["--phase", "certify", "--model", str(args.model), "--seed", str(args.seed), "--cert", str(cert_path)])
        rep = ["--repeat", str(args.repeat)]
        fl = child(["--phase", "float", "--model", str(args.model)] + rep + (["--forward"] if args.forward else []))
        ex = child(["--phase", "exact", "--cert", str(cert_path)] + rep)

    import numpy as np

    from extract.search.brute_force import float_margins_of
    from extract.weights import load_model

    w = load_model(args.model)
    v, n = cf["v"], cf["n"]
    size_mb, search_s = cf["size_mb"], cf["search_seconds"]

    print(f"model {args.model} (v={v}, n={n}); {v ** n} sequences; certificate {size_mb:.1f} MB")
    print(f"search (untrusted, float64 margins): claim {cf['claim']} in {search_s:.2f} s")
    import statistics

    fmin, fmed = min(fl["float64_runs"]), statistics.median(fl["float64_runs"])
    emin, emed = min(ex["check_runs"]), statistics.median(ex["check_runs"])
    base = fmin
    print(f"timed runs per phase: {args.repeat} (min and median; the machine is shared, so min is the cleaner number)")
    print("\nphase                              min s   median s   min ratio   median ratio   peak RSS (MB)")
    print(f"float64 brute force (baseline)    {fmin:6.2f}   {fmed:8.2f}   {1:9.2f}   {1:12.2f}   {fl['peak_rss_mb']:8.0f}")
    if "forward_seconds" in fl:
        print(f"float32 torch forward pass (1x)   {fl['forward_seconds']:6.2f}   {'':8s}   {fl['forward_seconds'] / fmin:9.2f}   {'':12s}   (same process)")
    print(f"exact check (check_certificate)   {emin:6.2f}   {emed:8.2f}   {emin / fmin:9.2f}   {emed / fmed:12.2f}   {ex['peak_rss_mb']:8.0f}")
    print(f"  certificate loading + hash      {ex['load_seconds']:6.2f}")
    print(f"exact check without pruning (1x)  {ex['noprune_seconds']:6.2f}   {'':8s}   {ex['noprune_seconds'] / base:9.2f}")
    print(f"exact check operations: {ex['ops']:.3e} (without pruning {ex['noprune_ops']:.3e}; "
          f"certified {ex['noprune_certified']} there)")
    print("\nwhat the exact check decided (second run with statistics; profile with `python -m cProfile` for time per phase):")
    print(f"  sequences: fast-proved {ex['fast_proved']}, second-pass proved {ex['second_proved']}, "
          f"refuted {ex['refuted']}, fallback proved {ex['fallback_proved']}, fallback not proved {ex['fallback_not_proved']}")

    print(f"\nexact certified count {ex['certified']} (claim {ex['claimed']}: {'holds' if ex['ok'] else 'FAILS'})")
    print(f"float64 correct count {fl['float64_correct']}" + (f"; float32 forward {fl['forward_correct']}" if "forward_correct" in fl else ""))
    exact_wrong = set(ex["unproved"])
    float_wrong = set(fl["float64_wrong"])
    diff = sorted(exact_wrong ^ float_wrong)
    print(f"sequences on which exact and float64 differ: {len(diff)}")
    if diff:
        idx = np.array(diff, dtype=np.int64)
        tokens = np.stack([(idx // v ** (n - 1 - p)) % v for p in range(n)], axis=1)
        margins = float_margins_of(w, tokens)
        for i, t, mg in zip(diff, tokens.tolist(), margins):
            side = "exact proves, float64 says wrong" if i in float_wrong else "float64 says correct, exact does not prove"
            print(f"  {tuple(t)}  float64 margin {mg:+.3e}  ({side})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
