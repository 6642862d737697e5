"""User-facing errors of the ``compact-proofs`` command (one line, exit code 2)."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""
