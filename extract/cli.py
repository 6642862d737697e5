"""The ``compact-proofs`` command: train, measure, certify, check, export, sweep, report.

Every subcommand that can fail on user input prints one line naming the file and what was
expected, and exits with a non-zero code (2 for bad input), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any, NoReturn, TextIO

from checker.cli import detach_stdout, int_at_least, positive_int
from extract.config import CONFIGS, SHOWCASE_SEED, ModelConfig, TrainConfig, config_by_name
from extract.errors import UserError
from extract.journal import JOURNAL, RESULTS_CSV, RESULTS_JSON, VERDICTS, floor_decimal as decimal
from extract.report import ReportError, summary_json, write_report
from extract.strategies import Strategy, all_strategies, beyond_paper_strategies, parse_strategy

DEFAULT_MODELS_DIR = Path("models")
DEFAULT_CERTS_DIR = Path("out/certificates")
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool whose reader went away

# The handlers import the modules that pull in torch (models, job, sweep, run, accuracy,
# coq_export) when they run, so that `--help`, `check`, `strategies` and `report` start without
# loading torch (several seconds on a busy machine). No import here breaks a cycle: extract/
# has one direction of imports (tests/test_import_graph.py).


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line: "PROG: error: MESSAGE (see PROG --help)", exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


non_negative_int = int_at_least(0, "a non-negative integer")  # argparse type (seeds)


def progress_enabled(quiet: bool, stream: TextIO | None = None) -> bool:
    """Progress bars go to stderr, only when it is a terminal and --quiet is not given."""
    stream = sys.stderr if stream is None else stream
    try:
        return not quiet and stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Progress:
    """A tqdm bar on stderr (when enabled) and lines on stdout that do not tear it."""

    def __init__(self, total: int, desc: str, unit: str, enabled: bool) -> None:
        self.bar = None
        if enabled and total > 1:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False)

    def say(self, line: str) -> None:
        if self.bar is None:
            print(line)
        else:
            self.bar.write(line, file=sys.stdout)

    def step(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def bound_text(certified: int, n_sequences: int) -> str:
    """'certified C of N sequences, bound C/N ~ 0.xxxxxx' (the fraction as given, then reduced if it differs)."""
    b = Fraction(certified, n_sequences)
    reduced = "" if b.denominator == n_sequences else f" = {b.numerator}/{b.denominator}"
    return f"bound {certified}/{n_sequences}{reduced} ~ {decimal(b)}"


def cmd_train(args: argparse.Namespace) -> int:
    from extract.models import paper_seeds, train_seed, train_seeds

    if args.paper_seeds:
        seeds = paper_seeds()
        trained = train_seeds(seeds, args.models_dir, args.steps, force=args.force, config=chosen_config(args))
        print(f"{trained} trained, {len(seeds) - trained} already present in {args.models_dir}")
    else:
        path, new = train_seed(args.seed, args.models_dir, args.steps, progress=progress_enabled(args.quiet),
                               force=args.force, config=chosen_config(args))
        print(f"{'trained' if new else 'already present'}: {path}")
    return 0


def cmd_accuracy(args: argparse.Namespace) -> int:
    from extract.accuracy import float_brute_force
    from extract.models import load_model_spec

    weights = load_model_spec(args.model, args.models_dir, chosen_config(args))
    if args.sample is not None:
        return print_sampled_accuracy(args, weights)
    res = float_brute_force(weights, progress=progress_enabled(args.json))
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


def resolve_strategies(strategy: str, variant: str | None) -> list[Strategy]:
    """--strategy/--variant: ``all``, ``subcubic --variant all``, or one strategy by any id
    ``strategies`` prints (with or without the ``subcubic:`` prefix)."""
    try:
        if strategy == "all":
            if variant is not None:
                raise ValueError("--variant: not with --strategy all (it runs every strategy)")
            return all_strategies()
        if variant == "all":
            family = parse_strategy(strategy, None).family
            return [s for s in all_strategies() + beyond_paper_strategies() if s.family == family]
        return [parse_strategy(strategy, variant)]
    except ValueError as e:
        raise UserError(str(e)) from None


def cmd_certify(args: argparse.Namespace) -> int:
    import compact_proofs as cp

    strategies = resolve_strategies(args.strategy, args.variant)
    out = args.out
    if out is not None and out.suffix and not out.is_dir() and len(strategies) > 1:
        raise UserError(f"--out {out}: {len(strategies)} certificates to write; expected a folder, not a file name")
    progress = _Progress(len(strategies), "certifying", "strategy", progress_enabled(args.quiet or args.json))
    results = []
    try:
        for s in strategies:
            r = cp.certify(model_argument(args), s, check=args.check, out=out or DEFAULT_CERTS_DIR, models_dir=args.models_dir)
            results.append(r)
            if not args.json:
                progress.say(str(r) + (f" ({r.message})" if r.message else ""))
            progress.step()
    finally:
        progress.close()
    hold = sum(r.ok for r in results)
    if args.json:
        print(json.dumps({"results": [_certify_row(r) for r in results],
                          "summary": {"certificates": len(results), "checked": args.check,
                                      "claims_hold": hold if args.check else None}}, indent=1))
    elif args.check:
        print(certify_summary(results))
    return 0 if not args.check or hold == len(results) else 1


def _certify_row(r: Any) -> dict[str, Any]:
    row = r.as_row()
    row.pop("seed", None)
    row["paper_name"] = r.paper_name
    row["bound_decimal"] = None if r.bound is None else decimal(r.bound, 12)
    return row


def certify_summary(results: list[Any]) -> str:
    """'certify: K of M claims hold; best bound ... (strategy)'."""
    hold = [r for r in results if r.ok]
    line = f"certify: {len(hold)} of {len(results)} claims hold"
    if hold:
        best = max(hold, key=lambda r: (r.bound, -(r.ops or 0)))
        line += f"; best {bound_text(best.certified, best.n_sequences)} ({best.strategy}, {best.ops} checker ops)"
    failing = [r.strategy for r in results if not r.ok]
    if failing:
        line += "; failing: " + ", ".join(failing[:5]) + (" ..." if len(failing) > 5 else "")
    return line


def cmd_check(args: argparse.Namespace) -> int:
    import compact_proofs as cp
    from checker.cli import one_line

    model_sha = None
    if args.model is not None:
        model_sha = cp.model_sha256(args.model, args.models_dir)
    code = 0
    records: list[dict[str, Any]] = []
    progress = _Progress(len(args.files), "checking", "file", progress_enabled(args.quiet or args.json))
    try:
        for f in args.files:
            src = one_line(f, 1000)
            try:
                got = cp.check_certificate_file(f, weights_sha256=model_sha, model_name=args.model, max_ops=args.max_ops)
            except UserError as e:
                unreadable = isinstance(e, cp.UnreadableCertificate)
                code = max(code, 3 if unreadable else 2)
                status = "unreadable" if unreadable else "other-model" if isinstance(e, cp.ModelMismatch) else "malformed"
                records.append({"file": f, "status": status, "message": one_line(str(e), 600)})
                if not args.json:
                    progress.say(one_line(str(e), 600))
                progress.step()
                continue
            except Exception as e:  # noqa: BLE001 - a checker failure is never a verdict, and never a traceback
                code = max(code, 2)
                msg = one_line(f"{type(e).__name__}: {e}", 400)
                records.append({"file": f, "status": "internal-error", "message": msg})
                if not args.json:
                    progress.say(f"{src}: (internal): {msg}")
                progress.step()
                continue
            v = got.verdict
            code = max(code, 0 if v.ok else 1)
            records.append(_check_record(f, got, args.model))
            if not args.json:
                progress.say(check_line(src, got, args.model))
            progress.step()
    finally:
        progress.close()
    hold = sum(r["status"] == "ok" for r in records)
    if args.json:
        print(json.dumps({"results": records, "summary": {"files": len(records), "claims_hold": hold,
                                                          "exit_code": code}}, indent=1))
    elif len(records) > 1:
        print(f"check: {hold} of {len(records)} claims hold")
    return code


def check_line(src: str, got: Any, model: str | None) -> str:
    """One verdict line: file, verdict, the bound as a fraction and decimal, strategy, ops, weights hash."""
    v = got.verdict
    knobs = "" if not v.knobs else " " + ",".join(f"{k}={val}" for k, val in sorted(v.knobs.items()))
    head = "claim holds" if v.ok else "CLAIM FAILS"
    rel = ">=" if v.ok else "<"
    about = f"weights sha256 {got.weights_sha256}" + (f" = model {model}" if model else "")
    return (f"{src}: {head}: certified {v.certified} {rel} claimed {v.claimed}; {bound_text(v.certified, got.n_sequences)} "
            f"[{v.strategy}{knobs}] ops={v.ops} time={v.seconds_text()}s; {about}")


def _check_record(f: str, got: Any, model: str | None) -> dict[str, Any]:
    v = got.verdict
    b = got.bound
    return {"file": f, "status": "ok" if v.ok else "claim-fails", "strategy": v.strategy, "knobs": v.knobs,
            "claimed": str(v.claimed) if v.claimed > 2**53 else v.claimed,
            "certified": str(v.certified) if v.certified > 2**53 else v.certified,
            "n_sequences": str(got.n_sequences) if got.n_sequences > 2**53 else got.n_sequences,
            "bound": f"{b.numerator}/{b.denominator}", "bound_decimal": decimal(b, 12),
            "ops": v.ops, "wall_ns": v.wall_ns, "weights_sha256": got.weights_sha256, "model": model}


def cmd_strategies(args: argparse.Namespace) -> int:
    rows = all_strategies() + beyond_paper_strategies()
    if args.json:
        print(json.dumps([{"id": s.id, "name": s.name, "paper_name": s.paper_name, "family": s.family,
                           "knobs": s.knob_dict, "cost_class": s.cost_class, "is_default": s.is_default}
                          for s in rows], indent=1))
        return 0
    wid = max(len(s.id) for s in rows)
    wpaper = max(len(s.paper_name) for s in rows)
    print(f"  {'id':<{wid}}  {'paper name':<{wpaper}}  cost class")
    for s in rows:
        print(f"{'*' if s.is_default else ' '} {s.id:<{wid}}  {s.paper_name:<{wpaper}}  {s.cost_class}")
    print(f"{len(all_strategies())} strategies of the paper (--strategy all), then {len(rows) - len(all_strategies())} beyond it; "
          "* = the default subcubic variant (--strategy subcubic); "
          "any id above is accepted by --strategy, and a subcubic one by --variant with or without 'subcubic:'")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from extract.run import run_showcase

    return run_showcase(seed=args.seed, models_dir=args.models_dir, out_dir=args.out_dir,
                        strategies=args.strategies, as_json=args.json)


def coq_compile_command(instance: Path) -> str:
    """The coqc command that compiles ``instance`` once coq/theories is built."""
    from compact_proofs._coq import ProveError, find_coq_dir, instance_command, read_coq_project

    try:
        return shlex.join(instance_command(instance, read_coq_project(find_coq_dir())))
    except ProveError:
        return f"coqc -R coq/theories CompactProofs -Q {shlex.quote(str(instance.parent))} {shlex.quote(instance.stem)} " \
               f"{shlex.quote(str(instance))}"


def cmd_export_coq(args: argparse.Namespace) -> int:
    import compact_proofs as cp

    out = cp.export_coq(model_argument(args), args.strategy, args.out, name=args.name, models_dir=args.models_dir)
    print(f"wrote {out}")
    print(f"build it and check its assumptions (one command): compact-proofs prove {shlex.quote(str(out))}")
    print(f"or, with coq/theories built, compile it yourself: {coq_compile_command(out)}")
    return 0


def cmd_prove(args: argparse.Namespace) -> int:
    import compact_proofs as cp

    is_instance = args.target.endswith(".v")
    if is_instance and (args.strategy is not None or args.out is not None):
        raise UserError(f"{args.target}: an instance file is built as it is; --strategy/--out apply to a model")
    if not is_instance:
        out = cp.export_coq(args.target, args.strategy or "cubic", args.out or _default_instance(args.target),
                            name=args.name, models_dir=args.models_dir)
        print(f"wrote {out}")
    else:
        out = Path(args.target)
    print(f"building coq/theories (if needed) and {out} ...", file=sys.stderr)
    r = cp.prove(out, coq_dir=args.coq_dir, jobs=args.jobs)
    print(f"{out}: proved: Theorem {r.theorem} (compiled by: {r.command}) in {r.seconds:.1f} s")
    print(f"{out}: assumptions: {', '.join(r.assumptions) if r.assumptions else 'none (closed under the global context)'}")
    if not r.ok:
        print(f"{out}: NOT ALLOWED (coq/check_assumptions.sh): {', '.join(r.disallowed)}")
        return 1
    print(f"{out}: every assumption is allowed (coq/check_assumptions.sh)")
    return 0


def _default_instance(model: str) -> Path:
    stem = Path(model[5:] if model.startswith("seed:") else model).stem
    name = "".join(c if c.isalnum() else "_" for c in (f"seed_{stem}" if model.startswith("seed:") else stem))
    return Path("out/coq") / (name if name[:1].isalpha() else f"M_{name}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="compact-proofs",
        description="Exact, independently checked lower bounds on the accuracy of Max-of-K transformers.",
    )
    p.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS_DIR,
                   help="where trained models live (default: models/; also accepted after the subcommand)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train a Max-of-K model with the paper's recipe (deterministic per seed; --config for K != 4)")
    g = t.add_mutually_exclusive_group()
    g.add_argument("--seed", type=non_negative_int, default=SHOWCASE_SEED,
                   help=f"model seed, a non-negative integer (default {SHOWCASE_SEED}, the showcase)")
    g.add_argument("--paper-seeds", action="store_true", help="all 151 seeds of the paper, skipping trained ones")
    t.add_argument("--steps", type=positive_int, default=TrainConfig().steps, help="optimiser steps (default 3000)")
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

    c = sub.add_parser("certify", help="search for a proof with a strategy, write its certificate, optionally check it")
    c.add_argument("model", help="model file (ours or a TransformerLens state dict), or seed:S")
    c.add_argument("--strategy", required=True,
                   help="an id printed by `strategies` (brute-force, cubic, subcubic:DP/ATTN/ERR), a family "
                        "(subcubic = the default variant), or all")
    c.add_argument("--variant", help="with --strategy subcubic: a variant id as `strategies` prints it (with or "
                                     "without 'subcubic:'), default, or all")
    c.add_argument("--out", type=Path, help=f"a file name (with a suffix, e.g. X.json; one strategy) or a folder "
                                            f"(default {DEFAULT_CERTS_DIR})")
    c.add_argument("--check", action="store_true", help="run the independent checker on what was written; "
                                                        "ends with a summary line")
    c.add_argument("--json", action="store_true", help="print the results (and a summary) as one JSON object")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_options(c)
    c.set_defaults(func=cmd_certify)

    k = sub.add_parser("check", help="run the independent exact checker on certificates (optionally bound to a model "
                                     "file); exit 0 all claims hold, 1 some fails, 2 malformed or another model, "
                                     "3 unreadable")
    k.add_argument("files", nargs="+", metavar="CERT")
    k.add_argument("--model", help="model file (or seed:S) the certificates must be about: its weights' hash, "
                                   "computed from the file, must equal the certificate's")
    k.add_argument("--json", action="store_true", help="print the results and a summary as one JSON object")
    k.add_argument("--max-ops", type=positive_int, default=None, metavar="N",
                   help="the checker's work budget (raise it for large certificates; default: the checker's)")
    k.add_argument("--quiet", action="store_true", help="no progress bar")
    k.set_defaults(func=cmd_check)

    s = sub.add_parser("strategies", help="list the strategies: id, the paper's name, cost class; * marks the default")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_strategies)

    r = sub.add_parser("run", help="the main job: train the showcase model, certify it, check, report")
    r.add_argument("--seed", type=non_negative_int, default=SHOWCASE_SEED)
    r.add_argument("--out-dir", type=Path, default=Path("out/showcase"))
    r.add_argument("--strategies", default="all", help="all | comma-separated families (default all)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_run)

    e = sub.add_parser("export-coq", help="write a Coq instance file proving the accuracy theorem for a model")
    e.add_argument("model", help="model file, or seed:S")
    e.add_argument("--strategy", default="cubic", help="cubic (default), brute-force (tiny models), cubic-sharp, refine:BUDGET (the search's plan at that budget), or subcubic:DIRECT/ATTENTION/ERROR (the 20 variants docs/coq.md lists)")
    e.add_argument("--out", type=Path, required=True, help="the .v file to write")
    e.add_argument("--name", default=None, help="Coq module-safe instance name (default from the file name)")
    add_config_options(e)
    e.set_defaults(func=cmd_export_coq)

    pr = sub.add_parser("prove", help="build a Coq instance with one command: theories, instance, assumptions")
    pr.add_argument("target", metavar="INSTANCE.v|MODEL",
                    help="an instance written by export-coq, or a model (file or seed:S) to export first")
    pr.add_argument("--strategy", default=None, help="with a model: cubic (default), brute-force or a subcubic variant (as export-coq)")
    pr.add_argument("--out", type=Path, default=None, help="with a model: the .v file to write (default out/coq/NAME.v)")
    pr.add_argument("--name", default=None, help="with a model: Coq instance name")
    pr.add_argument("--coq-dir", type=Path, default=None, help="the repository's coq/ folder (default: found)")
    pr.add_argument("--jobs", type=positive_int, default=2, help="parallel Coq jobs for the theories (default 2)")
    pr.set_defaults(func=cmd_prove)

    add_sweep_parsers(sub)
    for parser in sub.choices.values():
        _add_models_dir(parser)
    return p


def _add_models_dir(parser: argparse.ArgumentParser) -> None:
    """--models-dir after the subcommand too; SUPPRESS keeps the top-level value when it is absent."""
    if not any("--models-dir" in a.option_strings for a in parser._actions):
        parser.add_argument("--models-dir", type=Path, default=argparse.SUPPRESS,
                            help="where trained models live (default: models/)")


def add_sweep_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``sweep`` and ``report`` subcommands (each sets ``func``)."""
    s = subparsers.add_parser("sweep", help="train, certify and check many (model, strategy) pairs; resumable")
    s.add_argument("--seeds", default=None,
                   help="paper (the 151 seeds) or S1,S2,... (default paper, or none when --models/--models-glob is given)")
    _add_model_file_options(s, "certify these model files (any shape; ours or TransformerLens state dicts) "
                               "besides the seeds; rows name the file and its weights' hash")
    s.add_argument("--strategies", default="all", help="all | FAMILY[,FAMILY] | full strategy names (default all)")
    s.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1, help="parallel workers (default: cores)")
    s.add_argument("--executor", choices=("local", "dask", "ray"), default="local",
                   help="local processes (default), or an existing Dask/Ray installation")
    s.add_argument("--address", default=None, help="scheduler address for dask/ray (default: start a local one)")
    s.add_argument("--results", type=Path, default=Path("out/sweep"), help="results folder (default out/sweep)")
    s.add_argument("--certs", type=Path, default=None, help="certificates folder (default RESULTS/certificates)")
    s.add_argument("--steps", type=positive_int, default=TrainConfig().steps,
                   help="training steps: missing models are trained with them, existing ones must record them")
    add_config_options(s)
    s.add_argument("--max-ops", type=positive_int, default=None, metavar="N",
                   help="the checker's work budget for every certificate (default: the checker's; K = 5 brute force needs about 3e11)")
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
    r.add_argument("--baseline", type=Path, default=None, metavar="RESULTS",
                   help="another results folder whose brute-force rows are used for the models that have none here "
                        "(e.g. docs/results/paper-sweep): bounds normalised, exact counts and op fractions against it")
    _add_model_file_options(r, "report only the rows of these model files (matched by their weights' hash, "
                               "computed from the files)")
    r.set_defaults(func=cmd_report)


