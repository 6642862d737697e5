"""The main job (run_showcase): table, report files, JSON mode, exit codes, clear errors."""

from __future__ import annotations

import io
import json

import pytest

from extract.config import ModelConfig
from extract.run import run_showcase
from extract.job import CheckOutcome, Job, make_row
from extract.sweep import unavailable_reason

TINY = ModelConfig(d_vocab=6, n_ctx=3, d_model=8, d_head=8)


def failing_runner(job: Job) -> dict:
    """A job whose checker certified less than claimed."""
    return make_row(job, CheckOutcome("fail", 3, 5, 10, 0.01), 0.01, 10)


def test_a_failed_claim_gives_a_non_zero_exit_and_is_shown(tmp_path):
    buf = io.StringIO()
    code = run_showcase(5, tmp_path / "models", tmp_path / "out", "cubic", False, jobs=1, config=TINY, steps=20,
                        runner=failing_runner, out=buf)
    assert code == 1
    assert "cubic" in buf.getvalue() and "fail" in buf.getvalue() and "0/1 claims hold" in buf.getvalue()


def test_unknown_family_is_a_user_error(tmp_path):
    from extract.errors import UserError

    with pytest.raises(UserError, match="unknown family or strategy 'quartic'"):
        run_showcase(5, tmp_path / "models", tmp_path / "out", "quartic", False, config=TINY)


@pytest.mark.skipif(unavailable_reason("cubic") is not None, reason="the cubic strategy is not available yet")
def test_showcase_with_cubic_prints_table_writes_report_and_reuses_rows(tmp_path):
    buf = io.StringIO()
    code = run_showcase(5, tmp_path / "models", tmp_path / "out", "cubic", False, jobs=1, config=TINY, steps=100,
                        out=buf)
    text = buf.getvalue()
    assert code == 0, text
    assert text.splitlines()[0].split() == ["strategy", "bound", "certified/claimed", "ops", "check", "s", "verdict"]
    assert "1/1 claims hold (1 computed, 0 reused" in text
    for name in ("report.md", "summary.json", "bound_vs_ops.png", "bounds_by_family.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert len(list((tmp_path / "out" / "certificates").glob("*.cert.json"))) == 1
    buf = io.StringIO()
    assert run_showcase(5, tmp_path / "models", tmp_path / "out", "cubic", True, jobs=1, config=TINY, steps=100,
                        out=buf) == 0
    obj = json.loads(buf.getvalue())
    assert obj["ok"] and obj["reused"] == 1 and obj["computed"] == 0
    (row,) = obj["rows"]
    assert row["strategy"] == "cubic" and row["verdict"] == "ok" and row["certified"] >= row["claimed"]


def test_unavailable_family_is_reported_not_silently_dropped(tmp_path, monkeypatch):
    import extract.sweep as sweep

    monkeypatch.setattr(sweep, "unavailable_reason", lambda fam: "not installed (test)" if fam == "cubic" else None)
    buf = io.StringIO()
    code = run_showcase(5, tmp_path / "models", tmp_path / "out", "cubic", False, jobs=1, config=TINY, steps=20,
                        out=buf)
    assert code == 1 and "NOT RUN: cubic: not installed (test)" in buf.getvalue()
