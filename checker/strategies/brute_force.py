"""Checker of the strategy "brute-force": re-decide every one of the v^n sequences exactly.

Claim: ``check(cert, ops)`` returns the number of sequences t in {0..v-1}^n that it PROVED
correct for the certificate's exact weights (logit(x) < logit(max t) for every x != max t,
ties counted as wrong), by the argument of docs/proofs/brute_force.md. The witness carries
nothing: it must be the empty object, so nothing in it can be believed.
"""

from __future__ import annotations

import time

from checker.certificate import Certificate
from checker.ops import OpCounter
from checker.paths import exact_paths
from checker.strategies.brute_force_sweep import SweepResult, sweep
from checker.validate import expect_object

NAME = "brute-force"
KNOBS: dict[str, tuple[str, ...]] = {}


def validate_witness(cert: Certificate) -> None:
    """The brute-force witness is the empty object {} (CertificateError otherwise)."""
    expect_object(cert.witness, "witness", required=(), optional=())


def run(cert: Certificate, ops: OpCounter, want_mask: bool = False, want_unproved: bool = False) -> SweepResult:
    """The full sweep with its statistics (and, if asked, the mask of proved sequences or the
    indices of the others)."""
    validate_witness(cert)
    start = time.perf_counter_ns()
    paths = exact_paths(cert.weights, ops)
    took = time.perf_counter_ns() - start
    res = sweep(paths, cert.d_head, ops, want_mask=want_mask, want_unproved=want_unproved)
    res.ns["paths"] = took
    return res


def check(cert: Certificate, ops: OpCounter) -> int:
    """The number of sequences proved correct (see the module docstring)."""
    return run(cert, ops).proved
