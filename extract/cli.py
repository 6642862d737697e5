"""The ``compact-proofs`` command: train, measure, certify, check, export, sweep, report.

Every subcommand that can fail on user input prints one line naming the file and what was
expected, and exits with a non-zero code (2 for bad input), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from extract.config import SHOWCASE_SEED, ModelConfig, TrainConfig
from extract.errors import UserError

DEFAULT_MODELS_DIR = Path("models")
DEFAULT_CERTS_DIR = Path("out/certificates")


def paper_seeds() -> list[int]:
    """The paper's 151 Max-of-4 seeds, in the order of the reference list."""
    text = (Path(__file__).parent / "data" / "paper_seeds_max_of_4.txt").read_text()
    return [int(tok) for tok in text.split()]


def model_path(models_dir: Path, seed: int) -> Path:
    return models_dir / f"seed-{seed}.safetensors"


def resolve_model(spec: str, models_dir: Path) -> Path:
    """MODEL on the command line: a file path, or ``seed:S`` for a model trained with --seed S."""
    if spec.startswith("seed:"):
        try:
            seed = int(spec[5:])
        except ValueError:
            raise UserError(f"{spec}: expected seed:INTEGER") from None
        path = model_path(models_dir, seed)
        if not path.exists():
            raise UserError(f"{path}: no such model; train it with `compact-proofs train --seed {seed}`")
        return path
    path = Path(spec)
    if not path.exists():
        raise UserError(f"{path}: no such model file")
    return path


def load(spec: str, models_dir: Path):
    from extract.weights import ModelFileError, load_model

    path = resolve_model(spec, models_dir)
    try:
        return load_model(path)
    except ModelFileError as e:
        raise UserError(str(e)) from None


def train_seed(seed: int, models_dir: Path, steps: int, progress: bool, force: bool = False) -> tuple[Path, bool]:
    """Train (or reuse) the model of ``seed``; returns its path and whether it was trained now."""
    from extract.train import train
    from extract.weights import save_model

    path = model_path(models_dir, seed)
    if path.exists() and not force:
        return path, False
    cfg = TrainConfig(seed=seed, steps=steps)
    weights = train(ModelConfig(), cfg, progress=progress)
    save_model(weights, path, {"seed": str(seed), "steps": str(steps), "recipe": "paper-max-of-4"})
    return path, True


def cmd_train(args: argparse.Namespace) -> int:
    seeds = paper_seeds() if args.paper_seeds else [args.seed]
    if len(seeds) > 1:
        from tqdm import tqdm

        it = tqdm(seeds, desc="training paper seeds", unit="model")
        trained = 0
        for s in it:
            _, new = train_seed(s, args.models_dir, args.steps, progress=False, force=args.force)
            trained += new
        print(f"{trained} trained, {len(seeds) - trained} already present in {args.models_dir}")
    else:
        path, new = train_seed(seeds[0], args.models_dir, args.steps, progress=not args.quiet, force=args.force)
        print(f"{'trained' if new else 'already present'}: {path}")
    return 0


def cmd_accuracy(args: argparse.Namespace) -> int:
    from extract.accuracy import float_brute_force

    weights = load(args.model, args.models_dir)
    res = float_brute_force(weights, progress=not args.json)
    if args.json:
        print(json.dumps({"model": args.model, "correct": res.correct, "total": res.total,
                          "accuracy": res.correct / res.total, "seconds": res.seconds}))
    else:
        print(f"{args.model}: float accuracy {res.correct}/{res.total} = {res.correct / res.total:.6f} "
              f"({res.seconds:.1f} s; a float estimate, not a proof)")
    return 0


def certify(weights, strategy, provenance: dict[str, str] | None = None) -> dict:
    """Run the untrusted search of ``strategy`` and build its certificate object."""
    from extract.certificate import build_certificate
    from extract.strategies import search_module

    result = search_module(strategy.family).search(weights, strategy.knob_dict)
    prov = dict(provenance or {})
    prov.update(result.info)
    return build_certificate(weights, strategy.family, strategy.knob_dict, result.witness,
                             result.certified_count, prov)


def certificate_filename(model: Path, strategy) -> str:
    return f"{model.stem}.{strategy.name.replace('/', '.').replace(':', '.')}.cert.json"


def cmd_certify(args: argparse.Namespace) -> int:
    from extract.certificate import write_certificate
    from extract.strategies import all_strategies, parse_strategy

    path = resolve_model(args.model, args.models_dir)
    weights = load(args.model, args.models_dir)
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
        from checker.cli import main as check_main

        return check_main([str(p) for p in written])
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from checker.cli import main as check_main

    return check_main(args.files + (["--json"] if args.json else []))


def cmd_strategies(args: argparse.Namespace) -> int:
    from extract.strategies import all_strategies

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

    weights = load(args.model, args.models_dir)
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

    t = sub.add_parser("train", help="train a Max-of-4 model with the paper's recipe (deterministic per seed)")
    g = t.add_mutually_exclusive_group()
    g.add_argument("--seed", type=int, default=SHOWCASE_SEED, help=f"model seed (default {SHOWCASE_SEED}, the showcase)")
    g.add_argument("--paper-seeds", action="store_true", help="all 151 seeds of the paper, skipping trained ones")
    t.add_argument("--steps", type=int, default=TrainConfig().steps, help="optimiser steps (default 3000)")
    t.add_argument("--force", action="store_true", help="retrain even if the model file exists")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)

    a = sub.add_parser("accuracy", help="float brute-force accuracy over all v^n sequences (an estimate, not a proof)")
    a.add_argument("model", help="model file, or seed:S")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_accuracy)

    c = sub.add_parser("certify", help="search for a proof with a strategy and write its certificate")
    c.add_argument("model", help="model file, or seed:S")
    c.add_argument("--strategy", required=True, help="brute-force | cubic | subcubic | single-sequence | all")
    c.add_argument("--variant", help="subcubic variant DIRECT_PATH/ATTENTION/ATTENTION_ERROR, or all (see `strategies`)")
    c.add_argument("--out", type=Path, help=f"output file (*.json) or folder (default {DEFAULT_CERTS_DIR})")
    c.add_argument("--check", action="store_true", help="run the independent checker on what was written")
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
    e.set_defaults(func=cmd_export_coq)

    from extract.sweep import add_sweep_parsers

    add_sweep_parsers(sub)
    return p


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
