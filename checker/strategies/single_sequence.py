"""Single-sequence strategy: prove ONE named sequence correct (docs/proofs/single_sequence.md).

Witness: {"sequence": [t_0, ..., t_{n-1}]} with every t_p in [0, v). No knobs.
Claim established by check(): it returns 1 only when decide_sequence PROVES the named
sequence correct, else 0; one correct sequence is a lower bound of 1 on the count.
"""

from __future__ import annotations

from checker.certificate import Certificate
from checker.cost import Header, decide_units, paths_ops
from checker.decide import decide_sequence
from checker.ops import OpCounter
from checker.paths import exact_paths
from checker.validate import expect_int_list, expect_object

NAME = "single-sequence"
KNOBS: dict[str, tuple[str, ...]] = {}


def cost_bound(h: Header) -> int:
    """Work units of check(): the path matrices and one exact decision (checker/cost.py)."""
    return paths_ops(h.d_vocab, h.n_ctx, h.d_model, h.d_head) + decide_units(h.d_vocab, h.n_ctx)


def parse_witness(cert: Certificate) -> tuple[int, ...]:
    """The witness sequence, validated against the model's (v, n)."""
    w = expect_object(cert.witness, "witness", ("sequence",))
    return tuple(expect_int_list(w["sequence"], "witness.sequence", cert.n_ctx, 0, cert.d_vocab - 1))


def check(cert: Certificate, ops: OpCounter) -> int:
    """1 if the witness sequence is proved correct by exact arithmetic, else 0."""
    seq = parse_witness(cert)
    paths = exact_paths(cert.weights, ops)
    return 1 if decide_sequence(paths, cert.d_head, seq, ops) else 0
