"""The catalogue of proof strategies: brute force, cubic, and the 100 subcubic variants.

A strategy is (family, knobs). The family names the checker module and the search module.
"""

from __future__ import annotations

import importlib
import itertools
from dataclasses import dataclass

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
}


@dataclass(frozen=True)
class Strategy:
    family: str
    knobs: tuple[tuple[str, str], ...]
    cost_class: str

    @property
    def name(self) -> str:
        """Unique name: the family, plus the variant for subcubic ("subcubic:DP/ATTN/ERR")."""
        return self.family if not self.knobs else f"{self.family}:{self.variant}"

    @property
    def variant(self) -> str:
        return "/".join(v for _, v in self.knobs)

    @property
    def knob_dict(self) -> dict[str, str]:
        return dict(self.knobs)


def subcubic_cost_class(direct_path: str, attention_error: str) -> str:
    """The leading cost term of a subcubic variant's check (strategies.md section 3)."""
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


def beyond_paper_strategies() -> list[Strategy]:
    """Strategies that are not among the paper's 102 (kept out of all_strategies(), so the paper sweep is unchanged)."""
    return [Strategy("cubic-sharp", (), "O(v^3 n^2 + v^2 d)")]


def parse_strategy(family: str, variant: str | None) -> Strategy:
    """Resolve a CLI choice to a Strategy; ValueError with the valid choices otherwise."""
    if family == "single-sequence":
        return Strategy("single-sequence", (), "O(n v)")
    for s in all_strategies() + beyond_paper_strategies():
        if s.family == family and (variant is None and not s.knobs or s.variant == variant):
            return s
    if family == "subcubic":
        if variant is None:
            return parse_strategy(family, "mean_query+max_diff/mean+diff/max_diff")
        raise ValueError(
            f"unknown subcubic variant {variant!r}: expected DIRECT_PATH/ATTENTION/ATTENTION_ERROR with "
            f"DIRECT_PATH in {DIRECT_PATH_MODES}, ATTENTION in {ATTENTION_MODES}, ATTENTION_ERROR in {ATTENTION_ERROR_MODES}"
        )
    raise ValueError(f"unknown strategy {family!r}; known: brute-force, cubic, cubic-sharp, subcubic, single-sequence")


def search_module(family: str):
    return importlib.import_module(SEARCH_MODULES[family])
