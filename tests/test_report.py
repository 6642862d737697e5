"""The report: Pareto frontiers (exhaustively against the definition), statistics, markdown, plots,
and clear errors for bad results folders."""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extract.config import ModelConfig
from extract.report import (
    PLOT_FAMILIES,
    PLOT_FRONTIER,
    REPORT_MD,
    SUMMARY_JSON,
    ReportError,
    load_rows,
    pareto_frontier,
    summarise,
    to_markdown,
    with_baseline,
    write_report,
)
from extract.cli import add_sweep_parsers
from extract.job import CheckOutcome, Job, make_row
from extract.journal import JOURNAL, append_row, write_summaries
from extract.sweep import strategy_by_name

CFG = ModelConfig(d_vocab=4, n_ctx=2, d_model=4, d_head=4)  # 16 sequences


def dominated(points, i) -> bool:
    ci, bi = points[i]
    return any(cj <= ci and bj >= bi and (cj < ci or bj > bi) for j, (cj, bj) in enumerate(points) if j != i)


def frontier_by_definition(points) -> list[int]:
    return sorted((i for i in range(len(points)) if not dominated(points, i)), key=lambda i: (points[i][0], i))


def test_frontier_matches_definition_on_every_small_point_set():
    grid = list(itertools.product(range(3), range(3)))
    for n in range(0, 4):
        for pts in itertools.product(grid, repeat=n):
            assert pareto_frontier(list(pts)) == frontier_by_definition(list(pts)), pts


@given(st.lists(st.tuples(st.integers(0, 6), st.fractions(0, 1, max_denominator=5)), max_size=25))
def test_frontier_matches_definition_on_random_point_sets(pts):
    assert pareto_frontier(pts) == frontier_by_definition(pts)


def test_frontier_is_monotone_staircase():
    pts = [(10, Fraction(1, 2)), (1, Fraction(1, 4)), (100, Fraction(1)), (50, Fraction(1, 3)), (5, Fraction(1, 4))]
    idx = pareto_frontier(pts)
    assert idx == [1, 0, 2]
    costs, bounds = zip(*(pts[i] for i in idx))
    assert list(costs) == sorted(costs) and list(bounds) == sorted(bounds)


def row(seed: int, strategy: str, certified: int, ops: int, verdict: str = "ok", sha: str | None = None) -> dict:
    job = Job(seed, strategy_by_name(strategy), f"models/seed-{seed}.safetensors", sha or f"{seed:064x}", "certs", CFG)
    if verdict == "ok":
        outcome = CheckOutcome("ok", certified, certified, ops, 0.5)
    elif verdict == "fail":
        outcome = CheckOutcome("fail", certified, certified + 1, ops, 0.5)
    else:
        outcome = CheckOutcome(verdict, None, None, None, None, "broken | thing")
    return make_row(job, outcome, 1.0, 100)


SUB_A = "subcubic:max_diff/mean+diff/svd"
SUB_B = "subcubic:max_diff_exact/per-query/svd"


def hand_rows() -> list[dict]:
    return [
        row(1, "brute-force", 16, 10_000),
        row(1, "cubic", 12, 1_000),
        row(1, SUB_A, 8, 100),
        row(1, SUB_B, 4, 200),  # dominated by SUB_A
        row(2, "brute-force", 8, 10_000),
        row(2, "cubic", 8, 2_000),  # ties brute force at lower cost: brute force is dominated
        row(2, SUB_A, 2, 100),
        row(2, SUB_B, 1, 300, verdict="fail"),
        row(3, "cubic", 5, 1_000, verdict="malformed"),
    ]


def test_summary_statistics_per_family_and_knob():
    s = summarise(hand_rows())
    assert s["verdicts"] == {"fail": 1, "malformed": 1, "ok": 7}
    cubic = s["by_family"]["cubic"]
    assert cubic["bound"]["n"] == 2
    assert cubic["bound"]["mean"] == pytest.approx((12 / 16 + 8 / 16) / 2)
    assert cubic["bound"]["std"] == pytest.approx(statistics.stdev([12 / 16, 8 / 16]))
    assert (cubic["bound"]["min"], cubic["bound"]["max"]) == (0.5, 0.75)
    assert cubic["normalised"]["mean"] == pytest.approx((12 / 16 + 1.0) / 2)
    assert cubic["ops_median"] == 1500
    assert s["by_subcubic_knob"]["attention"]["mean+diff"]["bound"]["n"] == 2
    assert s["by_subcubic_knob"]["attention"]["per-query"]["bound"]["n"] == 1  # the failed row is left out
    assert set(s["by_subcubic_knob"]) == {"direct_path", "attention", "attention_error"}
    assert {(r["seed"], r["verdict"]) for r in s["not_ok"]} == {(2, "fail"), (3, "malformed")}


