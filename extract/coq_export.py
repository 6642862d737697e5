"""Write Coq instance files (coq/instances/*.v) proving the accuracy theorem for one model.

An instance file holds only data: the weights as integer mantissas with one power-of-two
exponent per tensor (exactly the certificate encoding, extract/certificate.py), and a
claimed count N. Its single theorem is closed by the Coq checker of the chosen strategy
(coq/theories/BruteForce.v or Cubic.v, proved sound in BruteForceSound.v or CubicSound.v) running in the kernel; nothing written here is
trusted: a wrong weight or claim makes the Coq build fail, never a false theorem.

The claim written is computed here (untrusted, floats allowed):
- brute-force: the number of sequences whose float64 margin exceeds a safety threshold
  (so that the Coq interval evaluation, 64-bit intervals, decides each of them);
- cubic: the exact count of the Python cubic checker (checker.strategies.cubic) on the
  same weights, which the Coq cubic checker reproduces;
- cubic-sharp: the exact count of the Python cubic-sharp checker (checker.strategies.cubic_sharp),
  which the Coq cubic-sharp checker (CubicSharp.v) must reach on the same weights;
- subcubic:DIRECT/ATTENTION/ERROR (a variant the Coq checker covers, COQ_SUBCUBIC_COVERED):
  the certificate of the subcubic search for that variant, checked by the Python subcubic
  checker; the instance carries its witness (gaps, mean attentions) and claims the Python
  checker's count, which the Coq subcubic checker (Subcubic.v) must reach on the same witness;
- refine:BUDGET (``refine`` = ``refine:full``): the refine search's plan at that budget, written
  as a Coq [plan] (Refine.v: per group the split root cases and the trees of split nodes); the
  claim is the Python refine checker's count on that plan, which the Coq refine checker
  (proved sound in RefineSound.v) must reach.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from checker.strategies.refine import BUDGETS
from extract.certificate import DyadicTensor, build_certificate, dyadic_from_float32, weights_sha256
from extract.errors import UserError
from extract.config import WEIGHT_NAMES
from extract.model import ModelWeights, float_paths, logits_from_paths

STRATEGIES = ("brute-force", "cubic", "subcubic:DIRECT_PATH/ATTENTION/ATTENTION_ERROR", "cubic-sharp", "refine:BUDGET")
# The subcubic knob values proved sound in Coq (coq/theories/SubcubicSound.v) and their Coq names
# (coq/theories/Subcubic.v); the Coq checker counts 0 for every other value.
COQ_DIRECT = {
    "mean_query+max_diff": "DP_mean_query",
    "svd_query+max_diff": "DP_svd_query",
    "max_diff": "DP_max_diff",
    "max_diff_exact": "DP_max_diff_exact",
    "global_max_diff_exact": "DP_global_max_diff_exact",
}
COQ_ATTENTION = {"mean+diff": "AT_mean_diff", "per-query": "AT_per_query"}
COQ_ERROR = {"exact_EQKE+max_diff_exact": "ER_exact_EQKE", "max_diff": "ER_max_diff"}
COQ_SUBCUBIC_COVERED = tuple(f"{d}/{a}/{e}" for d in COQ_DIRECT for a in COQ_ATTENTION for e in COQ_ERROR)
# The Coq kernel enumerates every sequence for brute force: keep that to tiny models.
MAX_BRUTE_FORCE_SEQUENCES = 20_000
# Float64 margins below this (absolute) are not claimed: they might not be decided by
# the 64-bit interval evaluation in Coq.
SAFETY_MARGIN = 1e-6

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class CoqExportError(UserError):
    """A model or argument that cannot be exported (message names what was expected);
    a UserError so that the CLI prints it as one line and exits 2."""


def float_brute_force_claim(weights: ModelWeights) -> int:
    """Number of sequences whose float64 margin logit(max) - max_{x != max} logit(x)
    exceeds SAFETY_MARGIN: a claim the exact Coq check is expected to certify."""
    c = weights.config
    v, n = c.d_vocab, c.n_ctx
    grids = np.meshgrid(*([np.arange(v)] * n), indexing="ij")
    tokens = np.stack([g.reshape(-1) for g in grids], axis=1).astype(np.int64)
    logits = logits_from_paths(float_paths(weights), tokens)
    m = tokens.max(axis=1)
    rows = np.arange(len(tokens))
    best = logits[rows, m]
    others = logits.copy()
    others[rows, m] = -np.inf
    margin = best - others.max(axis=1)
    return int(np.count_nonzero(margin > SAFETY_MARGIN))


def python_cubic_claim(weights: ModelWeights) -> int:
    """The exact count of the Python cubic checker on these weights."""
    from extract.search.cubic import exact_cubic_count

    return exact_cubic_count(weights)[0]


def python_cubic_sharp_claim(weights: ModelWeights) -> int:
    """The exact count of the Python cubic-sharp checker on these weights."""
    from extract.search import exact_checker_count

    return exact_checker_count(weights, "cubic-sharp")[0]


def checked_certificate(weights: ModelWeights, family: str, knobs: dict[str, str], witness: dict) -> tuple[dict, int]:
    """The certificate of these weights with ``witness`` and the Python checker's exact count on it
    (extract.search.exact_checker_count), which an instance carrying that witness claims."""
    from extract.search import exact_checker_count

    count = exact_checker_count(weights, family, knobs, witness)[0]
    return build_certificate(weights, family, knobs, witness, count), count


def python_subcubic_certificate(weights: ModelWeights, variant: str) -> tuple[dict, int]:
    """The subcubic search's certificate for ``variant`` and the Python checker's count on it."""
    from extract.strategies import parse_strategy, search_module

    s = parse_strategy("subcubic", variant)
    return checked_certificate(weights, "subcubic", s.knob_dict, search_module("subcubic").search(weights, s.knob_dict).witness)


def _coq_list(x: object) -> str:
    """A nested list of ints as a Coq list literal."""
    if isinstance(x, list):
        return "[" + "; ".join(_coq_list(y) for y in x) + "]"
    return str(int(x))  # type: ignore[call-overload]


def coq_subcubic_witness(cert: dict) -> str:
    """The certificate's knobs and witness as a Coq [sc_witness] record (Subcubic.v)."""
    knobs, wit = cert["strategy"]["knobs"], cert["witness"]
    abar = wit.get("abar", {"exp": 0, "values": []})
    centre = wit.get("dp_centre", {"exp": 0, "values": []})
    rank = wit.get("rank_one", {"exp": 0, "a": [], "b": []})
    eps = wit.get("eps", {"exp": 0, "values": []})
    return (f"{{| w_direct := {COQ_DIRECT[knobs['direct_path']]};\n"
            f"    w_attention := {COQ_ATTENTION[knobs['attention']]};\n"
            f"    w_error := {COQ_ERROR[knobs['attention_error']]};\n"
            f"    w_gaps := {_coq_list(wit['gaps'])};\n"
            f"    w_abar_exp := {int(abar['exp'])};\n"
            f"    w_abar := {_coq_list(abar['values'])};\n"
            f"    w_dp_centre_exp := {int(centre['exp'])};\n"
            f"    w_dp_centre := {_coq_list(centre['values'])};\n"
            f"    w_rank_exp := {int(rank['exp'])};\n"
            f"    w_rank_a := {_coq_list(rank['a'])};\n"
            f"    w_rank_b := {_coq_list(rank['b'])};\n"
            f"    w_eps_exp := {int(eps['exp'])};\n"
            f"    w_eps := {_coq_list(eps['values'])} |}}")


