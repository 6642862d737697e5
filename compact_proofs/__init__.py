"""Python API of compact-proofs: certify a Max-of-K model, check a certificate, export a Coq instance.

    >>> import compact_proofs as cp
    >>> r = cp.certify("seed:123", "cubic")          # or a file, a state dict, a HookedTransformer
    >>> r.certified, r.bound, r.ok, r.ops            # checker's count, certified/v^n, verdict, proof length
    >>> cp.check(r.certificate).ok                    # re-check the written certificate
    >>> [s.id for s in cp.strategies() if s.is_default]

What the numbers mean (docs/semantics.md, docs/claims.md):

- *certified count* N: the number of input sequences t in {0..v-1}^n that the independent
  checker (``checker/``, exact integer and rational arithmetic only) proves the model classifies
  correctly (the max token's logit strictly above every other logit) by re-doing the
  certificate's proof. It is a lower bound on the exact number of correct sequences.
- *bound*: N / v^n as an exact ``Fraction``: a proved lower bound on the model's accuracy over
  all v^n sequences.
- *checker operations* (``ops``): the number of exact arithmetic operations the checker spent;
  the proof's length. The proof search that wrote the certificate is not counted (as in the paper).
- *claim*: the count the certificate claims. The checker accepts (``ok``) iff its own count is at
  least the claim; the search side (untrusted, floats) is never believed.

Everything here is built on the leaf modules of ``extract/`` (model files, proof search,
certificate writer, strategy catalogue) and on the checker's ``checker.verify``; nothing in the
checker depends on this module.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checker.errors import CertificateError
from checker.verify import Verdict, check_file
from compact_proofs._coq import ProveResult
from extract.config import ModelConfig, TrainConfig
from extract.errors import UserError
from extract.journal import floor_decimal

if TYPE_CHECKING:  # extract.model loads torch: imported where a model is handled, so check() starts fast
    from extract.model import ModelWeights
from extract.strategies import Strategy, all_strategies, beyond_paper_strategies, parse_strategy

__all__ = [
    "Checked",
    "CompactProofsError",
    "ModelMismatch",
    "UnreadableCertificate",
    "ModelConfig",
    "Result",
    "StrategyInfo",
    "Verdict",
    "certify",
    "certify_many",
    "check",
    "check_certificate_file",
    "export_coq",
    "load",
    "model_sha256",
    "plot_bound_vs_cost",
    "prove",
    "ProveResult",
    "plot_per_variant",
    "strategies",
    "train",
]

DEFAULT_MODELS_DIR = Path("models")
DEFAULT_CERTS_DIR = Path("out/certificates")


class CompactProofsError(UserError):
    """Bad input to the API (unknown strategy, unreadable model, a model given where a certificate
    is expected, ...). The message is one line naming the input and what was expected."""


# --------------------------------------------------------------------------------------------
# Models


ModelLike = Any  # str | os.PathLike | ModelWeights | MaxOfKTransformer | dict | object with .state_dict()


def _seed_path(seed: int, models_dir: Path) -> Path:
    return Path(models_dir) / f"seed-{seed}.safetensors"


def load(model: ModelLike, models_dir: str | os.PathLike[str] = DEFAULT_MODELS_DIR) -> ModelWeights:
    """The exact float32 weights of ``model``, given as any of:

    - a path to a model file: ours (``compact-proofs train``) or a TransformerLens state dict
      (.pt/.pth, or safetensors with TransformerLens key names);
    - ``"seed:S"``: the model trained with seed S, ``models_dir/seed-S.safetensors``;
    - a ``ModelWeights`` or our ``MaxOfKTransformer``;
    - a state dict (our names W_E..W_U, or TransformerLens keys ``embed.W_E``, ...);
    - a TransformerLens ``HookedTransformer`` (or anything with ``.state_dict()`` holding those
      keys). When it has a ``cfg``, its configuration must be this architecture: 1 layer,
      1 head, attention only, no normalisation, attention scale sqrt(d_head).

    Raises CompactProofsError (one line) for anything outside the architecture of semantics.md.
    """
    from extract.model import MaxOfKTransformer, ModelWeights
    from extract.weights import ModelFileError, load_model, weights_from_state_dict

    try:
        if isinstance(model, ModelWeights):
            return model
        if isinstance(model, MaxOfKTransformer):
            return model.weights()
        if isinstance(model, (str, os.PathLike)):
            return load_model(_resolve_path(model, Path(models_dir)))
        if isinstance(model, dict):
            return weights_from_state_dict(model)
        if callable(getattr(model, "state_dict", None)):
            name = type(model).__name__
            _check_hooked_transformer_cfg(getattr(model, "cfg", None), name)
            return weights_from_state_dict(model.state_dict(), source=f"<{name}>")
    except ModelFileError as e:
        raise CompactProofsError(str(e)) from None
    raise CompactProofsError(
        f"model: expected a path, 'seed:S', a state dict, a HookedTransformer or ModelWeights, got {type(model).__name__}"
    )


def _resolve_path(spec: str | os.PathLike[str], models_dir: Path) -> Path:
    text = os.fspath(spec)
    if isinstance(text, str) and text.startswith("seed:"):
        try:
            seed = int(text[5:])
        except ValueError:
            raise CompactProofsError(f"{text}: expected seed:INTEGER") from None
        path = _seed_path(seed, models_dir)
        if not path.exists():
            raise CompactProofsError(f"{path}: no such model; train it with compact_proofs.train({seed})")
        return path
    path = Path(text)
    if not path.exists():
        raise CompactProofsError(f"{path}: no such model file")
    return path


# TransformerLens configuration fields and the values this architecture needs (None: any value).
_TL_CFG_REQUIRED: dict[str, Any] = {
    "n_layers": 1,
    "n_heads": 1,
    "attn_only": True,
    "normalization_type": None,
    "positional_embedding_type": "standard",
    "use_attn_scale": True,
}


def _check_hooked_transformer_cfg(cfg: Any, name: str) -> None:
    """Refuse a HookedTransformer whose cfg says it computes something else than semantics.md."""
    if cfg is None:
        return
    for key, want in _TL_CFG_REQUIRED.items():
        if hasattr(cfg, key) and getattr(cfg, key) != want:
            raise CompactProofsError(f"<{name}>: cfg.{key} is {getattr(cfg, key)!r}, expected {want!r} (semantics.md)")
    d_head, scale = getattr(cfg, "d_head", None), getattr(cfg, "attn_scale", None)
    if isinstance(d_head, int) and scale is not None and float(scale) != d_head**0.5:
        raise CompactProofsError(f"<{name}>: cfg.attn_scale is {scale!r}, expected sqrt(d_head) = {d_head ** 0.5!r}")


def _model_label(model: ModelLike, weights: ModelWeights, models_dir: Path) -> str:
    """A file-name-safe label for certificates: the model file's stem, or the weights' hash."""
    if isinstance(model, (str, os.PathLike)):
        return _resolve_path(model, models_dir).stem
    from extract.certificate import weights_sha256

    return f"model-{weights_sha256(weights)[:12]}"


# --------------------------------------------------------------------------------------------
# Strategies


@dataclass(frozen=True)
class StrategyInfo:
    """One proof strategy of the catalogue.

    ``id``: the stable identifier (``certify(model, id)``, the command line, results files);
    ``paper_name``: what the paper calls it; ``cost_class``: the leading term of the checker's
    cost; ``is_default``: the paper's default subcubic variant (what "subcubic" alone selects).
    """

    id: str
    paper_name: str
    family: str
    knobs: dict[str, str]
    cost_class: str
    is_default: bool


def _info(s: Strategy) -> StrategyInfo:
    return StrategyInfo(s.id, s.paper_name, s.family, s.knob_dict, s.cost_class, s.is_default)


def strategies() -> list[StrategyInfo]:
    """The catalogue: the paper's 102 (brute force, cubic and the 100 subcubic variants), then the
    strategies beyond the paper (cubic-sharp and the refine points, one per budget)."""
    return [_info(s) for s in all_strategies() + beyond_paper_strategies()]


def _strategy(strategy: str | Strategy | StrategyInfo, variant: str | None) -> Strategy:
    if isinstance(strategy, Strategy):
        return strategy
    if isinstance(strategy, StrategyInfo):
        strategy = strategy.id
    try:
        return parse_strategy(str(strategy), variant)
    except ValueError as e:
        raise CompactProofsError(str(e)) from None


# --------------------------------------------------------------------------------------------
# Certify and check


@dataclass(frozen=True)
class Result:
    """The outcome of certifying one model with one strategy.

    - ``claimed``: the count the certificate claims (from the untrusted search);
    - ``certified``: the independent checker's count of sequences proved correct (None when
      ``check=False``); ``bound`` = certified / n_sequences as an exact Fraction;
    - ``ok``: the checker accepted the claim (certified >= claimed); ``ops``: checker operations;
    - ``verdict``: the checker's full Verdict (None when not checked);
    - ``certificate``: the certificate file, which ``check`` (or ``python -m checker``) re-verifies;
    - ``message``: non-empty when the search's first claim exceeded the checker's count and the
      certificate was rewritten to claim the checker's count and checked again from scratch.
    """

    strategy: str
    paper_name: str
    family: str
    knobs: dict[str, str]
    n_sequences: int
    claimed: int
    certified: int | None
    ops: int | None
    verdict: Verdict | None
    certificate: Path
    weights_sha256: str
    search_seconds: float
    check_seconds: float | None
    message: str = ""
    config: ModelConfig = field(default_factory=ModelConfig)

    @property
    def ok(self) -> bool:
        """True iff the checker ran and accepted the claim."""
        return self.verdict is not None and self.verdict.ok

    @property
    def bound(self) -> Fraction | None:
        """The proved lower bound on accuracy, certified / v^n (None if not checked)."""
        return None if self.certified is None else Fraction(self.certified, self.n_sequences)

    @property
    def claimed_bound(self) -> Fraction:
        """The claimed count as a fraction of v^n (not a proved bound unless ``ok``)."""
        return Fraction(self.claimed, self.n_sequences)

    def as_row(self, seed: int | str = 0) -> dict[str, Any]:
        """This result as a results row (the sweep's columns), for ``extract.plots`` and reports."""
        b = self.bound
        c = self.config
        return {
            "seed": seed,
            "strategy": self.strategy,
            "family": self.family,
            "knobs": dict(self.knobs),
            "d_vocab": c.d_vocab, "n_ctx": c.n_ctx, "d_model": c.d_model, "d_head": c.d_head,
            "n_sequences": self.n_sequences,
            "certified": self.certified,
            "claimed": self.claimed,
            "bound": None if b is None else f"{b.numerator}/{b.denominator}",
            "ops": self.ops,
            "check_seconds": self.check_seconds,
            "search_seconds": self.search_seconds,
            "verdict": "ok" if self.ok else ("unchecked" if self.verdict is None else "fail"),
            "message": self.message,
            "weights_sha256": self.weights_sha256,
            "certificate": str(self.certificate),
        }

    def __str__(self) -> str:
        if self.certified is None:
            return f"{self.strategy}: claims {self.claimed}/{self.n_sequences} (not checked) -> {self.certificate}"
        b = self.bound
        head = "claim holds" if self.ok else "CLAIM FAILS"
        reduced = "" if b.denominator == self.n_sequences else f" = {b.numerator}/{b.denominator}"
        return (f"{self.strategy}: {head}: certified {self.certified}/{self.n_sequences}{reduced} "
                f"~ {floor_decimal(b)}, {self.ops} checker ops -> {self.certificate}")


def check(path: str | os.PathLike[str], model: ModelLike | None = None, *,
          models_dir: str | os.PathLike[str] = DEFAULT_MODELS_DIR) -> Verdict:
    """Run the independent checker on a certificate file: its Verdict (``ok``: the claim holds;
    ``certified``: the checker's own count; ``claimed``; ``ops``: checker operations; ``seconds``).

    ``model`` (a model file, ``"seed:S"`` or any form ``load`` accepts): the certificate must be
    about exactly these weights. The model's hash is computed from the model itself
    (``model_sha256``, the checker's canonical encoding), never read from the certificate, and
    compared with the hash the checker verified for the certificate's weights; a mismatch is a
    CompactProofsError and nothing is checked.

    Raises CompactProofsError (one line "FILE: field: message") when the file is not a
    well-formed certificate, including when it is a model file.
    """
    return check_certificate_file(path, model, models_dir=models_dir).verdict


@dataclass(frozen=True)
class Checked:
    """A checked certificate: the checker's Verdict, the SHA-256 of the certificate's weights
    (verified by the checker's loader against the weights themselves; equal to
    ``model_sha256(model)`` when a model was given) and v^n."""

    verdict: Verdict
    weights_sha256: str
    n_sequences: int

    @property
    def bound(self) -> Fraction:
        """certified / v^n: a proved lower bound on the accuracy of the certificate's weights."""
        return Fraction(self.verdict.certified, self.n_sequences)


class UnreadableCertificate(CompactProofsError):
    """The certificate file cannot be read at all (missing, permissions, not a regular file)."""


class ModelMismatch(CompactProofsError):
    """The certificate is about other weights than the model it was checked against."""


def check_certificate_file(path: str | os.PathLike[str], model: ModelLike | None = None, *,
                           models_dir: str | os.PathLike[str] = DEFAULT_MODELS_DIR,
                           weights_sha256: str | None = None, model_name: str | None = None,
                           max_ops: int | None = None) -> Checked:
    """``check``, returning also the weights' hash and v^n (see Checked). Instead of ``model``,
    ``weights_sha256`` may give the expected hash directly (``model_sha256`` of the model, computed
    once for many certificates); ``model_name`` then names the model in the error. ``max_ops``:
    the checker's work budget, where the checker has one (its default otherwise).
    UnreadableCertificate (a CompactProofsError) when the checker says the file cannot be read."""
    import inspect

    from checker import errors as checker_errors
    from checker.load import load_certificate
    from checker.verify import check_certificate

    p = Path(path)
    if _looks_like_model_file(p):
        raise CompactProofsError(f"{p}: this is a model file, not a certificate; certify it first: "
                                 f"compact-proofs certify {p} --strategy cubic")
    want = weights_sha256 if model is None else model_sha256(model, models_dir)
    name = model_name or (None if model is None else _describe_model(model))
    if max_ops is not None and "max_ops" not in inspect.signature(load_certificate).parameters:
        raise CompactProofsError("max_ops: this checker has no work budget to raise")
    try:
        cert = load_certificate(p) if max_ops is None else load_certificate(p, max_ops)
        if want is not None and cert.weights_sha256 != want:
            raise ModelMismatch(
                f"{p}: weights_sha256: the certificate is about weights {cert.weights_sha256[:16]}..., "
                f"not the model {name} (weights {want[:16]}...); "
                "this certificate says nothing about that model")
        return Checked(check_certificate(cert), cert.weights_sha256, cert.n_sequences)
    except CertificateError as e:
        unreadable = getattr(checker_errors, "InputError", ())
        kind = UnreadableCertificate if unreadable and isinstance(e, unreadable) else CompactProofsError
        raise kind(f"{p}: {e.field or '(file)'}: {e.message}") from None


def _describe_model(model: ModelLike) -> str:
    return os.fspath(model) if isinstance(model, (str, os.PathLike)) else f"<{type(model).__name__}>"


def model_sha256(model: ModelLike, models_dir: str | os.PathLike[str] = DEFAULT_MODELS_DIR) -> str:
    """The SHA-256 naming ``model``'s weights (certificates/FORMAT.md, "Weight hash"), computed
    from the model alone: each float32 weight is read from its IEEE-754 bits as an exact
    integer mantissa times a power of two, each tensor is normalised, and the bytes hashed are
    the checker's own canonical encoding (``checker.load.canonical_weight_encoding``).

    Claim: equal to the ``weights_sha256`` the checker accepts for a certificate exactly when
    the certificate's weights are the same real numbers as the model's (up to the hash).
    """
    import hashlib

    from checker.load import canonical_weight_encoding, normalise

    weights = load(model, models_dir)
    c = weights.config
    tensors = {name: normalise(*_dyadic_from_bits(arr, name)) for name, arr in weights.tensors().items()}
    return hashlib.sha256(canonical_weight_encoding(c.d_vocab, c.n_ctx, c.d_model, c.d_head, tensors)).hexdigest()


def _dyadic_from_bits(arr: Any, name: str) -> tuple[list[list[int]], int]:
    """A 2-D float32 array as (integer mantissas, common exponent), exactly: from the bit fields
    sign | 8-bit biased exponent E | 23-bit fraction F, a normal number is (2^23 + F) 2^(E-150)
    and a subnormal one F 2^-149; every mantissa is shifted to the least exponent present."""
    import numpy as np

    bits = np.ascontiguousarray(arr, dtype=np.float32).view(np.uint32).astype(np.int64)
    biased, frac = (bits >> 23) & 0xFF, bits & 0x7FFFFF
    if (biased == 0xFF).any():
        raise CompactProofsError(f"{name}: a weight is infinite or NaN")
    mant = np.where(biased == 0, frac, frac | 0x800000)
    mant = np.where(bits >> 31 == 1, -mant, mant)
    exp = np.where(biased == 0, -149, biased - 150)
    nonzero = mant != 0
    base = int(exp[nonzero].min()) if nonzero.any() else 0
    rows = [[int(m) << int(e - base) if m else 0 for m, e in zip(mr, er)] for mr, er in zip(mant.tolist(), exp.tolist())]
    return rows, base


def _looks_like_model_file(path: Path) -> bool:
    """A safetensors file (8-byte length then '{') or a torch zip/pickle: not a JSON certificate."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return False
    if head[:1] == b"{":  # a JSON object: leave it to the checker
        return False
    return head[:4] == b"PK\x03\x04" or head[:1] == b"\x80" or (len(head) == 9 and head[8:9] == b"{")


def _certificate_path(out: str | os.PathLike[str] | None, label: str, s: Strategy) -> Path:
    """``out`` itself when it names a file (it has a suffix, e.g. ``.json``, and is not an existing
    folder), else ``out/<label>.<strategy>.cert.json`` (default folder out/certificates)."""
    name = f"{label}.{s.id.replace('/', '.').replace(':', '.')}.cert.json"
    if out is None:
        return DEFAULT_CERTS_DIR / name
    out = Path(out)
    return out if _names_a_file(out) else out / name


def _names_a_file(out: Path) -> bool:
    return bool(out.suffix) and not out.is_dir()


def certify(
    model: ModelLike,
    strategy: str | Strategy | StrategyInfo,
    variant: str | None = None,
    check: bool = True,
    out: str | os.PathLike[str] | None = None,
    *,
    models_dir: str | os.PathLike[str] = DEFAULT_MODELS_DIR,
    reclaim: bool = True,
) -> Result:
    """Search for a proof of ``model``'s accuracy with ``strategy``, write its certificate and
    (``check=True``) verify it with the independent exact checker.

    ``model``: see ``load``. ``strategy``: an id printed by ``strategies()`` (``"brute-force"``,
    ``"cubic"``, ``"subcubic:DP/ATTN/ERR"``), a family (``"subcubic"`` = the default variant)
    with ``variant``, or a StrategyInfo. ``out``: a file (any name with a suffix, e.g. ``.json``,
    that is not an existing folder), or a folder for
    ``<model>.<strategy>.cert.json`` (default ``out/certificates/``).

    The returned ``Result.bound`` is a proved lower bound on the model's accuracy only when
    ``Result.ok``. If the search's claim exceeds the checker's count (a float rounding
    disagreement of the untrusted search) and ``reclaim`` is true, the certificate is rewritten
    claiming the checker's count and checked again from scratch; ``Result.message`` says so.
    """
    from extract.certificate import build_certificate, json_int, write_certificate
    from extract.strategies import search_module

    s = _strategy(strategy, variant)
    weights = load(model, models_dir)
    path = _certificate_path(out, _model_label(model, weights, Path(models_dir)), s)
    t0 = time.perf_counter()
    found = search_module(s.family).search(weights, s.knob_dict)
    search_seconds = time.perf_counter() - t0
    provenance = {"api": "compact_proofs.certify", **found.info}
    if isinstance(model, (str, os.PathLike)):
        provenance["model_file"] = _resolve_path(model, Path(models_dir)).name
    cert = build_certificate(weights, s.family, s.knob_dict, found.witness, found.certified_count, provenance)
    write_certificate(cert, path)
    common = dict(strategy=s.id, paper_name=s.paper_name, family=s.family, knobs=s.knob_dict,
                  n_sequences=weights.config.n_sequences, certificate=path, weights_sha256=cert["weights_sha256"],
                  search_seconds=search_seconds, config=weights.config)
    if not check:
        return Result(claimed=found.certified_count, certified=None, ops=None, verdict=None, check_seconds=None, **common)
    v = _check_written(path)
    message = ""
    if not v.ok and reclaim:
        first = v
        write_certificate(dict(cert, claim={"certified_count": json_int(first.certified)}), path)
        v = _check_written(path)
        message = (f"search claimed {first.claimed} > checker's {first.certified}; "
                   f"certificate rewritten to claim {first.certified} and checked again")
    return Result(claimed=v.claimed, certified=v.certified, ops=v.ops, verdict=v,
                  check_seconds=v.wall_ns / 1e9, message=message, **common)


def _check_written(path: Path) -> Verdict:
    try:
        return check_file(path)
    except CertificateError as e:  # a certificate we just wrote is malformed: a bug of the writer
        raise RuntimeError(f"{path}: the written certificate is malformed ({e}); please report this") from None


def certify_many(
    model: ModelLike,
    strategies: Iterable[str | Strategy | StrategyInfo] | str = "all",
    check: bool = True,
    out: str | os.PathLike[str] | None = None,
    *,
    models_dir: str | os.PathLike[str] = DEFAULT_MODELS_DIR,
    progress: bool = False,
) -> list[Result]:
    """``certify`` with each strategy in turn (``"all"``: the whole catalogue); ``out`` a folder."""
    chosen = all_strategies() if strategies == "all" else [_strategy(x, None) for x in strategies]  # type: ignore[union-attr]
    weights = load(model, models_dir)
    label_source = model if isinstance(model, (str, os.PathLike)) else weights
    if out is not None and _names_a_file(Path(out)):
        raise CompactProofsError(f"{out}: certify_many writes several certificates; expected a folder, not a file name")
    it: Iterable[Strategy] = chosen
    if progress:
        from tqdm import tqdm

        it = tqdm(chosen, desc="certifying", unit="strategy")
    return [certify(label_source, s, check=check, out=out, models_dir=models_dir) for s in it]


# --------------------------------------------------------------------------------------------
# Coq export and training


def export_coq(model: ModelLike, strategy: str, out: str | os.PathLike[str], *, name: str | None = None,
               models_dir: str | os.PathLike[str] = DEFAULT_MODELS_DIR) -> Path:
    """Write a Coq instance file ``out`` (``*.v``) whose theorem ``<name>_accuracy`` states that at
    least N sequences are classified correctly, closed by the Coq checker of ``strategy``
    (``"cubic"``, ``"brute-force"`` for models with at most 20,000 sequences, or one of the 20
    subcubic variants docs/coq.md lists, e.g. ``"subcubic:mean_query+max_diff/mean+diff/max_diff"``) running in the
    kernel. Nothing written is trusted: a wrong claim makes the Coq build fail. How to compile
    it: docs/coq.md. Returns the path written."""
    from extract.coq_export import export_instance

    try:
        return export_instance(load(model, models_dir), strategy, out, name=name)
    except UserError as e:
        raise CompactProofsError(str(e)) from None


def prove(
    target: ModelLike,
    strategy: str | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    name: str | None = None,
    coq_dir: str | os.PathLike[str] | None = None,
    jobs: int = 2,
    models_dir: str | os.PathLike[str] = DEFAULT_MODELS_DIR,
) -> ProveResult:
    """Build a Coq instance with one call: compile coq/theories where needed (the file list
    read from coq/_CoqProject at run time), compile the instance, and print the axioms its
    theorem depends on, compared with the allowed list of coq/check_assumptions.sh.

    ``target``: an instance file (``*.v``, written by ``export_coq``), or a model (any form
    ``load`` accepts), which is first exported with ``strategy`` (default ``"cubic"``) to ``out``
    (default ``out/coq/<Label>.v``). Returns a ProveResult (``ok``: every axiom is allowed).
    Raises CompactProofsError (one line) when coqc is missing or a build fails; a failing build of
    an exported instance means its claim is not proved (never a false theorem).
    """
    from compact_proofs._coq import ProveError, prove_instance

    if not (isinstance(target, (str, os.PathLike)) and os.fspath(target).endswith(".v")):
        if out is None:
            label = re.sub(r"[^A-Za-z0-9_]", "_", _model_label(target, load(target, models_dir), Path(models_dir)))
            out = Path("out/coq") / f"M_{label}.v"
        target = export_coq(target, strategy or "cubic", out, name=name, models_dir=models_dir)
    elif strategy is not None or out is not None:
        raise CompactProofsError(f"{os.fspath(target)}: an instance file is built as it is; strategy/out apply to a model")
    try:
        return prove_instance(target, coq_dir=coq_dir, jobs=jobs)
    except ProveError as e:
        raise CompactProofsError(str(e)) from None


def train(
    seed: int,
    *,
    steps: int | None = None,
    config: ModelConfig | None = None,
    out: str | os.PathLike[str] | None = None,
    models_dir: str | os.PathLike[str] = DEFAULT_MODELS_DIR,
    force: bool = False,
    progress: bool = False,
) -> Path:
    """Train a Max-of-K model with the paper's recipe (training.md; deterministic: the same
    arguments give byte-identical weights) and save it; returns the model file.

    Default file: ``models_dir/seed-S.safetensors`` for the paper's model and 3000 steps (the
    command line's), else ``models_dir/seed-S-v{v}-n{n}-d{d}-h{h}-steps{k}.safetensors``. The file
    records its recipe (every TrainConfig field, safetensors metadata ``train_config``, as
    ``compact-proofs train`` writes it). An existing file is reused unless ``force``, after
    checking that it has this shape and records this recipe or none (CompactProofsError otherwise).
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise CompactProofsError(f"seed: expected a non-negative integer, got {seed!r}")
    config = config or ModelConfig()
    steps = TrainConfig().steps if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise CompactProofsError(f"steps: expected a positive integer, got {steps!r}")
    if out is None:
        if config == ModelConfig() and steps == TrainConfig().steps:
            out = _seed_path(seed, Path(models_dir))
        else:
            c = config
            out = Path(models_dir) / f"seed-{seed}-v{c.d_vocab}-n{c.n_ctx}-d{c.d_model}-h{c.d_head}-steps{steps}.safetensors"
    out = Path(out)
    asked = TrainConfig(seed=seed, steps=steps)
    if out.exists() and not force:
        _check_reusable(out, config, asked)
        return out
    from extract.models import train_to_file

    return train_to_file(config, asked, out, progress=progress)


