"""The ``compact-proofs`` command: train, measure, certify, check, export, sweep, report.

Every subcommand that can fail on user input prints one line naming the file and what was
expected, and exits with a non-zero code (2 for bad input), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from checker.cli import main as check_main
from extract.config import CONFIGS, SHOWCASE_SEED, ModelConfig, TrainConfig, config_by_name
from extract.errors import UserError
from extract.journal import JOURNAL, RESULTS_CSV, RESULTS_JSON, VERDICTS
from extract.report import ReportError, summary_json, write_report
from extract.strategies import all_strategies, parse_strategy

DEFAULT_MODELS_DIR = Path("models")
DEFAULT_CERTS_DIR = Path("out/certificates")

# The handlers import the modules that pull in torch (models, job, sweep, run, accuracy,
# coq_export) when they run, so that `--help`, `check`, `strategies` and `report` start without
# loading torch (several seconds on a busy machine). No import here breaks a cycle: extract/
# has one direction of imports (tests/test_import_graph.py).


def cmd_train(args: argparse.Namespace) -> int:
    from extract.models import paper_seeds, train_seed, train_seeds

    if args.paper_seeds:
        seeds = paper_seeds()
        trained = train_seeds(seeds, args.models_dir, args.steps, force=args.force, config=chosen_config(args))
        print(f"{trained} trained, {len(seeds) - trained} already present in {args.models_dir}")
    else:
        path, new = train_seed(args.seed, args.models_dir, args.steps, progress=not args.quiet, force=args.force,
                               config=chosen_config(args))
        print(f"{'trained' if new else 'already present'}: {path}")
    return 0


def cmd_accuracy(args: argparse.Namespace) -> int:
    from extract.accuracy import float_brute_force
    from extract.models import load_model_spec

    weights = load_model_spec(args.model, args.models_dir, chosen_config(args))
    if args.sample is not None:
        return print_sampled_accuracy(args, weights)
    res = float_brute_force(weights, progress=not args.json)
    if args.json:
        print(json.dumps({"model": args.model, "correct": res.correct, "total": res.total,
                          "accuracy": res.correct / res.total, "seconds": res.seconds}))
    else:
        print(f"{args.model}: float accuracy {res.correct}/{res.total} = {res.correct / res.total:.6f} "
              f"({res.seconds:.1f} s; a float estimate, not a proof)")
    return 0


def print_sampled_accuracy(args: argparse.Namespace, weights) -> int:
    """``accuracy --sample N``: a float estimate on N uniform random sequences, labelled as such."""
    from extract.accuracy import sampled_accuracy

    res = sampled_accuracy(weights, args.sample, args.sample_seed)
    if args.json:
        print(json.dumps({"model": args.model, "sampled": True, "correct": res.correct, "samples": res.samples,
                          "seed": res.seed, "accuracy": res.accuracy, "stderr": res.stderr, "seconds": res.seconds}))
    else:
        print(f"{args.model}: sampled float accuracy {res.correct}/{res.samples} = {res.accuracy:.6f} "
              f"+- {res.stderr:.6f} (1 s.e.; {res.samples} uniform random sequences, seed {res.seed}; "
              f"{res.seconds:.1f} s; an estimate, not a proof)")
    return 0


def cmd_certify(args: argparse.Namespace) -> int:
    from extract.certificate import write_certificate
    from extract.job import certificate_filename, certify
    from extract.models import read_model, resolve_model

    path = resolve_model(args.model, args.models_dir, chosen_config(args))
    weights, _ = read_model(path)
    try:
        if args.strategy == "all":
            strategies = all_strategies()
        elif args.strategy == "subcubic" and args.variant == "all":
            strategies = [s for s in all_strategies() if s.family == "subcubic"]
        else:
            strategies = [parse_strategy(args.strategy, args.variant)]
    except ValueError as e:
        raise UserError(str(e)) from None
    written = []
    for s in strategies:
        cert = certify(weights, s, {"model_file": path.name})
        out = args.out if (args.out and len(strategies) == 1 and args.out.suffix == ".json") else \
            (args.out or DEFAULT_CERTS_DIR) / certificate_filename(path, s)
        write_certificate(cert, out)
        written.append(out)
        print(f"{s.name}: claims {cert['claim']['certified_count']} -> {out}")
    if args.check:
        return check_main([str(p) for p in written])
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    return check_main(args.files + (["--json"] if args.json else []))


def cmd_strategies(args: argparse.Namespace) -> int:
    rows = all_strategies()
    if args.json:
        print(json.dumps([{"name": s.name, "family": s.family, "knobs": s.knob_dict, "cost_class": s.cost_class}
                          for s in rows], indent=1))
        return 0
    width = max(len(s.name) for s in rows)
    for s in rows:
        print(f"{s.name:<{width}}  {s.cost_class}")
    print(f"{len(rows)} strategies")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from extract.run import run_showcase

    return run_showcase(seed=args.seed, models_dir=args.models_dir, out_dir=args.out_dir,
                        strategies=args.strategies, as_json=args.json)


def cmd_export_coq(args: argparse.Namespace) -> int:
    from extract.coq_export import export_instance
    from extract.models import load_model_spec

    weights = load_model_spec(args.model, args.models_dir, chosen_config(args))
    out = export_instance(weights, args.strategy, args.out, name=args.name)
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="compact-proofs",
        description="Exact, independently checked lower bounds on the accuracy of Max-of-K transformers.",
    )
    p.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS_DIR, help="where trained models live (default: models/)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train a Max-of-K model with the paper's recipe (deterministic per seed; --config for K != 4)")
    g = t.add_mutually_exclusive_group()
    g.add_argument("--seed", type=int, default=SHOWCASE_SEED, help=f"model seed (default {SHOWCASE_SEED}, the showcase)")
    g.add_argument("--paper-seeds", action="store_true", help="all 151 seeds of the paper, skipping trained ones")
    t.add_argument("--steps", type=int, default=TrainConfig().steps, help="optimiser steps (default 3000)")
    t.add_argument("--force", action="store_true", help="retrain even if the model file exists")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_options(t)
    t.set_defaults(func=cmd_train)

    a = sub.add_parser("accuracy", help="float brute-force accuracy over all v^n sequences (an estimate, not a proof)")
    a.add_argument("model", help="model file, or seed:S")
    a.add_argument("--json", action="store_true")
    add_config_options(a)
    a.add_argument("--sample", type=int, default=None, metavar="N",
                   help="estimate from N uniform random sequences instead of all v^n (needed beyond 2^34)")
    a.add_argument("--sample-seed", type=int, default=0, help="seed of the sample (default 0)")
    a.set_defaults(func=cmd_accuracy)

    c = sub.add_parser("certify", help="search for a proof with a strategy and write its certificate")
    c.add_argument("model", help="model file, or seed:S")
    c.add_argument("--strategy", required=True, help="brute-force | cubic | subcubic | single-sequence | all")
    c.add_argument("--variant", help="subcubic variant DIRECT_PATH/ATTENTION/ATTENTION_ERROR, or all (see `strategies`)")
    c.add_argument("--out", type=Path, help=f"output file (*.json) or folder (default {DEFAULT_CERTS_DIR})")
    c.add_argument("--check", action="store_true", help="run the independent checker on what was written")
    add_config_options(c)
    c.set_defaults(func=cmd_certify)

    k = sub.add_parser("check", help="run the independent exact checker (same as python -m checker)")
    k.add_argument("files", nargs="+")
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=cmd_check)

    s = sub.add_parser("strategies", help="list the 102 strategies with their cost class")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_strategies)

    r = sub.add_parser("run", help="the main job: train the showcase model, certify it, check, report")
    r.add_argument("--seed", type=int, default=SHOWCASE_SEED)
    r.add_argument("--out-dir", type=Path, default=Path("out/showcase"))
    r.add_argument("--strategies", default="all", help="all | comma-separated families (default all)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_run)

    e = sub.add_parser("export-coq", help="write a Coq instance file proving the accuracy theorem for a model")
    e.add_argument("model", help="model file, or seed:S")
    e.add_argument("--strategy", default="cubic", choices=["cubic", "brute-force"])
    e.add_argument("--out", type=Path, required=True, help="the .v file to write")
    e.add_argument("--name", default=None, help="Coq module-safe instance name (default from the file name)")
    add_config_options(e)
    e.set_defaults(func=cmd_export_coq)

    add_sweep_parsers(sub)
    return p


def add_sweep_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``sweep`` and ``report`` subcommands (each sets ``func``)."""
    s = subparsers.add_parser("sweep", help="train, certify and check many (seed, strategy) pairs; resumable")
    s.add_argument("--seeds", default="paper", help="paper (the 151 seeds) or S1,S2,... (default paper)")
    s.add_argument("--strategies", default="all", help="all | FAMILY[,FAMILY] | full strategy names (default all)")
    s.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel workers (default: cores)")
    s.add_argument("--executor", choices=("local", "dask", "ray"), default="local",
                   help="local processes (default), or an existing Dask/Ray installation")
    s.add_argument("--address", default=None, help="scheduler address for dask/ray (default: start a local one)")
    s.add_argument("--results", type=Path, default=Path("out/sweep"), help="results folder (default out/sweep)")
    s.add_argument("--certs", type=Path, default=None, help="certificates folder (default RESULTS/certificates)")
    s.add_argument("--steps", type=int, default=TrainConfig().steps,
                   help="training steps: missing models are trained with them, existing ones must record them")
    add_config_options(s)
    s.add_argument("--checker", choices=("subprocess", "inprocess"), default="subprocess",
                   help="run the checker in a fresh process per certificate (default) or in the worker")
    s.add_argument("--no-report", action="store_true", help="do not write the report at the end")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=cmd_sweep)

    r = subparsers.add_parser("report", help="markdown summary, Pareto frontiers and plots of sweep results")
    r.add_argument("--results", type=Path, default=Path("out/sweep"), help="results folder (default out/sweep)")
    r.add_argument("--out", type=Path, default=None, help="report folder (default RESULTS/report)")
    r.add_argument("--json", action="store_true", help="print the summary as JSON instead of markdown")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    r.set_defaults(func=cmd_report)


