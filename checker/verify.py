"""The verdict: recompute what a certificate's strategy can prove, compare it with the claim.

Claim established: Verdict.ok is True exactly when the strategy's checker module returned,
without raising, an integer certified in [0, v^n] with certified >= claim. Any exception of a
strategy module other than CertificateError becomes CheckerInternalError (never an
acceptance).
"""

from __future__ import annotations

import operator
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from checker.certificate import Certificate
from checker.errors import CertificateError
from checker.cost import DEFAULT_MAX_OPS
from checker.load import load_certificate
from checker.ops import OpCounter
from checker.registry import strategy_module


class CheckerInternalError(Exception):
    """A strategy module failed (a bug, not a property of the certificate): never a verdict."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one certificate. ``seconds`` is exact (wall_ns / 10^9)."""

    source: str
    strategy: str
    knobs: dict[str, str | int]
    claimed: int
    certified: int
    ok: bool
    ops: int
    seconds: Fraction
    wall_ns: int = 0

    def seconds_text(self) -> str:
        """Wall time in seconds as a decimal string with microsecond resolution."""
        us = self.wall_ns // 1000
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def check_certificate(cert: Certificate) -> Verdict:
    """Run the certificate's strategy checker and compare its certified count with the claim.

    Raises CertificateError for a malformed witness, CheckerInternalError for any other failure.
    """
    module = strategy_module(cert.strategy)
    ops = OpCounter()
    start = time.perf_counter_ns()
    try:
        certified = module.check(cert, ops)
    except CertificateError:
        raise
    except RecursionError as e:
        raise CheckerInternalError(f"strategy {cert.strategy!r} exceeded the recursion limit: {e}") from None
    except Exception as e:  # a bug in a strategy module must never turn into an acceptance
        raise CheckerInternalError(f"strategy {cert.strategy!r} failed: {type(e).__name__}: {e}") from e
    wall = time.perf_counter_ns() - start
    if not isinstance(certified, bool):
        try:
            certified = operator.index(certified)  # a numpy integer is fine; a float or bool is a bug
        except TypeError:
            pass
    if type(certified) is not int or not 0 <= certified <= cert.n_sequences:
        raise CheckerInternalError(
            f"strategy {cert.strategy!r} returned {certified!r}, not an integer in [0, {cert.n_sequences}]"
        )
    if type(ops.count) is not int:
        raise CheckerInternalError(f"strategy {cert.strategy!r} left a non-integer operation count")
    return Verdict(
        source=cert.source,
        strategy=cert.strategy,
        knobs=dict(cert.knobs),
        claimed=cert.claim,
        certified=certified,
        ok=certified >= cert.claim,
        ops=ops.count,
        seconds=Fraction(wall, 10**9),
        wall_ns=wall,
    )


def check_file(path: str | Path, max_ops: int = DEFAULT_MAX_OPS) -> Verdict:
    """Load (strictly, within the work budget ``max_ops``) and check one certificate file.

    CertificateError if it is malformed or over budget (InputError if it cannot be read).
    """
    return check_certificate(load_certificate(path, max_ops))