def test_frontiers_per_model_and_overall():
    s = summarise(hand_rows())
    per = {seed: [p["strategy"] for p in pts] for seed, pts in s["frontier_per_model"].items()}
    assert per["1"] == [SUB_A, "cubic", "brute-force"]
    assert per["2"] == [SUB_A, "cubic"]
    overall = [(p["seed"], p["strategy"]) for p in s["frontier_overall"]]
    # normalised bounds: seed1 SUB_A 0.5 @100, seed2 SUB_A 0.25 @100, seed1 cubic 0.75 @1000, seed2 cubic 1 @2000
    assert overall == [(1, SUB_A), (1, "cubic"), (2, "cubic")]


def test_exact_counts_and_op_fractions_against_brute_force_per_strategy():
    s = summarise(hand_rows())
    cubic = s["by_strategy"]["cubic"]
    assert cubic["exact"] == {"n": 2, "reached": 1}  # seed 2's cubic count equals its brute-force count
    assert cubic["ops_over_brute_force"]["median"] == pytest.approx((0.1 + 0.2) / 2)
    assert s["by_strategy"]["brute-force"]["exact"] == {"n": 2, "reached": 2}


def test_baseline_brute_force_rows_complete_exactly_the_models_without_one():
    base = hand_rows()
    new = [row(1, "cubic", 12, 1_000), row(2, "cubic", 8, 2_000), row(4, "cubic", 3, 500)]
    rows = with_baseline(new, base)
    added = rows[len(new):]
    assert sorted((r["seed"], r["family"]) for r in added) == [(1, "brute-force"), (2, "brute-force")]
    assert summarise(rows)["by_strategy"]["cubic"]["exact"] == {"n": 2, "reached": 1}  # seed 4 has no baseline
    own = new + [row(1, "brute-force", 15, 9_000)]
    assert [r["seed"] for r in with_baseline(own, base)[len(own):]] == [2]  # a model's own row is kept
    other = [row(1, "cubic", 12, 1_000, sha="f" * 64)]
    assert with_baseline(other, base) == other  # matched by weights hash, not by seed


def test_markdown_has_every_section():
    md = to_markdown(summarise(hand_rows()))
    for heading in ("# Sweep report", "## Per strategy family", "## Subcubic, grouped by attention_error",
                    "## Pareto frontier over all models", "## Pareto frontier per model", "## Rows that are not ok"):
        assert heading in md
    assert "| `cubic` | 2 | 0.6250 +- 0.1768 | 0.5000 .. 0.7500 | 0.8750 +- 0.1768 | 1.5e+03 |" in md
    assert "| 1/2 | 15.00% (10.00 .. 20.00) |" in md
    assert "broken / thing" in md  # a '|' in a message cannot break the table


def _results_dir(tmp_path, rows):
    res = tmp_path / "res"
    res.mkdir()
    for r in rows:
        append_row(res, r)
    write_summaries(res)
    return res


def test_report_files_are_written_and_pngs_non_empty(tmp_path):
    res = _results_dir(tmp_path, hand_rows())
    paths = write_report(res, tmp_path / "report")
    for name in (REPORT_MD, SUMMARY_JSON, PLOT_FRONTIER, PLOT_FAMILIES):
        f = tmp_path / "report" / name
        assert f.exists() and f.stat().st_size > 0, name
    assert (tmp_path / "report" / PLOT_FRONTIER).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((tmp_path / "report" / SUMMARY_JSON).read_text())
    assert summary["rows"] == 9 and paths["markdown"].endswith(REPORT_MD)


def test_report_reads_results_json_when_journal_is_gone(tmp_path):
    res = _results_dir(tmp_path, hand_rows())
    (res / JOURNAL).unlink()
    assert len(load_rows(res)) == 9


def test_bad_results_folders_are_clear_errors(tmp_path):
    with pytest.raises(ReportError, match="no such results folder"):
        load_rows(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match="no journal.jsonl or results.json"):
        load_rows(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / JOURNAL).write_text('{"seed": 1, "strategy": "cubic", "verdict": "maybe", "weights_sha256": "x"}\n')
    with pytest.raises(ReportError, match=r"journal.jsonl: line 1: field 'verdict'"):
        load_rows(bad)
    (bad / JOURNAL).write_text("")
    with pytest.raises(ReportError, match="no rows yet"):
        load_rows(bad)
    (bad / JOURNAL).unlink()
    (bad / "results.json").write_text('{"rows": 3}')
    with pytest.raises(ReportError, match="results.json: field 'format'/'rows'"):
        load_rows(bad)


def test_report_subcommand_turns_bad_folder_into_user_error(tmp_path, capsys):
    from extract.errors import UserError

    parser = argparse.ArgumentParser()
    parser.add_argument("--models-dir")
    add_sweep_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", "--results", str(tmp_path / "nope")])
    with pytest.raises(UserError, match="no such results folder"):
        args.func(args)
    res = _results_dir(tmp_path, hand_rows())
    args = parser.parse_args(["report", "--results", str(res), "--json", "--no-plots"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["models"] == 3