def parse_shape(text: str) -> ModelConfig:
    """``V,N,D,DH`` -> ModelConfig (argparse type: ValueError/TypeError become a usage error)."""
    parts = text.split(",")
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"{text!r}: expected four integers d_vocab,n_ctx,d_model,d_head")
    try:
        return ModelConfig(*(int(p) for p in parts))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None


# --- configurations (issue #14): --config NAME / --shape V,N,D,DH on train, sweep and the
# commands that resolve seed:S; the model of seed S and shape C is models/<models_subdir(C)>/seed-S.

def parse_config(text: str) -> ModelConfig:
    """``--config NAME`` -> CONFIGS[NAME] (argparse type)."""
    try:
        return config_by_name(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """``--config NAME`` or ``--shape V,N,D,DH`` (exclusive): the model shape (default k4 = 64,4,32,32)."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--config", type=parse_config, default=None, metavar="NAME",
                   help=f"named configuration: {', '.join(CONFIGS)} (default k4, the paper's 64,4,32,32)")
    g.add_argument("--shape", type=parse_shape, default=None, metavar="V,N,D,DH",
                   help="model shape d_vocab,n_ctx,d_model,d_head (default 64,4,32,32, the paper's)")


def chosen_config(args: argparse.Namespace) -> ModelConfig:
    """The shape chosen with --config or --shape, else the paper's."""
    return args.config or args.shape or ModelConfig()


def cmd_sweep(args: argparse.Namespace) -> int:
    from extract.sweep import parse_seeds, run_sweep

    try:
        summary = run_sweep(parse_seeds(args.seeds), args.strategies, args.models_dir, args.results,
                            jobs=args.jobs, executor=args.executor, certs_dir=args.certs, steps=args.steps,
                            config=chosen_config(args), checker=args.checker, progress=not args.quiet, address=args.address)
        counts = {v: sum(r["verdict"] == v for r in summary.rows) for v in VERDICTS}
        print(f"sweep: {len(summary.rows)} rows ({summary.computed} computed, {summary.reused} reused, "
              f"{summary.trained} models trained) in {summary.seconds:.1f} s; "
              + ", ".join(f"{k} {n}" for k, n in counts.items()))
        print(f"results: {args.results / RESULTS_CSV}, {args.results / RESULTS_JSON}")
        if not args.no_report and summary.rows:
            paths = write_report(args.results, args.results / "report")
            print(f"report: {paths['markdown']}")
    except KeyboardInterrupt:
        print(f"sweep interrupted: finished rows are kept in {args.results / JOURNAL} and the tables; "
              "rerun the same command to resume", file=sys.stderr)
        return 130
    return 0 if summary.claims_hold and not summary.skipped_strategies else 1


def cmd_report(args: argparse.Namespace) -> int:
    try:
        out = args.out or args.results / "report"
        paths = write_report(args.results, out, plots=not args.no_plots)
        if args.json:
            print(json.dumps(summary_json(args.results), indent=1, sort_keys=True))
        else:
            print(Path(paths["markdown"]).read_text())
            print(f"report written to {out}")
    except ReportError as e:
        raise UserError(str(e)) from None
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as e:
        print(f"compact-proofs: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("compact-proofs: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
