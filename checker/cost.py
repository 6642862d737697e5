"""The cost bound: how much work a certificate can make the checker do, known from its header.

Claim: for a certificate whose header (model dimensions, strategy, knobs, width of the
weights) is ``h``, ``cost_of(h, module)`` is an upper bound, in work units, on what checking
it can cost once the header is accepted; load.py compares it with a budget (``max_ops``)
before any heavy work and refuses the certificate when it is over. Work units:

- one unit per arithmetic operation the checker counts on Python integers (OpCounter), for
  weights of at most WIDTH_STEP bits over a common exponent; wider weights multiply the whole
  bound by width_factor (the square of the number of WIDTH_STEP-bit steps);
- one unit per NUMPY_PER_UNIT element operations on numpy int64 arrays (vectorised, far cheaper);
- exp_units(bits) units per certified exp enclosure at ``bits`` bits of relative precision
  (its Taylor series and squarings on integers of about ``bits`` bits).

The formulas over-count on purpose: they bound the worst case (nothing pruned, every
fallback taken), not the typical run. They are not proved: tests/test_resources.py checks
that counted operations stay below them, and docs/adversarial.md lists bound, counted
operations and measured CPU time for certificates built to be expensive (at most 12.8 ns of
CPU per unit measured). The default budget admits every certificate of the paper's size
(d_vocab 64, n_ctx 4) for every strategy.

Each strategy module defines ``cost_bound(h: Header) -> int`` built from the helpers below;
a strategy without one cannot be checked (CertificateError on strategy.name).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from checker.errors import CertificateError

DEFAULT_MAX_OPS = 2 * 10**10  # at most a few minutes on one core of the reference machine (docs/adversarial.md)
NUMPY_PER_UNIT = 16
WIDTH_STEP = 96  # weight widths up to this many bits cost one unit per counted operation
COST_FIELD = "(cost)"


@dataclass(frozen=True)
class Header:
    """What is known before any heavy work: dimensions, strategy, knobs and the width of the weights."""

    d_vocab: int
    n_ctx: int
    d_model: int
    d_head: int
    strategy: str
    knobs: dict[str, str]
    weight_bits: int = 64  # bits to write every weight over one common exponent (load.py: widest mantissa + exponent spread)
    witness_sizes: tuple[tuple[str, int], ...] = ()  # (field, length) of every top-level list of the witness

    def witness_size(self, field: str) -> int:
        """Length of the witness's top-level list ``field`` (0 if absent or not a list): the size of
        the work a witness can direct, known before the witness is parsed."""
        return dict(self.witness_sizes).get(field, 0)


def exp_units(bits: int) -> int:
    """Work units of one exp enclosure at ``bits`` bits (checker.exp_bounds.exp_dyadic)."""
    return 2048 + bits * bits // 3


def matmul_ops(m: int, k: int, n: int) -> int:
    """Operations counted for an m x k by k x n product (checker.dyadic.matmul)."""
    return m * n * (2 * k - 1)


def paths_ops(v: int, n: int, d: int, h: int) -> int:
    """Operations of checker.paths.exact_paths (the five path matrices)."""
    return (
        v * d
        + 2 * matmul_ops(v, d, h)
        + matmul_ops(n, d, h)
        + matmul_ops(d, h, d)
        + matmul_ops(d, d, v)
        + 2 * matmul_ops(v, d, v)
        + matmul_ops(n, d, v)
        + matmul_ops(v, h, v)
        + matmul_ops(v, h, n)
    )


def load_ops(v: int, n: int, d: int, h: int) -> int:
    """Validation, normalisation and hashing of the weights: a few operations per entry."""
    return 16 * (v * d + n * d + 4 * d * h + d * v)


DECIDE_ROUNDS_BITS = (32, 64, 128, 256, 512, 1024, 2048)  # checker.decide: START_BITS doubling to DEFAULT_MAX_BITS


def decide_units(v: int, n: int, max_bits: int = DECIDE_ROUNDS_BITS[-1]) -> int:
    """Work units of checker.decide.classify_sequence on one sequence with precision cap ``max_bits``
    (every precision round up to the cap taken)."""
    rounds = [b for b in DECIDE_ROUNDS_BITS if b <= max_bits]
    per_round = sum(2 * n * (exp_units(b) + 6) + exp_units(b + 8) + (v - 1) * (4 * n + 2) for b in rounds)
    return 8 * n + 6 * v * n + per_round


def width_factor(weight_bits: int) -> int:
    """How much slower integer arithmetic gets with wider weights: 1 up to WIDTH_STEP bits, then
    quadratic in the number of steps (products of path matrices multiply integers of about
    four weight widths)."""
    steps = max(1, -(-weight_bits // WIDTH_STEP))
    return steps * steps


def cost_of(h: Header, module: ModuleType) -> int:
    """The strategy module's cost bound for ``h``, times the width factor of the weights, plus loading.

    CertificateError if the module declares no cost_bound.
    """
    bound = getattr(module, "cost_bound", None)
    if bound is None:
        raise CertificateError("strategy.name", f"strategy {h.strategy!r} declares no cost bound (cost_bound); it cannot be checked")
    return load_ops(h.d_vocab, h.n_ctx, h.d_model, h.d_head) + width_factor(h.weight_bits) * int(bound(h))


def enforce_budget(h: Header, module: ModuleType, max_ops: int) -> int:
    """The cost bound of ``h``; CertificateError naming the bound and the budget when it exceeds ``max_ops``."""
    cost = cost_of(h, module)
    if cost > max_ops:
        raise CertificateError(
            COST_FIELD,
            f"checking {h.strategy} at d_vocab={h.d_vocab}, n_ctx={h.n_ctx}, d_model={h.d_model}, d_head={h.d_head} "
            f"with {h.weight_bits}-bit weights "
            f"may take up to {cost:,} work units, over the budget of {max_ops:,} (raise it with --max-ops)",
        )
    return cost
