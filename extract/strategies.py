"""The catalogue of proof strategies: brute force, cubic, and the 100 subcubic variants.

A strategy is (family, knobs). The family names the checker module and the search module.
"""

from __future__ import annotations

import importlib
import itertools
from dataclasses import dataclass

from checker.strategies.refine import BUDGETS
from checker.strategies.subcubic import KNOBS as SUBCUBIC_KNOBS

# The knob values are defined once, by the checker that has to accept them (extract may import
# checker; the reverse is forbidden).
DIRECT_PATH_MODES: tuple[str, ...] = SUBCUBIC_KNOBS["direct_path"]
ATTENTION_MODES: tuple[str, ...] = SUBCUBIC_KNOBS["attention"]
ATTENTION_ERROR_MODES: tuple[str, ...] = SUBCUBIC_KNOBS["attention_error"]

SEARCH_MODULES: dict[str, str] = {
    "single-sequence": "extract.search.single_sequence",
    "brute-force": "extract.search.brute_force",
    "cubic": "extract.search.cubic",
    "cubic-sharp": "extract.search.cubic_sharp",
    "subcubic": "extract.search.subcubic",
    "refine": "extract.search.refine",
}


DEFAULT_SUBCUBIC_VARIANT = "mean_query+max_diff/mean+diff/max_diff"
"""The subcubic variant that ``--strategy subcubic`` without ``--variant`` selects (the paper's default)."""

# The paper's (and its reference code's) names. Families: the proof categories of the paper.
# Knobs: the paper calls direct_path "EUPU handling", attention "attention handling" and
# attention_error "attention error handling"; its values carry the same names as ours except for
# the attention knob (our short names "mean+diff" / "per-query").
PAPER_FAMILY_NAMES: dict[str, str] = {
    "brute-force": "brute force",
    "cubic": "cubic",
    "subcubic": "subcubic",
}
PAPER_KNOB_NAMES: dict[str, str] = {
    "direct_path": "EUPU",
    "attention": "attention",
    "attention_error": "EQKE error",
}
PAPER_KNOB_VALUES: dict[str, dict[str, str]] = {
    "attention": {"mean+diff": "mean_query+diff", "per-query": "drop_average_query_per_output_logit_reasoning"},
}
DIRECT_PATH_DESCRIPTIONS: dict[str, str] = {
    "mean_query+max_diff": "centred on the mean query (O(v d))",
    "svd_query+max_diff": "centred on the top singular direction (O(v d))",
    "max_diff": "no centre (O(v d))",
    "max_diff_exact": "exact EUPU row by row (O(v^2 d))",
    "global_max_diff_exact": "exact EUPU, one global range (O(v^2 d))",
}
"""What each direct-path (EUPU) mode does, in one phrase (docs/proofs/subcubic.md section 5)."""


def paper_knob_value(knob: str, value: str) -> str:
    """The paper's name of a knob value (identical to ours except for the attention knob)."""
    return PAPER_KNOB_VALUES.get(knob, {}).get(value, value)


@dataclass(frozen=True)
class Strategy:
    """One proof strategy: a family (names the checker and search modules) and its knob values.

    Two names: ``id`` (= ``name``), the stable identifier of the command line, results files and
    certificates file names; and ``paper_name``, the name the paper gives the same proof.
    """

    family: str
    knobs: tuple[tuple[str, str], ...]
    cost_class: str

    @property
    def name(self) -> str:
        """Unique name: the family, plus the variant for subcubic ("subcubic:DP/ATTN/ERR")."""
        return self.family if not self.knobs else f"{self.family}:{self.variant}"

    @property
    def id(self) -> str:
        """The stable command-line id (same as ``name``); ``parse_strategy`` accepts it back."""
        return self.name

    @property
    def variant(self) -> str:
        return "/".join(v for _, v in self.knobs)

    @property
    def knob_dict(self) -> dict[str, str]:
        return dict(self.knobs)

    @property
    def is_default(self) -> bool:
        """True exactly for the paper's default subcubic variant (what ``subcubic`` alone selects)."""
        return self.family == "subcubic" and self.variant == DEFAULT_SUBCUBIC_VARIANT

    @property
    def paper_name(self) -> str:
        """The paper's name: its proof category, plus for subcubic the three knob values as the
        paper (and its reference code) spells them, e.g.
        "subcubic (EUPU: mean_query+max_diff; attention: mean_query+diff; EQKE error: max_diff)".
        A family the paper does not have is named "<family> (not in the paper)"."""
        base = PAPER_FAMILY_NAMES.get(self.family)
        if base is None:
            base = f"{self.family} (not in the paper)"
        if not self.knobs:
            return base
        parts = "; ".join(f"{PAPER_KNOB_NAMES.get(k, k)}: {paper_knob_value(k, v)}" for k, v in self.knobs)
        return f"{base} ({parts})"


