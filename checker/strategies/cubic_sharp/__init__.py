"""The cubic-sharp proof strategy, checked with exact integers (docs/proofs/cubic_sharp.md).

Claim established by ``check``: the returned number N# is the size of a set of distinct
sequences each of which is proved correct (Theorem 5.1 of docs/proofs/cubic_sharp.md), and
N# >= N_cubic, the cubic strategy's count on the same weights (also Theorem 5.1). The witness is the
empty object: every case is recomputed from the weights.

Cost: O(v^2 d) for the path matrices plus O(v^3 n) here (the same class as cubic); every add,
subtract, multiply, divide and comparison on certificate-derived numbers is counted in ``ops``,
and ``cost_bound`` bounds that count from the certificate header alone.
"""

from __future__ import annotations

from typing import Protocol

from checker.certificate import Certificate
from checker.ops import OpCounter
from checker.paths import exact_paths
from checker.strategies import cubic
from checker.strategies.cubic_sharp.cases import per_x_budget, sharp_cases
from checker.validate import expect_object

NAME = "cubic-sharp"
KNOBS: dict[str, tuple[str, ...]] = {}


def check(cert: Certificate, ops: OpCounter) -> int:
    """The number of sequences the cubic-sharp proof establishes as correct (Theorem 5.1)."""
    expect_object(cert.witness, "witness", ())
    paths = exact_paths(cert.weights, ops)
    return sharp_cases(paths, cert.d_head, ops).count()


class HeaderLike(Protocol):
    d_vocab: int
    n_ctx: int
    d_model: int
    d_head: int


def _matmul_ops(a: int, k: int, b: int) -> int:
    return a * b * (2 * k - 1)


def ops_bound(header: HeaderLike) -> int:
    """An upper bound on the operations ``check`` counts in ``ops`` for any certificate with this header.

    Counted operations (OpCounter units), worst case (docs/proofs/cubic_sharp.md section 6):
    every c = 0 joint test failing, every value failing Test 1 and passing Test 2 (i), every
    budgeted Test 3 run. Terms: the path matrices (checker.paths.exact_paths), the exp tables,
    the pessimisations, the position sorting and sums, per (q, m) the c = 0 tests, the cubic
    thresholds and Test 2, and n v^2 Test-3 runs. O(v^2 d + n v^3). tests/test_cubic_sharp.py
    checks ops <= cost_bound on every model it checks.
    """
    v, n, d, h = header.d_vocab, header.n_ctx, header.d_model, header.d_head
    pairs = v * (v + 1) // 2
    paths = (v * d + 2 * _matmul_ops(v, d, h) + _matmul_ops(n, d, h) + _matmul_ops(d, h, d) + _matmul_ops(d, d, v)
             + 2 * _matmul_ops(v, d, v) + _matmul_ops(n, d, v) + _matmul_ops(v, h, v) + _matmul_ops(v, h, n))
    tables = 8 * v + v * ((v - 1) + 7 * v) + v * ((n - 1) + 7 * n)
    pessimise = 2 * n * v * (v - 1) + pairs * (v - 1) + pairs * (3 * (v - 1) + 2)
    per_query = n * n + 8 * n * n + 2 * n
    per_pair = (2 + 8 * (v - 1)  # joint terms
                + 4 * (v - 1) + 2 * n + (v - 1) * (6 * n + 6)  # c = 0: joint test, then exact test
                + 3 * v + 8 * v  # cubic u(t); per-value caches of the first and second bounds
                + (n - 1) * ((18 + v) + 14 * v + 2 * (5 * (v - 1) + 4 * v)))  # per c: cubic, first bound, second bound
    per_x = per_x_budget(v, n) * (1 + 8 * (v - 1))
    return paths + tables + pessimise + v * per_query + pairs * per_pair + per_x


def cost_bound(header: HeaderLike) -> int:
    """Work units of check() (checker/cost.py): the counted operations of ops_bound, each weighted
    as the cubic checker weights the operations of its case loops (cubic.WIDE: their integers carry
    up to about 2100 bits), plus the exp tables as the cubic checker charges them."""
    return cubic.cost_bound(header) + cubic.WIDE * ops_bound(header)  # type: ignore[arg-type]
