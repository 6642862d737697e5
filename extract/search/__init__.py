"""Untrusted proof search, one module per strategy family.

Each module defines ``search(weights: ModelWeights, knobs: dict[str, str]) -> SearchResult``.
Floats are fine here; the checker re-establishes everything exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SearchResult:
    """What a search hands to the certificate writer: integer-only witness and the claimed count."""

    witness: dict[str, Any]
    certified_count: int
    info: dict[str, str] = field(default_factory=dict)  # untrusted notes, written as provenance
