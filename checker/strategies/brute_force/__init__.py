"""Checker of the strategy "brute-force": re-decide every one of the v^n sequences exactly.

Claim: ``check(cert, ops)`` returns the number of sequences t in {0..v-1}^n that it PROVED
correct for the certificate's exact weights (logit(x) < logit(max t) for every x != max t,
ties counted as wrong), by the argument of docs/proofs/brute_force.md. The witness carries
nothing: it must be the empty object, so nothing in it can be believed.
"""

from __future__ import annotations

from checker.certificate import Certificate
from checker.cost import NUMPY_PER_UNIT, Header, decide_units, exp_units, paths_ops
from checker.ops import OpCounter
from checker.paths import exact_paths
from checker.strategies.brute_force.sweep import CHUNK_ELEMENTS, FALLBACK_MAX, SweepResult, exhaustive_sweep
from checker.strategies.brute_force.tables import EXP_BITS
from checker.validate import expect_object

NAME = "brute-force"
KNOBS: dict[str, tuple[str, ...]] = {}


CHUNK_UNITS = 1000  # Python work per chunk of the sweep, beyond its numpy operations


def cost_bound(h: Header) -> int:
    """Work units of check() in the worst case (checker/cost.py): nothing pruned, every sequence
    through both grids and the second pass, FALLBACK_MAX sequences decided one by one.

    numpy operations: the group tables (sum over q <= m of about 11 n (v - 1) (m + 1)), per
    sequence 6 (v - 1) in the grids and (v - 1)(12 n + 2) + 4 n in the second pass, and per chunk
    (n (v + 2) + 1)(v - 1); chunks hold at least CHUNK_ELEMENTS / (2 (v - 1)) sequences except
    the last of each prefix, and there are at most n boxes per group.
    """
    v, n = h.d_vocab, h.n_ctx
    s1, s2 = v * (v + 1) // 2, v * (v + 1) * (2 * v + 1) // 6  # sums of (m + 1) and (m + 1)^2 over m < v
    tables = 4 * n * s2 + (v - 1) * (s2 + (n + 1) * s1) + 10 * n * (v - 1) * s2
    per_sequence = (v - 1) * (12 * n + 8) + 4 * n
    chunks = 4 * (v - 1) * v**n // CHUNK_ELEMENTS + n * s1 + 1
    numpy_ops = tables + v**n * per_sequence + chunks * (n * (v + 2) + 1) * (v - 1)
    python = v * (v + n) * (exp_units(EXP_BITS) + 7) + 4 * v * (v + n) + chunks * CHUNK_UNITS
    return paths_ops(v, n, h.d_model, h.d_head) + python + numpy_ops // NUMPY_PER_UNIT + FALLBACK_MAX * decide_units(v, n)


def validate_witness(cert: Certificate) -> None:
    """The brute-force witness is the empty object {} (CertificateError otherwise)."""
    expect_object(cert.witness, "witness", required=(), optional=())


def run(cert: Certificate, ops: OpCounter, want_mask: bool = False, want_unproved: bool = False) -> SweepResult:
    """The full sweep with its statistics (and, if asked, the mask of proved sequences or the
    indices of the others)."""
    validate_witness(cert)
    return exhaustive_sweep(exact_paths(cert.weights, ops), cert.d_head, ops, want_mask=want_mask, want_unproved=want_unproved)


def check(cert: Certificate, ops: OpCounter) -> int:
    """The number of sequences proved correct (see the module docstring)."""
    return run(cert, ops).proved
