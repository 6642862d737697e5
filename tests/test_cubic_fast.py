"""The exact fast paths of the cubic checker (docs/proofs/cubic.md section 10) decide exactly what
the plain loops decide, and charge the same counted operations.

- zero_cases (int64 bounds, exact per-x fallback) against zero_case (the exact loop of Lemma 6.1),
  on random integer inputs of every magnitude, including entries far beyond int64 and rows mixing
  huge and tiny entries (the bounds then leave signs open and the exact per-x sum decides);
- the int64 bound is an upper bound of the exact sum: zero_sum <= T 2^(s + sW) (Lemma 10.1);
- shifted_tables refuses (None) when no weight width fits int64, and zero_cases then runs the loop;
- the count without records (binary search in the sorted u) equals the count of the recorded sets,
  with the same operations, on tiny trained and random models.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.load import load_certificate_obj
from checker.ops import OpCounter
from checker.paths import exact_paths
from checker.strategies import cubic
from extract.certificate import build_certificate
from tests.oracle import tiny_model_zoo

IntMatrix = list[list[int]]


def entries(bits: int) -> st.SearchStrategy[int]:
    """Integers of magnitude below 2^bits, with the extremes and small values over-represented."""
    top = (1 << bits) - 1
    return st.one_of(st.integers(-top, top), st.sampled_from([0, 1, -1, top, -top]), st.integers(-4, 4))


@st.composite
def zero_inputs(draw: st.DrawFn) -> tuple[int, list[int], IntMatrix, IntMatrix, IntMatrix, dict[int, tuple[list[int], list[int]]]]:
    """(q, ms, U, V, P, weights) for zero_cases: v in 2..6, n in 1..5, path entries up to 2^300,
    weights 0 <= wlo <= whi up to 2^500 (magnitudes chosen per input, so many exceed int64)."""
    v = draw(st.integers(2, 6))
    n = draw(st.integers(1, 5))
    bits = draw(st.sampled_from([2, 8, 40, 62, 63, 64, 100, 300]))
    mat = lambda rows: draw(st.lists(st.lists(entries(bits), min_size=v, max_size=v), min_size=rows, max_size=rows))  # noqa: E731
    U, V, P = mat(v), mat(v), mat(n)
    q = draw(st.integers(0, v - 1))
    ms = [m for m in range(q, v) if q == m or n >= 2]
    wbits = draw(st.sampled_from([1, 20, 64, 200, 500]))
    weights = {}
    for m in ms:
        wlo, whi = [], []
        for _ in range(n):
            a = draw(st.integers(0, (1 << wbits) - 1))
            b = a + draw(st.one_of(st.integers(0, 3), st.integers(0, (1 << wbits) - 1)))
            wlo.append(a)
            whi.append(b)
        weights[m] = (wlo, whi)
    return q, ms, U, V, P, weights


def exact_loop(q, ms, U, V, P, weights) -> tuple[dict[int, bool], int]:
    ops = OpCounter()
    return {m: cubic.zero_case(q, m, U, V, P, *weights[m], ops) for m in ms}, ops.count


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(zero_inputs())
def test_zero_fast_path_decides_as_the_exact_loop_with_the_same_ops(inp) -> None:
    q, ms, U, V, P, weights = inp
    want, want_ops = exact_loop(q, ms, U, V, P, weights)
    ops = OpCounter()
    got = cubic.zero_cases(q, ms, U, V, P, weights, cubic.shifted_tables(U, V, P), ops)
    assert got == want
    assert ops.count == want_ops


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(zero_inputs())
def test_int64_bound_is_above_the_exact_sum(inp) -> None:
    q, ms, U, V, P, weights = inp
    t = cubic.shifted_tables(U, V, P)
    assert t is not None
    assert t.hbound < 1 << 62 and len(P) * t.hbound << t.weight_bits <= 1 << 62
    shifted = [cubic.shifted_weights(*weights[m], t.weight_bits) for m in ms]
    WL = np.array([a for a, _ in shifted], dtype=np.int64)
    WH = np.array([b for _, b in shifted], dtype=np.int64)
    assert int(WH.max()) <= 1 << t.weight_bits
    T = cubic._upper_sums(t, q, np.array(ms, dtype=np.int64), WL, WH, len(P))
    for i, m in enumerate(ms):
        scale = t.shift + cubic.weight_shift(weights[m][1], t.weight_bits)
        for x in range(len(U)):
            assert cubic.zero_sum(q, m, x, U, V, P, *weights[m]) <= int(T[i, x]) << scale


def test_mixed_magnitudes_take_the_exact_per_x_sum() -> None:
    """A row with one entry of 2^300 makes the shift s about 271, so the small logit differences
    round to 0 or 1 and the int64 bound cannot prove a sign: zero_sum decides, and the result is
    the exact loop's (here: the sum for x = 1 is -2 w < 0 exactly, and for x = 2 it is +w >= 0)."""
    big = 1 << 300
    U = [[0, -2, 1], [0, 0, 0], [big, 0, 0]]
    V = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
    P = [[0, 0, 0], [0, 0, 0]]
    w = 7
    weights = {0: ([w, w], [w, w])}
    calls: list[int] = []
    real = cubic.zero_sum

    def counting(*a):
        calls.append(a[2])
        return real(*a)

    cubic.zero_sum = counting
    try:
        ops = OpCounter()
        got = cubic.zero_cases(0, [0], U, V, P, weights, cubic.shifted_tables(U, V, P), ops)
    finally:
        cubic.zero_sum = real
    want, want_ops = exact_loop(0, [0], U, V, P, weights)
    assert got == want == {0: False}
    assert ops.count == want_ops
    assert calls == [1, 2]  # both open signs went to the exact sum; it stopped at x = 2


