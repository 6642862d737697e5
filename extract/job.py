"""One certify-and-check job, from a model file to its results row.

The path of every (seed, strategy) of ``compact-proofs run`` and ``sweep``, in order:
``run_job`` loads the weights, ``certify`` runs the strategy's untrusted search and builds the
certificate, the certificate is written, ``check_certificate_file`` runs the independent checker
on the written file (by default ``python -m checker FILE --json`` in a fresh process: it never
imports ``extract``, torch or float code, so nothing the search did can influence the verdict,
and a checker crash is confined to one row), ``reclaim`` re-checks a float over-claim at the
checker's count, and ``make_row`` turns the outcome into the row.

Claim: a row's ``certified`` count, and hence its ``bound``, is a number the checker printed for
the certificate file named in the row, never one the search computed; the row's ``verdict`` is
``ok`` only if the checker's status, exit code and counts agree that certified >= claimed.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from checker.errors import CertificateError
from checker.verify import check_file
from extract.certificate import build_certificate, json_int, write_certificate
from extract.config import ModelConfig
from extract.errors import SweepError
from extract.model import ModelWeights
from extract.journal import floor_decimal
from extract.models import UNKNOWN, load_weights
from extract.strategies import Strategy, search_module

CHECKER_MODES: tuple[str, ...] = ("subprocess", "inprocess")


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to produce the row of one (model, strategy); picklable.

    ``strategy`` is resolved once, by whoever builds the job; ``train_recipe`` is the model's
    recorded recipe (extract.models.provenance) as the coordinator read it. A trained seed's job
    has ``seed`` and no ``model``; a user's model file has ``model`` (the file as given) and
    ``seed`` None.
    """

    seed: int | None
    strategy: Strategy
    model_file: str
    weights_sha256: str
    certs_dir: str
    config: ModelConfig = field(default_factory=ModelConfig)
    checker: str = "subprocess"  # or "inprocess"
    train_recipe: dict[str, Any] | str = UNKNOWN
    model: str | None = None
    max_ops: int | None = None  # the checker's work budget; None: the checker's default

    @property
    def key(self) -> tuple[int | str, str]:
        """The journal key of its row (extract.journal.row_key)."""
        return (self.model if self.model else self.seed, self.strategy.name)  # type: ignore[return-value]


@dataclass(frozen=True)
class CheckOutcome:
    verdict: str
    certified: int | None
    claimed: int | None
    ops: int | None
    seconds: float | None
    message: str = ""


def certify(weights: ModelWeights, strategy: Strategy, provenance: dict[str, str] | None = None) -> dict[str, Any]:
    """Run the untrusted search of ``strategy`` and build its certificate object (nothing here is
    trusted: the checker re-establishes every number the certificate claims)."""
    result = search_module(strategy.family).search(weights, strategy.knob_dict)
    prov = dict(provenance or {})
    prov.update(result.info)
    return build_certificate(weights, strategy.family, strategy.knob_dict, result.witness,
                             result.certified_count, prov)


def certificate_filename(model: Path, strategy: Strategy) -> str:
    """MODEL-STEM.STRATEGY.cert.json, with / and : of the strategy name as dots."""
    return f"{model.stem}.{strategy.name.replace('/', '.').replace(':', '.')}.cert.json"


def certificate_file(job: Job) -> Path:
    """CERTS/MODEL-STEM.STRATEGY.cert.json; a user's model file gets its weights' hash prefix in the
    name too (MODEL-STEM.SHA12.STRATEGY...), so files of one name in two folders do not collide."""
    name = certificate_filename(Path(job.model_file), job.strategy)
    if job.model:
        stem = Path(job.model_file).stem
        name = f"{stem}.{job.weights_sha256[:12]}{name[len(stem):]}"
    return Path(job.certs_dir) / name


