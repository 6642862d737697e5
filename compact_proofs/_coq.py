"""Building an exported Coq instance with one command: theories, instance, assumptions.

``prove_instance(path)``:

1. reads ``coq/_CoqProject`` at run time: its load-path lines (``-R DIR NAME`` / ``-Q DIR NAME``)
   and its file list; the *theories* are the listed files under the directory mapped to the
   shortest logical name (``theories`` -> ``CompactProofs``);
2. makes sure they are compiled: ``coq_makefile -f _CoqProject -o Makefile.coq`` (when missing
   or older than _CoqProject) and ``make -f Makefile.coq THEORY.vo ...`` (incremental; the
   committed instances are not built);
3. compiles the instance with ``coqc`` and the same load-path flags (prefixed with the coq/
   folder), plus ``-Q FOLDER NAME`` for the instance's own folder when _CoqProject does not map it;
4. compiles a two-line file ``Require Import <instance>. Print Assumptions <theorem>.`` and
   compares the axioms printed with the allowed list of ``coq/check_assumptions.sh``
   (read from that script, the ``ALLOWED="..."`` block).

A successful build is a kernel-checked proof of the instance theorem; nothing here is trusted
for that (a wrong claim fails at ``Qed``). What this module decides is only *which* commands run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from extract.errors import UserError

INSTANCE_QUALIFIER = "ProvedInstance"  # logical name of an instance folder _CoqProject does not map


class ProveError(UserError):
    """Coq missing, a build failing, an assumption not allowed: one line naming what failed."""


@dataclass(frozen=True)
class CoqProject:
    """What _CoqProject says: load-path mappings (flag, folder relative to coq/, logical name) and files."""

    root: Path
    mappings: tuple[tuple[str, str, str], ...]
    files: tuple[str, ...]

    def flags(self) -> list[str]:
        """The load-path flags for a coqc run from anywhere (folders made absolute)."""
        out: list[str] = []
        for flag, folder, name in self.mappings:
            out += [flag, str((self.root / folder).resolve()), name]
        return out

    def theories(self) -> list[str]:
        """Listed files under the folder mapped to the shortest logical name (the library)."""
        if not self.mappings:
            return []
        _, folder, _ = min(self.mappings, key=lambda m: (len(m[2]), m[2]))
        prefix = folder.rstrip("/") + "/"
        return [f for f in self.files if f.startswith(prefix)]

    def logical_module(self, path: Path) -> str | None:
        """The logical name of the .v file ``path`` under a mapped folder, or None."""
        path = path.resolve()
        for _, folder, name in self.mappings:
            base = (self.root / folder).resolve()
            if path.parent == base or base in path.parents:
                rel = path.relative_to(base).with_suffix("").parts
                return ".".join(([name] if name else []) + list(rel))
        return None


def read_coq_project(coq_dir: Path) -> CoqProject:
    """Parse coq_dir/_CoqProject (one argument list, comments after #)."""
    path = coq_dir / "_CoqProject"
    try:
        text = path.read_text()
    except OSError as e:
        raise ProveError(f"{path}: cannot read ({e.strerror or e}); expected the Coq project of this repository") from None
    words = shlex.split(text, comments=True)
    mappings: list[tuple[str, str, str]] = []
    files: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("-R", "-Q") and i + 2 < len(words):
            mappings.append((w, words[i + 1], words[i + 2]))
            i += 3
        elif w == "-arg" and i + 1 < len(words):
            i += 2
        elif w.endswith(".v"):
            files.append(w)
            i += 1
        else:
            i += 1
    if not mappings:
        raise ProveError(f"{path}: no -R or -Q line; expected e.g. '-R theories CompactProofs'")
    return CoqProject(coq_dir, tuple(mappings), tuple(files))


def allowed_assumptions(coq_dir: Path) -> set[str]:
    """The allowed axioms listed in coq/check_assumptions.sh (its ALLOWED="..." block)."""
    script = coq_dir / "check_assumptions.sh"
    try:
        m = re.search(r'^ALLOWED="([^"]*)"', script.read_text(), re.M)
    except OSError as e:
        raise ProveError(f"{script}: cannot read ({e.strerror or e})") from None
    if not m:
        raise ProveError(f'{script}: no ALLOWED="..." list of allowed axioms found')
    return {line.strip() for line in m.group(1).splitlines() if line.strip()}


def find_coq_dir(coq_dir: str | os.PathLike[str] | None = None) -> Path:
    """``coq_dir``, else the coq/ folder of this source tree, else ./coq; must hold _CoqProject."""
    candidates = [Path(coq_dir)] if coq_dir is not None else \
        [Path(__file__).resolve().parents[1] / "coq", Path.cwd() / "coq"]
    for c in candidates:
        if (c / "_CoqProject").is_file():
            return c
    raise ProveError(f"{candidates[0]}: no _CoqProject; expected the coq/ folder of the compact-proofs "
                     "repository (pass --coq-dir)")


def need_tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise ProveError(f"{name} not found on PATH: building Coq instances needs Coq 8.16 with Flocq and Interval "
                         "(e.g. apt-get install coq libcoq-interval); the instance file itself is written")
    return exe


def _run(cmd: list[str], cwd: Path | None, what: str, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ProveError(f"{what}: no result within {timeout:.0f} s: {shlex.join(cmd)}") from None
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + "\n" + proc.stdout).splitlines() if ln.strip()]
        tail = " | ".join(lines[-3:])[:600]
        raise ProveError(f"{what} failed (exit {proc.returncode}): {shlex.join(cmd)}: {tail}")
    return proc


