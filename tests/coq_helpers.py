"""Shared by the Coq tests: where coq/ is, whether Coq is installed, building the theories and
compiling one instance file against them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COQ = ROOT / "coq"
HAVE_COQ = shutil.which("coqc") is not None and shutil.which("coq_makefile") is not None
# What coqc says at Qed when the kernel evaluates the checker to false.
REJECTED = 'The term "eq_refl" has type "true = true" while it is expected to have type'

coq = pytest.mark.skipif(not HAVE_COQ, reason="coqc not installed")


def build_theories(*targets: str) -> Path:
    """coq/theories compiled up to ``targets`` (e.g. "theories/CubicSound.vo"), incrementally;
    the committed instances are left to coq/build.sh."""
    for cmd in (["make", "-C", str(COQ), "Makefile.coq"],
                ["make", "-C", str(COQ), "-f", "Makefile.coq", "-j2", *targets]):
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    return COQ


def coq_builds(path: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Compile one instance file against coq/theories (its own folder mapped to the prefix T)."""
    return subprocess.run(
        ["coqc", "-R", str(COQ / "theories"), "CompactProofs", "-Q", str(path.parent), "T", str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