def subcubic_cost_class(direct_path: str, attention_error: str) -> str:
    """The leading cost term of a subcubic variant's check (docs/strategies.md; docs/proofs/subcubic.md)."""
    if attention_error.startswith("exact_EQKE") or attention_error == "max_diff_exact" or direct_path.endswith("exact"):
        return "O(v^2 d) (cubic-reference parts)"
    if "recursive" in attention_error and direct_path in ("mean_query+max_diff", "svd_query+max_diff", "max_diff"):
        return "O(v^2 d) EVOU + almost-quadratic rest"
    return "O(v^2 d) EVOU + O(v d^2) rest"


def all_strategies() -> list[Strategy]:
    """The paper's 102 strategies, brute force first."""
    out = [
        Strategy("brute-force", (), "O(v^n n v)"),
        Strategy("cubic", (), "O(v^3 n^2 + v^2 d)"),
    ]
    for dp, attn, err in itertools.product(DIRECT_PATH_MODES, ATTENTION_MODES, ATTENTION_ERROR_MODES):
        out.append(
            Strategy(
                "subcubic",
                (("direct_path", dp), ("attention", attn), ("attention_error", err)),
                subcubic_cost_class(dp, err),
            )
        )
    return out


def refine_strategies() -> list[Strategy]:
    """The refine points, one per budget (``refine:BUDGET``); not among the paper's 102 of all_strategies()."""
    return [Strategy("refine", (("budget", b),), f"cubic + refined cases (~{b} extra ops)") for b in BUDGETS]


def _knob_from_paper(knob: str, value: str) -> str:
    """Our name of a knob value given either our name or the paper's."""
    for ours, theirs in PAPER_KNOB_VALUES.get(knob, {}).items():
        if value == theirs:
            return ours
    return value


def beyond_paper_strategies() -> list[Strategy]:
    """Strategies that are not among the paper's 102 (kept out of all_strategies(), so the paper
    sweep and `run` are unchanged): cubic-sharp, then the refine points."""
    return [Strategy("cubic-sharp", (), "O(v^3 n^2 + v^2 d)")] + refine_strategies()


def parse_strategy(family: str, variant: str | None) -> Strategy:
    """Resolve a command-line choice to a Strategy; ValueError with the valid choices otherwise.

    Accepted spellings (all give the same Strategy): ``family`` alone (for subcubic the default
    variant), ``family`` + ``variant``, a full id as printed by ``strategies`` in either argument
    (``parse_strategy("subcubic:A/B/C", None)``, ``parse_strategy("subcubic", "subcubic:A/B/C")``),
    ``variant="default"``, and the paper's spelling of the attention knob values.
    """
    family = family.strip()
    if ":" in family:
        family, _, in_family = family.partition(":")
        if variant is not None and variant.strip() != in_family and variant.strip() != f"{family}:{in_family}":
            raise ValueError(f"strategy {family}:{in_family!s} and --variant {variant!r} disagree; give one of them")
        variant = in_family
    if variant is not None:
        variant = variant.strip()
        if variant.startswith(f"{family}:"):
            variant = variant[len(family) + 1 :]
        if variant == "default" and family == "subcubic":
            variant = DEFAULT_SUBCUBIC_VARIANT
        if family == "subcubic":
            parts = variant.split("/")
            if len(parts) == 3:
                variant = "/".join(_knob_from_paper(k, v) for k, v in zip(("direct_path", "attention", "attention_error"), parts))
    if family == "refine":  # refine:BUDGET, also spelled refine:ops=BUDGET or refine:budget=BUDGET
        want = (variant or "full").split("=", 1)[-1]
        for s in refine_strategies():
            if s.variant == want:
                return s
        raise ValueError(f"unknown refine budget {variant!r}: expected one of {', '.join(s.variant for s in refine_strategies())}")
    if family == "single-sequence":
        return Strategy("single-sequence", (), "O(n v)")
    for s in all_strategies() + beyond_paper_strategies():
        if s.family == family and (variant is None and not s.knobs or s.variant == variant):
            return s
    if family == "subcubic":
        if variant is None:
            return parse_strategy(family, DEFAULT_SUBCUBIC_VARIANT)
        raise ValueError(
            f"unknown subcubic variant {variant!r}: expected DIRECT_PATH/ATTENTION/ATTENTION_ERROR with "
            f"DIRECT_PATH in {DIRECT_PATH_MODES}, ATTENTION in {ATTENTION_MODES}, ATTENTION_ERROR in {ATTENTION_ERROR_MODES}"
        )
    known = ", ".join(dict.fromkeys(s.family for s in all_strategies() + beyond_paper_strategies())) + ", single-sequence"
    raise ValueError(f"unknown strategy {family!r}; known: {known}")


def search_module(family: str):
    return importlib.import_module(SEARCH_MODULES[family])
