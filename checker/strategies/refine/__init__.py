"""Checker of the strategy "refine": cubic cases, split where the witness says, down to single sequences.

Claim established by ``check``: the returned number is the size of a set of distinct
sequences each of which is PROVED correct (docs/proofs/refine.md, Theorem 6.1). The witness
only lists which cases are split (witness.parse_plan validates it structurally); every test
result, every set of certified values and every count is recomputed here.

Knob ``budget``: a label naming the search budget that produced the witness (extract side);
the checker validates it and otherwise ignores it, since the witness determines all work.
``cost_bound(cert)`` is an upper bound on the operations ``check`` counts, computed from the
model's shape and the witness sizes only (docs/proofs/refine.md section 7).
"""

from __future__ import annotations

from checker.certificate import Certificate
from checker.cost import Header, decide_units, paths_ops
from checker.decide import CHEAP_BITS, FALLBACK_MAX
from checker.strategies import cubic
from checker.ops import OpCounter
from checker.paths import exact_paths
from checker.strategies.refine.cases import refine_count
from checker.strategies.refine.witness import parse_plan

NAME = "refine"
BUDGETS: tuple[str, ...] = ("0", "1e5", "2e5", "5e5", "1e6", "2e6", "3e6", "5e6", "7e6", "1e7", "1.5e7", "2e7", "5e7", "full")
KNOBS: dict[str, tuple[str, ...]] = {"budget": BUDGETS}


def check(cert: Certificate, ops: OpCounter) -> int:
    """The number of sequences the refined case tree proves correct (Theorem 6.1)."""
    plan = parse_plan(cert.witness, cert.d_vocab, cert.n_ctx)
    paths = exact_paths(cert.weights, ops)
    return refine_count(paths, cert.d_head, plan, ops).count


def decide_ops_bound(v: int, n: int) -> int:
    """An upper bound on the operations of one checker.decide.decide_sequence call.

    _prepare counts 3n + (v-1)(5n + n); each of the at most 7 precision rounds (32 .. 2048 bits)
    counts 1 + 6n for the weights and at most (v-1)(4n + 2) for the competitors.
    """
    return 3 * n + (v - 1) * 6 * n + 7 * (1 + 6 * n + (v - 1) * (4 * n + 2))


def node_ops_bound(v: int, n: int) -> int:
    """An upper bound on the operations of one node test (node_values or single_certified), caches empty.

    Scalars 5n and their sums 3n; three shortcut thresholds with their value filters 3(3 + v);
    at most n term vectors (each 2 + 4(v-1), with its dU, dV, dP rows 3(v-1)), their sums and
    maxima 3(v-1) + n(v-1); the last scalar 5; per failing value (at most v-1) its row (dV row,
    P*_W, the row: (5 + n)(v-1)) and at most v-1 comparisons, and 2(v-1) for the thresholds.
    """
    w = v - 1
    return 8 * n + 3 * (3 + v) + 5 + n * (2 + 7 * w) + n * w + 3 * w + 2 * w + w * ((5 + n) * w + w)


def single_ops_bound(v: int, n: int) -> int:
    """An upper bound on the operations of one single_certified call (zero cases, f = 0 nodes), caches empty:
    n scalars 5n and their sum n; n term vectors 2 + 7(v-1) each (with their dU, dV, dP rows) and their sum n(v-1)."""
    w = v - 1
    return 6 * n + n * (2 + 7 * w) + n * w


def cost_bound_sizes(v: int, n: int, d: int, dh: int, split_roots: int, split_nodes: int) -> int:
    """An upper bound on check's operation count from the shape and the witness sizes (section 7).

    Base: paths, exp tables (cubic.md section 8), pessimisations, and per (q, m) the zero case
    and the cubic root tests; per split root at most 2^(n-1) node tests or one decision; per split node at most
    v-1 node tests or one decision.
    """
    w = v - 1
    base = paths_ops(v, n, d, dh)
    base += 8 * v + v * (w + v + 6 * v) + v * ((n - 1) + n + 6 * n)  # exp_tables
    base += v * (2 * n * w + v * w + v * 2 * w + 2 * v)  # pessimisations
    per_q = n * n + 8 * n * n  # sort_positions, position_sums
    per_node = node_ops_bound(v, n)
    per_group = single_ops_bound(v, n) + 3 * v + n * (8 + 8 + v)  # zero case, u, cubic roots
    base += v * per_q + v * v * per_group
    per_split = max(decide_ops_bound(v, n), w * max(per_node, single_ops_bound(v, n)))
    per_root = max(decide_ops_bound(v, n), (1 << max(n - 1, 0)) * per_node)
    return base + split_roots * per_root + split_nodes * per_split


def cost_bound(h: Header) -> int:
    """Work units (checker/cost.py) of check(), from the header and the lengths of the witness's two
    lists (each valid entry is one split; invalid entries make the witness rejected).

    The shared base (paths, exp tables, pessimisations, per-group loops) is charged as cubic's
    bound plus refine's own count of it; per split case the wider of its node tests (one unit per
    counted operation) and one decision at up to CHEAP_BITS bits; and FALLBACK_MAX decisions at
    full precision (the escalations of checker.decide.CappedDecider).
    """
    v, n, d, dh = h.d_vocab, h.n_ctx, h.d_model, h.d_head
    roots, nodes = h.witness_size("split_roots"), h.witness_size("split_nodes")
    cheap = decide_units(v, n, CHEAP_BITS)
    node = max(node_ops_bound(v, n), single_ops_bound(v, n))
    per_root = max(cheap, (1 << max(n - 1, 0)) * node)
    per_node = max(cheap, (v - 1) * node)
    base = cubic.cost_bound(h) + cost_bound_sizes(v, n, d, dh, 0, 0)
    return base + roots * per_root + nodes * per_node + FALLBACK_MAX * decide_units(v, n)