def test_tables_refused_near_int64_overflow_and_the_loop_decides() -> None:
    """Entries near 2^61 kept unshifted (bits = 62): n hbound exceeds 2^61, no weight width W >= 1
    fits, so shifted_tables refuses and zero_cases decides with the exact loop alone; entries of
    2^62 and more are refused before any int64 array is formed."""
    big = 1 << 61
    U = [[0, big, -3], [1, 0, 2], [7, 7, 0]]
    V = [[0, big - 1, 0], [2, 0, 0], [0, 0, 1]]
    P = [[0, 0, 1], [1, 0, 0], [0, 2, 0]]
    assert cubic.shifted_tables(U, V, P, bits=62) is None
    assert cubic.shifted_tables([[0, 1 << 62], [0, 0]], [[0, 0], [0, 0]], [[0, 0]], bits=63) is None
    assert cubic.shifted_tables([[0, 1 << 70], [0, 0]], [[0, 0], [0, 0]], [[0, 0]], bits=80) is None
    assert cubic.shifted_tables(U, V, P) is not None  # the default width shifts them down
    weights = {m: ([1, 2, 3], [4, 5, 6]) for m in range(3)}
    want, want_ops = exact_loop(0, [0, 1, 2], U, V, P, weights)
    ops = OpCounter()
    assert cubic.zero_cases(0, [0, 1, 2], U, V, P, weights, None, ops) == want
    assert ops.count == want_ops


def test_count_without_records_equals_recorded_count_and_ops() -> None:
    for label, w in tiny_model_zoo(12, seed=514):
        cert = load_certificate_obj(build_certificate(w, "cubic", {}, {}, 0), "<t>")
        paths = exact_paths(cert.weights, OpCounter())
        ops_a, ops_b = OpCounter(), OpCounter()
        recorded = cubic.cubic_cases(paths, cert.d_head, ops_a)
        assert cubic.cubic_count(paths, cert.d_head, ops_b) == recorded.count(), label
        assert ops_a.count == ops_b.count, label


@st.composite
def path_matrices(draw: st.DrawFn) -> tuple[IntMatrix, IntMatrix, IntMatrix]:
    """U, V [v][v] and P [n][v] with entries up to 2^bits, bits up to 300; ties are frequent
    (entries often drawn from a few values), so the top-two and candidate logic meets equal maxima."""
    v = draw(st.integers(2, 7))
    n = draw(st.integers(1, 5))
    bits = draw(st.sampled_from([2, 8, 60, 61, 62, 64, 120, 300]))
    pool = draw(st.lists(entries(bits), min_size=1, max_size=4))
    e = st.one_of(entries(bits), st.sampled_from(pool))
    mat = lambda rows: draw(st.lists(st.lists(e, min_size=v, max_size=v), min_size=rows, max_size=rows))  # noqa: E731
    return mat(v), mat(v), mat(n)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(path_matrices())
def test_pessimisations_equal_the_plain_loops_with_the_same_ops(mats) -> None:
    U, V, P = mats
    ops_fast, ops_plain = OpCounter(), OpCounter()
    assert cubic.pessimisations(U, V, P, ops_fast) == cubic.pessimisations_plain(U, V, P, ops_plain)
    assert ops_fast.count == ops_plain.count
