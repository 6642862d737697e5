"""Plots: per-strategy aggregation (median, quartiles, range over models, normalised by each model's
brute-force bound), the paper's FLOP note, PNGs written, and a one-line message without matplotlib."""

from __future__ import annotations

import builtins
import json
import statistics
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from extract import plots
from extract.plots import PlotsUnavailable, aggregate, cost_note, plotted_bounds, rows_from_csv

N = 64  # sequences per hand-made model
SUB = {"direct_path": "mean_query+max_diff", "attention": "mean+diff", "attention_error": "max_diff"}
SUB_ID = "subcubic:mean_query+max_diff/mean+diff/max_diff"


def row(seed: int, strategy: str, certified: int, ops: int, verdict: str = "ok") -> dict[str, Any]:
    family = strategy.partition(":")[0]
    return {"seed": seed, "strategy": strategy, "family": family, "knobs": SUB if family == "subcubic" else {},
            "n_sequences": N, "certified": certified, "claimed": certified, "ops": ops, "verdict": verdict,
            "bound": f"{certified}/{N}", "check_seconds": 0.1, "search_seconds": 0.1, "message": "",
            "weights_sha256": f"sha{seed}"}


def hand_rows() -> list[dict[str, Any]]:
    rows = []
    for seed, bf in ((1, 64), (2, 32), (3, 48)):
        rows += [row(seed, "brute-force", bf, 10_000 + seed), row(seed, "cubic", bf // 2, 1000),
                 row(seed, SUB_ID, bf // 4 * seed % bf, 100 * seed)]
    rows.append(row(4, "cubic", 60, 5, verdict="fail"))  # not ok: never drawn
    return rows


def test_bounds_are_normalised_by_the_same_models_brute_force_bound() -> None:
    ys, normalised = plotted_bounds(hand_rows())
    assert normalised
    by = {(r["seed"], r["strategy"]): y for r, y in ys}
    assert (4, "cubic") not in by
    assert by[(2, "cubic")] == pytest.approx(0.5) and by[(1, "brute-force")] == 1.0
    assert by[(3, SUB_ID)] == pytest.approx(float(Fraction(12 * 3 % 48, 48)))


def test_without_brute_force_rows_the_raw_bound_is_plotted() -> None:
    rows = [r for r in hand_rows() if r["family"] != "brute-force"]
    ys, normalised = plotted_bounds(rows)
    assert not normalised
    assert {y for r, y in ys if r["strategy"] == "cubic"} == {32 / 64, 16 / 64, 24 / 64}


def test_each_strategy_is_one_point_with_median_quartiles_and_range_over_models() -> None:
    points, _ = aggregate(hand_rows())
    by = {p.strategy: p for p in points}
    assert set(by) == {"brute-force", "cubic", SUB_ID}
    sub = by[SUB_ID]
    ys = sorted(float(Fraction(bf // 4 * s % bf, bf)) for s, bf in ((1, 64), (2, 32), (3, 48)))
    assert sub.models == 3
    assert (sub.y_min, sub.y_median, sub.y_max) == pytest.approx((ys[0], statistics.median(ys), ys[-1]))
    assert sub.y_min <= sub.y_q1 <= sub.y_median <= sub.y_q3 <= sub.y_max
    assert (sub.ops_min, sub.ops_median, sub.ops_max) == (100, 200, 300)
    assert by["brute-force"].y_min == by["brute-force"].y_max == 1.0


def test_cost_note_gives_the_papers_flops_next_to_our_checker_operations() -> None:
    note = cost_note(aggregate(hand_rows())[0])
    assert "brute force: paper 8.8e11 FLOPs, here 1.0e4 ops" in note
    assert "cubic: paper 3.5e7 FLOPs, here 1.0e3 ops" in note
    assert "subcubic: paper 1.9e6-4.7e6 FLOPs, here 2.0e2 ops" in note


@pytest.mark.parametrize("families", [("brute-force", "cubic", "subcubic"), ("cubic",)])
def test_both_figures_are_written_as_png(tmp_path: Path, families: tuple[str, ...]) -> None:
    pytest.importorskip("matplotlib")
    rows = [r for r in hand_rows() if r["family"] in families]
    a = plots.plot_bound_vs_cost(rows, tmp_path / "a" / "cost.png")
    b = plots.plot_per_variant(rows, tmp_path / "variant.png")
    for p in (a, b):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rows_from_csv_reads_the_sweep_columns(tmp_path: Path) -> None:
    import csv

    path = tmp_path / "results.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["seed", "strategy", "family", "knobs", "n_sequences", "certified", "claimed", "ops", "verdict", "weights_sha256"])
        w.writerow([7, SUB_ID, "subcubic", json.dumps(SUB), 64, 10, 10, 123, "ok", "abc"])
        w.writerow([7, "cubic", "cubic", "{}", 64, "", "", "", "error", "abc"])
    rows = rows_from_csv(path)
    assert rows[0]["knobs"] == SUB and rows[0]["certified"] == 10 and rows[0]["ops"] == 123
    assert rows[1]["certified"] is None and rows[1]["knobs"] == {}


def hide_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_without_matplotlib_plotting_raises_one_line_naming_the_plot_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    hide_matplotlib(monkeypatch)
    with pytest.raises(PlotsUnavailable) as info:
        plots.plot_bound_vs_cost(hand_rows(), tmp_path / "x.png")
    assert "\n" not in str(info.value) and "compact-proofs[plot]" in str(info.value)
    assert not (tmp_path / "x.png").exists()


def test_without_matplotlib_the_report_still_writes_its_tables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from extract import report
    from extract.report import PLOT_FRONTIER, REPORT_MD, SUMMARY_JSON, write_report

    monkeypatch.setattr(report, "load_rows", lambda results_dir: hand_rows())
    res = tmp_path / "res"
    hide_matplotlib(monkeypatch)
    paths = write_report(res, tmp_path / "report")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "compact-proofs[plot]" in err and "Traceback" not in err
    assert (tmp_path / "report" / REPORT_MD).stat().st_size > 0 and (tmp_path / "report" / SUMMARY_JSON).exists()
    assert not (tmp_path / "report" / PLOT_FRONTIER).exists() and "plots_skipped" in paths
