"""User-facing errors of the ``compact-proofs`` command (one line, exit code 2)."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


class SweepError(UserError):
    """Bad input or a bad results folder for a sweep: one line naming the file or option and
    what was expected. A UserError, so the command line prints it as one line (exit code 2)."""