def python_refine_certificate(weights: ModelWeights, budget: str, witness: dict | None = None) -> tuple[dict, int]:
    """The refine certificate (the search's plan at ``budget``, or ``witness`` if given) and the
    Python refine checker's count on it."""
    from extract.search.refine import search

    if witness is None:
        witness = search(weights, {"budget": budget}).witness
    return checked_certificate(weights, "refine", {"budget": budget}, witness)


def coq_refine_plan(witness: dict, n: int) -> str:
    """A refine witness (docs/proofs/refine.md section 2) as a Coq [plan] (Refine.v): per group
    (q, m) the split c's and, per split mask (one bool per non-query position), the tree of the
    split nodes below it. Keys whose parent is not split are unreachable and left out; the Coq
    checker only asks the plan whether a case is split, so any plan is sound."""
    roots = {tuple(k) for k in witness["split_roots"]}
    nodes = {tuple(k) for k in witness["split_nodes"]}

    def tree(key: tuple) -> str:
        kids = sorted(k for k in nodes if len(k) == len(key) + 1 and k[:-1] == key)
        return "PSplit [" + "; ".join(f"({k[-1]}, {tree(k)})" for k in kids) + "]"

    groups = sorted({(q, m) for q, m, _ in roots})
    out = []
    for q, m in groups:
        cs = sorted(c for q2, m2, c in roots if (q2, m2) == (q, m))
        masks = sorted(k[2] for k in nodes if len(k) == 3 and k[:2] == (q, m)
                       and (q, m, bin(k[2]).count("1")) in roots)
        mk = "; ".join("([" + "; ".join("true" if mask >> p & 1 else "false" for p in range(n - 1)) + "], "
                       + tree((q, m, mask)) + ")" for mask in masks)
        out.append(f"mk_gplan {q} {m} {_coq_list(cs)} [{mk}]")
    return "([" + ";\n   ".join(out) + "])%nat"


def coq_tensor(t: DyadicTensor) -> str:
    rows = ";\n      ".join("[" + "; ".join(str(int(m)) for m in row) + "]" for row in t.mantissas)
    return f"{{| mantissas := [\n      {rows}];\n    exponent := {t.exponent} |}}"