def run_job(job: Job) -> dict[str, Any]:
    """Search, write the certificate, run the independent checker; the row (never raises)."""
    out = certificate_file(job)
    search_seconds: float | None = None
    try:
        weights = load_weights(Path(job.model_file), job.config)
        t0 = time.perf_counter()
        prov = {"model_file": Path(job.model_file).name}
        if job.seed is not None:
            prov["seed"] = str(job.seed)
        cert = certify(weights, job.strategy, prov)
        search_seconds = time.perf_counter() - t0
        if cert.get("weights_sha256") != job.weights_sha256:
            raise SweepError(f"{job.model_file}: weights changed during the sweep (sha256 mismatch)")
        write_certificate(cert, out)
    except Exception as e:  # noqa: BLE001 - a crashing search is recorded, not fatal to the sweep
        return make_row(job, CheckOutcome("error", None, None, None, None, _one_line(e)), search_seconds, None)
    outcome = check_certificate_file(out, job.checker, job.max_ops)
    if outcome.verdict == "fail" and outcome.certified is not None:
        outcome = reclaim(cert, out, outcome, job.checker, job.max_ops)
    return make_row(job, outcome, search_seconds, out.stat().st_size)


def reclaim(cert: dict[str, Any], out: Path, failed: CheckOutcome, mode: str, max_ops: int | None = None) -> CheckOutcome:
    """The search's claim (a float estimate) exceeded the checker's exact count: write the same
    witness claiming the checker's count and check that certificate again, from scratch.

    The row keeps the trail in its message. The bound is always the final checker's count, so
    this changes no number; it turns a float rounding disagreement into an accepted certificate.
    """
    write_certificate(dict(cert, claim=dict(cert["claim"], certified_count=json_int(failed.certified))), out)
    again = check_certificate_file(out, mode, max_ops)
    note = (f"search claimed {failed.claimed} > checker's {failed.certified} "
            f"(first check {failed.seconds:.3f} s); re-checked claiming {failed.certified}")
    return replace(again, message=f"{again.message} {note}".strip())


# --------------------------------------------------------------------------------------------
# The checker protocol


def checker_command() -> list[str]:
    """The command that runs the checker package this process imports, in isolated mode (-I: the
    current folder, PYTHONPATH and user site-packages cannot put another ``checker`` first)."""
    root = str(Path(importlib.util.find_spec("checker").origin).parent.parent)  # type: ignore[arg-type]
    boot = f"import sys; sys.path.insert(0, {root!r}); from checker.cli import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-I", "-c", boot]


def check_certificate_file(path: Path, mode: str = "subprocess", max_ops: int | None = None) -> CheckOutcome:
    """Run the independent checker on ``path``: a fresh isolated checker process (checker_command), or
    in-process; ``max_ops`` raises (or lowers) the checker's work budget."""
    if mode == "inprocess":
        return _check_inprocess(path, max_ops)
    if mode != "subprocess":
        raise SweepError(f"checker mode {mode!r}: expected subprocess or inprocess")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    budget = [] if max_ops is None else ["--max-ops", str(max_ops)]
    proc = subprocess.run(checker_command() + [str(path), "--json"] + budget, capture_output=True, text=True, env=env, check=False)
    try:
        entry = _checker_json_entry(json.loads(proc.stdout))
    except (ValueError, KeyError, TypeError, IndexError) as e:
        msg = f"checker exited {proc.returncode} without one --json verdict ({e}): {_last_line(proc.stderr)}"
        return CheckOutcome("error", None, None, None, None, msg)
    return _outcome_from_entry(entry, proc.returncode)


def _checker_json_entry(obj: Any) -> dict[str, Any]:
    """The single file entry of the checker's --json output (a JSON array with one object per file)."""
    if isinstance(obj, list) and len(obj) == 1 and isinstance(obj[0], dict):
        return obj[0]
    raise ValueError(f"expected an array of one verdict object, got {type(obj).__name__}")


def _as_int(x: Any) -> int | None:
    if x is None or isinstance(x, bool):
        return None
    return int(x)  # ints, or decimal strings for counts beyond 2^53


