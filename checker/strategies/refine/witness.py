"""The refine witness: which cases are split (docs/proofs/refine.md, section 2).

Claim established by ``parse_plan``: the returned Plan holds exactly the keys listed in the
witness, each a valid case key for a model with v tokens and n positions, none listed twice,
and every split node's parent split as well (so every key is a node of the case tree of
section 2, reached from a root). Anything else raises CertificateError naming the field.
Nothing here is believed: the plan only says where the checker works harder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checker.errors import CertificateError
from checker.validate import expect_int_list, expect_list, expect_object

RootKey = tuple[int, int, int]  # (q, m, c)
NodeKey = tuple[int, ...]  # (q, m, mask, k_1, ..., k_j)


@dataclass(frozen=True)
class Plan:
    """split_roots: the cubic cases (q, m, c) that are split; split_nodes: the nodes (q, m, mask, prefix) that are split."""

    split_roots: frozenset[RootKey]
    split_nodes: frozenset[NodeKey]


def cmax(q: int, m: int, n: int) -> int:
    """The largest number of non-max non-query positions of a sequence with query q and max m (q <= m)."""
    return n - 1 if q == m else n - 2


def parse_plan(witness: Any, v: int, n: int) -> Plan:
    """Validate the witness {"split_roots": [[q, m, c], ...], "split_nodes": [[q, m, mask, k_1..k_j], ...]}."""
    obj = expect_object(witness, "witness", ("split_roots", "split_nodes"))
    roots: set[RootKey] = set()
    for i, item in enumerate(expect_list(obj["split_roots"], "witness.split_roots")):
        field = f"witness.split_roots[{i}]"
        q, m, c = expect_int_list(item, field, 3, -1, max(v, n))
        if not 0 <= q <= m <= v - 1:
            raise CertificateError(field, f"expected 0 <= q <= m <= {v - 1}, got q = {q}, m = {m}")
        if not 0 <= c <= cmax(q, m, n):
            raise CertificateError(field, f"expected c in [0, {cmax(q, m, n)}] for q = {q}, m = {m}, got {c}")
        if (q, m, c) in roots:
            raise CertificateError(field, "duplicate key")
        roots.add((q, m, c))
    nodes: set[NodeKey] = set()
    items = expect_list(obj["split_nodes"], "witness.split_nodes")
    parsed: list[tuple[str, NodeKey]] = []
    for i, item in enumerate(items):
        field = f"witness.split_nodes[{i}]"
        raw = expect_list(item, field)
        if not 3 <= len(raw) <= 3 + max(n - 1, 0):
            raise CertificateError(field, f"expected [q, m, mask, k_1, ..., k_j] with 0 <= j <= {max(n - 1, 0)}, got length {len(raw)}")
        key = tuple(expect_int_list(raw, field, None, 0, max(v, 1 << max(n - 1, 0))))
        q, m, mask, prefix = key[0], key[1], key[2], key[3:]
        if not q <= m <= v - 1:
            raise CertificateError(field, f"expected 0 <= q <= m <= {v - 1}, got q = {q}, m = {m}")
        if not 1 <= mask < (1 << max(n - 1, 0)):
            raise CertificateError(field, f"expected a mask in [1, {(1 << max(n - 1, 0)) - 1}], got {mask}")
        c = bin(mask).count("1")
        if c > cmax(q, m, n):
            raise CertificateError(field, f"mask {mask} has {c} positions; at most {cmax(q, m, n)} for q = {q}, m = {m}")
        if len(prefix) > c:
            raise CertificateError(field, f"expected at most {c} fixed values for mask {mask}, got {len(prefix)}")
        if any(k >= m for k in prefix):
            raise CertificateError(field, f"fixed values must be < m = {m}, got {list(prefix)}")
        if key in nodes:
            raise CertificateError(field, "duplicate key")
        nodes.add(key)
        parsed.append((field, key))
    for field, key in parsed:  # every split node's parent is split (so the node is in the tree)
        q, m, mask, prefix = key[0], key[1], key[2], key[3:]
        if prefix:
            if key[:-1] not in nodes:
                raise CertificateError(field, f"its parent node {list(key[:-1])} is not split")
        elif (q, m, bin(mask).count("1")) not in roots:
            raise CertificateError(field, f"its parent case {[q, m, bin(mask).count('1')]} is not split")
    return Plan(frozenset(roots), frozenset(nodes))