def render_instance(weights: ModelWeights, strategy: str, claim: int, name: str, witness: str | None = None) -> str:
    """The text of a Coq instance file for these weights, strategy and claimed count (for a
    subcubic strategy, ``witness`` is the Coq [sc_witness] record, coq_subcubic_witness)."""
    c = weights.config
    tensors = {k: dyadic_from_float32(a) for k, a in weights.tensors().items()}
    # The Coq record fields carry the certificate's tensor names (Model.v, record model).
    tensor_lines = ";\n".join(f"  {k} := {coq_tensor(tensors[k])}" for k in WEIGHT_NAMES)
    wit_def, apply, extra = "", "", ""
    if strategy == "brute-force":
        module, apply = "BruteForceSound", "apply brute_force_sound."
    elif strategy == "cubic":
        module, apply = "CubicSound", "apply cubic_sound."
    elif strategy == "cubic-sharp":
        module, apply = "CubicSharpSound", "apply cubic_sharp_sound."
    elif strategy.startswith("refine"):
        if witness is None:
            raise CoqExportError(f"{strategy}: a refine instance needs its plan")
        module, apply, extra = "RefineSound", f"apply (refine_sound _ {name}_plan).", "Refine "
        wit_def = f"\nDefinition {name}_plan : plan :=\n  {witness}.\n"
    else:
        if witness is None:
            raise CoqExportError(f"{strategy}: a subcubic instance needs its witness")
        extra = "Subcubic "
        module, apply = "SubcubicSound", f"apply (subcubic_sound _ {name}_witness)."
        wit_def = f"\nDefinition {name}_witness : sc_witness :=\n  {witness}.\n"
    return f"""(* Generated by `compact-proofs export-coq` (extract/coq_export.py); do not edit.
   Model: d_vocab={c.d_vocab} n_ctx={c.n_ctx} d_model={c.d_model} d_head={c.d_head},
   weights sha256 {weights_sha256(weights)} (certificates/FORMAT.md encoding).
   Strategy: {strategy}. The theorem below is closed by running the Coq checker
   (proved sound in {module}.v) in the kernel; its statement is Model.certified_accuracy
   (the model is well formed and at least N sequences are correct). *)

From Coq Require Import ZArith NArith List.
From CompactProofs Require Import Model {extra}{module}.
Import ListNotations.
Open Scope Z_scope.

Definition {name}_model : model := {{|
  d_vocab := {c.d_vocab}; n_ctx := {c.n_ctx}; d_model := {c.d_model}; d_head := {c.d_head};
{tensor_lines}
|}}.
{wit_def}
Definition {name}_claim : N := {claim}%N.

Theorem {name}_accuracy : certified_accuracy {name}_model (N.to_nat {name}_claim).
Proof. {apply} vm_cast_no_check (eq_refl true). Qed.
"""


def export_instance(weights: ModelWeights, strategy: str, out_path: str | Path, name: str | None = None) -> Path:
    """Write a Coq instance file for ``weights`` proving ``at_least_correct`` with the claim
    computed by ``strategy`` (see the module docstring); returns the path written."""
    variant = strategy.split(":", 1)[1] if strategy.startswith("subcubic:") else None
    budget = strategy.split(":", 1)[1] if strategy.startswith("refine:") else ("full" if strategy == "refine" else None)
    if budget is not None:
        if budget not in BUDGETS:
            raise CoqExportError(f"strategy: refine takes a budget in {', '.join(BUDGETS)}, got {budget!r}")
    if strategy not in STRATEGIES[:2] + ("cubic-sharp",) and variant is None and budget is None:
        raise CoqExportError(f"strategy: expected one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if variant is not None and variant not in COQ_SUBCUBIC_COVERED:
        raise CoqExportError(f"strategy: the Coq subcubic checker covers only the variants "
                             f"{', '.join(COQ_SUBCUBIC_COVERED)}; got {variant!r}")
    out = Path(out_path)
    if out.suffix != ".v" or not _IDENT.match(out.stem):
        raise CoqExportError(f"--out: expected a .v file whose name is a Coq identifier, got {str(out)!r}")
    name = out.stem if name is None else name
    if not _IDENT.match(name):
        raise CoqExportError(f"--name: expected a Coq identifier (letter, then letters/digits/_), got {name!r}")
    c = weights.config
    if strategy == "brute-force":
        if c.n_sequences > MAX_BRUTE_FORCE_SEQUENCES:
            raise CoqExportError(
                f"brute-force: the Coq kernel enumerates every sequence; expected at most "
                f"{MAX_BRUTE_FORCE_SEQUENCES} sequences, got {c.n_sequences} (use --strategy cubic)"
            )
        claim = float_brute_force_claim(weights)
        text = render_instance(weights, strategy, claim, name)
    elif strategy == "cubic-sharp":
        text = render_instance(weights, strategy, python_cubic_sharp_claim(weights), name)
    elif budget is not None:
        cert, claim = python_refine_certificate(weights, budget)
        text = render_instance(weights, f"refine:{budget}", claim, name, coq_refine_plan(cert["witness"], c.n_ctx))
    elif variant is None:
        text = render_instance(weights, strategy, python_cubic_claim(weights), name)
    else:
        cert, claim = python_subcubic_certificate(weights, variant)
        text = render_instance(weights, strategy, claim, name, coq_subcubic_witness(cert))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return out