def _check_reusable(out: Path, config: ModelConfig, asked: TrainConfig) -> None:
    """CompactProofsError unless the model file ``out`` has shape ``config`` and records the recipe
    ``asked`` or none (extract.models: the same rule as ``compact-proofs train`` and the sweep)."""
    from dataclasses import fields

    from extract.models import read_model, recipe_from_metadata

    try:
        weights, meta = read_model(out)
        recorded = recipe_from_metadata(out, meta)
    except UserError as e:
        raise CompactProofsError(str(e)) from None
    diffs = []
    if weights.config != config:
        diffs.append(f"shape {weights.config} (asked {config})")
    if recorded is not None:
        diffs += [f"{f.name}={getattr(recorded, f.name)!r} (asked {getattr(asked, f.name)!r})"
                  for f in fields(TrainConfig) if getattr(recorded, f.name) != getattr(asked, f.name)]
    if diffs:
        raise CompactProofsError(f"{out}: exists but was trained differently: {', '.join(diffs)}; pass force=True to retrain")


# --------------------------------------------------------------------------------------------
# Plots


def _rows(results: Iterable[Result | dict[str, Any]]) -> list[dict[str, Any]]:
    return [r.as_row() if isinstance(r, Result) else r for r in results]


def plot_bound_vs_cost(results: Iterable[Result | dict[str, Any]], path: str | os.PathLike[str] | None = None,
                       title: str | None = None) -> Any:
    """The bound-vs-checker-operations figure (extract/plots.py) of ``results`` (Results of one
    model, or rows of a sweep's results); saved as PNG when ``path`` is given. Returns the
    matplotlib Figure (needs the ``plot`` extra; without it extract.plots.PlotsUnavailable, one line)."""
    from extract.plots import bound_vs_cost_figure

    fig = bound_vs_cost_figure(_rows(results), title)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    return fig


def plot_per_variant(results: Iterable[Result | dict[str, Any]], path: str | os.PathLike[str] | None = None,
                     title: str | None = None) -> Any:
    """The per-variant figure (extract/plots.py) of ``results``; saved as PNG when ``path`` is given."""
    from extract.plots import per_variant_figure

    fig = per_variant_figure(_rows(results), title)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    return fig
