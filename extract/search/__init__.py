"""Untrusted proof search, one module per strategy family.

Each module defines ``search(weights: ModelWeights, knobs: dict[str, str]) -> SearchResult``.
Floats are fine here; the checker re-establishes everything exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any


@dataclass
class SearchResult:
    """What a search hands to the certificate writer: integer-only witness and the claimed count."""

    witness: dict[str, Any]
    certified_count: int
    info: dict[str, str] = field(default_factory=dict)  # untrusted notes, written as provenance


SEARCH_MAX_OPS = 10**30  # no practical limit: the checker's work budget guards it against certificates it did
# not build (docs/adversarial.md); here the search runs the routine on its own certificate. The
# independent checker process still applies its budget (sweep/check --max-ops).


def exact_checker_count(weights: Any, strategy: str, knobs: dict[str, str] | None = None,
                        witness: dict[str, Any] | None = None) -> tuple[int, int]:
    """(count, operations) of the exact checker of ``strategy`` run in-process on a certificate of
    these weights with a zero claim (extract may import checker; never the reverse)."""
    from checker.load import load_certificate_obj
    from checker.ops import OpCounter
    from checker.registry import strategy_module
    from extract.certificate import build_certificate

    cert = load_certificate_obj(build_certificate(weights, strategy, knobs or {}, witness or {}, 0), "<search>",
                                max_ops=SEARCH_MAX_OPS)
    ops = OpCounter()
    count = strategy_module(strategy).check(cert, ops)
    return count, ops.count


def exact_claim_search(weights: Any, knobs: dict[str, str], strategy: str,
                       float_count: Callable[[Any], int]) -> SearchResult:
    """The search of a strategy with no knobs and an empty witness: the claim is the exact count
    the checker computes (so it can never over-claim); its float estimate is reported as info."""
    if knobs:
        raise ValueError(f"the {strategy} strategy takes no knobs, got {sorted(knobs)}")
    count, ops = exact_checker_count(weights, strategy)
    return SearchResult(
        witness={},
        certified_count=count,
        info={
            "claim_source": f"exact count of the {strategy} checker run on this certificate",
            f"float64_{strategy.replace('-', '_')}_count": str(float_count(weights)),
            "checker_ops": str(ops),
        },
    )