def _add_model_file_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--models", nargs="+", default=[], metavar="FILE|DIR",
                        help=f"model files or folders of them (*.safetensors, *.pt, *.pth): {what}")
    parser.add_argument("--models-glob", action="append", default=[], metavar="PATTERN",
                        help="model files matching a glob pattern (quote it; ** recurses); repeatable")


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


def model_argument(args: argparse.Namespace) -> str:
    """MODEL as the API takes it: with --config/--shape, ``seed:S`` names the file of that shape."""
    from extract.models import resolve_model

    if args.model.startswith("seed:") and chosen_config(args) != ModelConfig():
        return str(resolve_model(args.model, args.models_dir, chosen_config(args)))
    return args.model


def cmd_sweep(args: argparse.Namespace) -> int:
    from extract.models import expand_model_files
    from extract.sweep import parse_seeds, run_sweep

    files = expand_model_files(args.models, args.models_glob)
    seeds = parse_seeds(args.seeds) if args.seeds is not None or not files else []
    try:
        summary = run_sweep(seeds, args.strategies, args.models_dir, args.results,
                            jobs=args.jobs, executor=args.executor, certs_dir=args.certs, steps=args.steps,
                            config=chosen_config(args), checker=args.checker, progress=progress_enabled(args.quiet),
                            address=args.address, model_files=files, max_ops=args.max_ops)
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
    shas = None
    if args.models or args.models_glob:
        from extract.models import expand_model_files, inspect_model

        shas = {inspect_model(p, None, None).weights_sha256 for p in expand_model_files(args.models, args.models_glob)}
    try:
        out = args.out or args.results / "report"
        paths = write_report(args.results, out, plots=not args.no_plots, weights=shas, baseline=args.baseline)
        if args.json:
            print(json.dumps(summary_json(args.results, weights=shas, baseline=args.baseline), indent=1, sort_keys=True))
        else:
            print(Path(paths["markdown"]).read_text())
            print(f"report written to {out}")
    except ReportError as e:
        raise UserError(str(e)) from None
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: the exit code. 0 success (every claim holds), 1 some claim fails, 2 bad input
    (one line on stderr), 130 interrupted, 141 the reader of standard output went away (e.g.
    ``compact-proofs strategies | head``: no traceback)."""
    try:
        args = build_parser().parse_args(argv)
        try:
            code = args.func(args)
        except UserError as e:
            print(f"compact-proofs: error: {e}", file=sys.stderr)
            code = 2
        except KeyboardInterrupt:
            print("compact-proofs: interrupted", file=sys.stderr)
            code = 130
        except BrokenPipeError:
            raise
        except OSError as e:  # a file or folder that cannot be read or written: one line, never a traceback
            where = f"{e.filename}: " if e.filename else ""
            print(f"compact-proofs: error: {where}{e.strerror or e}", file=sys.stderr)
            code = 2
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
        return code
    except BrokenPipeError:
        detach_stdout()
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