def _outcome_from_entry(entry: dict[str, Any], returncode: int) -> CheckOutcome:
    """Map one entry of `python -m checker --json` (status ok | claim-fails | malformed |
    internal-error) to an outcome, cross-checking the status against the counts and exit code."""
    status = entry.get("status")
    message = f"{entry.get('field', '')}: {entry.get('message', '')}" if "message" in entry else ""
    if status == "malformed":
        return CheckOutcome("malformed", None, None, None, None, message)
    if status not in ("ok", "claim-fails"):
        return CheckOutcome("error", None, None, None, None, f"checker status {status!r} (exit {returncode}) {message}")
    certified, claimed, ops = _as_int(entry.get("certified")), _as_int(entry.get("claimed")), _as_int(entry.get("ops"))
    wall_ns = _as_int(entry.get("wall_ns"))
    seconds = wall_ns / 1e9 if wall_ns is not None else float(entry["seconds"])
    if certified is None or claimed is None or ops is None:
        return CheckOutcome("error", certified, claimed, ops, seconds, "checker output lacks counts")
    ok = status == "ok"
    if ok != (certified >= claimed) or returncode != (0 if ok else 1):
        return CheckOutcome("error", certified, claimed, ops, seconds,
                            f"checker output inconsistent: status {status}, exit {returncode}, "
                            f"certified {certified}, claimed {claimed}")
    return CheckOutcome("ok" if ok else "fail", certified, claimed, ops, seconds, "")


def _check_inprocess(path: Path, max_ops: int | None = None) -> CheckOutcome:
    try:
        v = check_file(path) if max_ops is None else check_file(path, max_ops)
    except CertificateError as e:
        return CheckOutcome("malformed", None, None, None, None, str(e))
    except Exception as e:  # noqa: BLE001 - CheckerInternalError and anything else: never a verdict
        return CheckOutcome("error", None, None, None, None, _one_line(e))
    return CheckOutcome("ok" if v.ok else "fail", v.certified, v.claimed, v.ops, v.wall_ns / 1e9, "")


@functools.cache
def checker_version() -> str:
    """The version of the checker this process runs: ``git:COMMIT`` of the repository holding
    the ``checker`` package (``+dirty`` when files under checker/ differ from that commit), else
    ``package:VERSION`` of the installed compact-proofs distribution, else ``unknown``."""
    spec = importlib.util.find_spec("checker")
    folder = Path(spec.origin).parent if spec is not None and spec.origin else None
    if folder is not None:
        def git(*args: str) -> str | None:
            try:
                proc = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                                      timeout=30, check=False)
            except (OSError, subprocess.SubprocessError):
                return None
            return proc.stdout.strip() if proc.returncode == 0 else None

        head, tracked = git("rev-parse", "HEAD"), git("ls-files", "--", "__init__.py")
        if head and tracked:
            return f"git:{head}" + ("+dirty" if git("status", "--porcelain", "--", ".") else "")
    try:
        return f"package:{importlib.metadata.version('compact-proofs')}"
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------------------------
# The row


def make_row(job: Job, outcome: CheckOutcome, search_seconds: float | None, cert_bytes: int | None) -> dict[str, Any]:
    """The journal row of ``job``: bound = certified / v^n exactly (a fraction string) and as a
    decimal, with the checker's version and the model's training recipe."""
    c = job.config
    total = c.n_sequences
    certified = outcome.certified
    bound = Fraction(certified, total) if certified is not None else None
    return {
        "seed": job.seed,
        "strategy": job.strategy.name,
        "family": job.strategy.family,
        "knobs": job.strategy.knob_dict,
        "d_vocab": c.d_vocab,
        "n_ctx": c.n_ctx,
        "d_model": c.d_model,
        "d_head": c.d_head,
        "n_sequences": total,
        "certified": certified,
        "claimed": outcome.claimed,
        "bound": None if bound is None else f"{bound.numerator}/{bound.denominator}",
        "bound_decimal": None if bound is None else floor_decimal(bound, 12),
        "ops": outcome.ops,
        "check_seconds": outcome.seconds,
        "search_seconds": search_seconds,
        "cert_bytes": cert_bytes,
        "verdict": outcome.verdict,
        "message": outcome.message,
        "weights_sha256": job.weights_sha256,
        "certificate": str(certificate_file(job)),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "checker_version": checker_version(),
        "train_recipe": job.train_recipe,
        "model": job.model,
    }


def _one_line(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    return f"{type(e).__name__}: {e}{where}".replace("\n", " ")[:500]


def _last_line(text: str) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1][:500] if lines else ""
