"""Which module checks which strategy. Imported lazily so a broken strategy cannot break the rest.

Each module (or package) in checker/strategies/ defines
    NAME: str
    KNOBS: dict[str, tuple[str, ...]]     # every knob is required; its allowed values
    def cost_bound(h: checker.cost.Header) -> int   # work units, an upper bound (checker/cost.py)
    def check(cert: Certificate, ops: OpCounter) -> int
check returns the number of sequences it proves correct (raising CertificateError for a
malformed witness); the verdict compares that number with the claim. A module without
cost_bound is refused before its check runs. Adding a strategy: one line below, and those
four names in its module.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from checker.errors import CertificateError

STRATEGY_MODULES: dict[str, str] = {
    "single-sequence": "checker.strategies.single_sequence",
    "brute-force": "checker.strategies.brute_force",
    "cubic": "checker.strategies.cubic",
    "cubic-sharp": "checker.strategies.cubic_sharp",
    "subcubic": "checker.strategies.subcubic",
    "refine": "checker.strategies.refine",
}


def strategy_module(name: str) -> ModuleType:
    """The checker module for strategy ``name``; CertificateError if there is none."""
    if name not in STRATEGY_MODULES:
        raise CertificateError("strategy.name", f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGY_MODULES))}")
    try:
        return importlib.import_module(STRATEGY_MODULES[name])
    except ModuleNotFoundError as e:
        raise CertificateError("strategy.name", f"strategy {name!r} has no checker installed ({e.name})") from None
