"""Counting the checker's arithmetic operations: the "proof length" of every table and plot.

Counted the way the paper counts FLOPs: every multiply, add, subtract, comparison and
division the checker performs on numbers derived from the certificate counts one; a
multiply-add counts two. Control flow, indexing and parsing are not counted.
"""

from __future__ import annotations

import operator


class OpCounter:
    """A mutable tally passed explicitly to every counted computation (no global state)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def add(self, n: int) -> None:
        """Add n operations; n must be an integer (numpy integers are converted, floats rejected)."""
        self.count += operator.index(n)