def build_theories(project: CoqProject, jobs: int = 2, timeout: float = 1800) -> list[str]:
    """Compile the library files of _CoqProject that are missing or stale (make decides)."""
    theories = project.theories()
    if not theories:
        raise ProveError(f"{project.root / '_CoqProject'}: lists no file under its library folder")
    need_tool("coq_makefile")
    make = need_tool("make")
    mk = project.root / "Makefile.coq"
    if not mk.exists() or mk.stat().st_mtime < (project.root / "_CoqProject").stat().st_mtime:
        _run(["coq_makefile", "-f", "_CoqProject", "-o", "Makefile.coq"], project.root, "coq_makefile", timeout)
    targets = [str(Path(f).with_suffix(".vo")) for f in theories]
    _run([make, "-f", "Makefile.coq", f"-j{jobs}", *targets], project.root, "building coq/theories", timeout)
    return theories


def instance_command(instance: Path, project: CoqProject) -> list[str]:
    """The coqc command compiling ``instance`` against the built theories."""
    flags = project.flags()
    if project.logical_module(instance) is None:
        flags += ["-Q", str(instance.resolve().parent), INSTANCE_QUALIFIER]
    return ["coqc", *flags, str(instance)]


def instance_module(instance: Path, project: CoqProject) -> str:
    return project.logical_module(instance) or f"{INSTANCE_QUALIFIER}.{instance.stem}"


def theorem_name(instance: Path) -> str:
    """The instance's accuracy theorem (``Theorem NAME_accuracy : ...``)."""
    try:
        text = instance.read_text()
    except OSError as e:
        raise ProveError(f"{instance}: cannot read ({e.strerror or e})") from None
    m = re.search(r"^Theorem\s+([A-Za-z][A-Za-z0-9_']*_accuracy)\b", text, re.M)
    if not m:
        raise ProveError(f"{instance}: no 'Theorem NAME_accuracy'; expected an instance written by export-coq")
    return m.group(1)


@dataclass(frozen=True)
class ProveResult:
    """A built instance: its theorem, the axioms it depends on, whether all are allowed."""

    instance: Path
    theorem: str
    assumptions: tuple[str, ...]
    disallowed: tuple[str, ...]
    command: str
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.disallowed


def parse_assumptions(output: str) -> list[str]:
    """Axiom names from coqc's Print Assumptions output (name at column 0, after 'Axioms:')."""
    if "Closed under the global context" in output:
        return []
    if "Axioms:" not in output:
        raise ProveError(f"no Print Assumptions output from coqc: {output.strip()[-300:]}")
    names = []
    for line in output.split("Axioms:", 1)[1].splitlines():
        if line and re.match(r"[A-Za-z_]", line):
            names.append(line.split()[0])
    return sorted(set(names))


def prove_instance(instance: str | os.PathLike[str], *, coq_dir: str | os.PathLike[str] | None = None,
                   jobs: int = 2, timeout: float = 1800) -> ProveResult:
    """Build coq/theories if needed, compile ``instance``, print and vet its assumptions."""
    t0 = time.perf_counter()
    path = Path(instance)
    if path.suffix != ".v" or not path.is_file():
        raise ProveError(f"{path}: no such Coq file; expected an instance .v written by export-coq")
    need_tool("coqc")
    root = find_coq_dir(coq_dir)
    project = read_coq_project(root)
    allowed = allowed_assumptions(root)
    theorem = theorem_name(path)
    build_theories(project, jobs, timeout)
    cmd = instance_command(path, project)
    _run(cmd, None, f"coqc {path}", timeout)
    with tempfile.TemporaryDirectory(prefix="compact-proofs-prove-") as tmp:
        probe = Path(tmp) / "PrintAssumptions.v"
        module = instance_module(path, project)
        probe.write_text(f"Require Import {module}.\nPrint Assumptions {module}.{theorem}.\n")
        out = _run(["coqc", *cmd[1:-1], "-Q", tmp, "ProveProbe", str(probe)], None, "Print Assumptions", timeout)
    used = parse_assumptions(out.stdout + out.stderr)
    bad = tuple(a for a in used if a not in allowed)
    return ProveResult(path, theorem, tuple(used), bad, shlex.join(cmd), time.perf_counter() - t0)
