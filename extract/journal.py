"""The results format of a sweep: rows, the append-only journal, its repair, the summary tables,
and the lock that keeps one writer per results folder.

One *row* per (model, strategy) (the columns are CSV_COLUMNS; docs/sweep.md describes each).
Every finished row is appended to ``journal.jsonl`` as one line with a single ``write`` and an
``fsync`` before the next row is recorded, so a kill tears at most the last line; the reader
ignores a torn last line and ``repair_journal`` cuts it before the next append. ``results.csv``
and ``results.json`` are regenerated from the journal atomically (temporary file + rename).

A row is about one model: a trained seed (``seed`` an integer, ``model`` empty) or a model file
given by the user (``model`` the file's path as given, ``seed`` empty); ``row_key`` is the
(model, strategy) key either way, and ``weights_sha256`` names the weights in both cases.

Compatibility: rows written before the provenance columns existed (results version 1) lack
``checker_version`` and ``train_recipe``, rows before version 3 lack ``model``; all three are
optional on read, and such rows are read, resumed and tabulated (with empty cells) like any other.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import IO, Any


def floor_decimal(x: Fraction, digits: int = 6) -> str:
    """``x`` in [0, 1] as a decimal string rounded DOWN to ``digits`` places (a lower bound stays
    a lower bound when shortened); the spelling of the results' ``bound_decimal`` column."""
    scaled = x.numerator * 10**digits // x.denominator
    text = str(scaled).rjust(digits + 1, "0")
    return f"{text[:-digits]}.{text[-digits:]}"

from extract.errors import SweepError
from extract.strategies import all_strategies

JOURNAL = "journal.jsonl"
CORRUPT = "journal.corrupt.jsonl"  # complete journal lines that are not rows, set aside by the sweep
RESULTS_CSV = "results.csv"
RESULTS_JSON = "results.json"
LOCK = ".lock"
RESULTS_FORMAT = "compact-proofs-sweep-results"
RESULTS_VERSION = 3  # 2 added the optional columns checker_version and train_recipe; 3 added model

# Verdicts. "ok": the checker certified at least the claim; "fail": it certified less;
# "malformed": the checker rejected the certificate as malformed (exit 2);
# "error": the search or the checker crashed. Only the first three are *finished*.
FINISHED_VERDICTS: frozenset[str] = frozenset({"ok", "fail", "malformed"})
VERDICTS: tuple[str, ...] = ("ok", "fail", "malformed", "error")

CSV_COLUMNS: tuple[str, ...] = (
    "seed",
    "strategy",
    "family",
    "knobs",
    "d_vocab",
    "n_ctx",
    "d_model",
    "d_head",
    "n_sequences",
    "certified",
    "claimed",
    "bound",
    "bound_decimal",
    "ops",
    "check_seconds",
    "search_seconds",
    "cert_bytes",
    "verdict",
    "message",
    "weights_sha256",
    "certificate",
    "finished_at",
    "checker_version",
    "train_recipe",
    "model",
)
# Columns that rows of results version 1 (or 2, for model) do not have.
OPTIONAL_COLUMNS: tuple[str, ...] = ("checker_version", "train_recipe", "model")

RowKey = tuple[int | str, str]


def row_key(row: dict[str, Any]) -> RowKey:
    """(seed, strategy) for a trained seed's row, (model file, strategy) for a model file's row."""
    model = row.get("model")
    return (model if model else row["seed"], row["strategy"])


def model_label(row: dict[str, Any]) -> str:
    """How tables name a row's model: the seed number, or the model file."""
    model = row.get("model")
    return str(model) if model else str(row["seed"])


def model_order(row: dict[str, Any]) -> tuple[int, int, str]:
    """Sort key of a row's model: seeds first by number, then model files by name."""
    model = row.get("model")
    return (1, 0, str(model)) if model else (0, int(row["seed"]), "")


def validate_row(row: Any, where: str) -> None:
    """SweepError naming ``where`` unless ``row`` is an object with an int seed (or a null seed
    and a non-empty str model), str strategy, str weights_sha256, a known verdict, and (when
    present) a str checker_version and a train_recipe that is an object or a string."""
    if not isinstance(row, dict):
        raise SweepError(f"{where}: expected a JSON object")
    model = row.get("model")
    if model is not None and (not isinstance(model, str) or not model):
        raise SweepError(f"{where}: field 'model': expected a model file name or null")
    keys = (("seed", int),) if model is None or row.get("seed") is not None else ()
    for key, kind in keys + (("strategy", str), ("verdict", str), ("weights_sha256", str)):
        if not isinstance(row.get(key), kind) or isinstance(row.get(key), bool):
            raise SweepError(f"{where}: field {key!r}: expected {kind.__name__}")
    if row["verdict"] not in VERDICTS:
        raise SweepError(f"{where}: field 'verdict': expected one of {', '.join(VERDICTS)}")
    if row.get("checker_version") is not None and not isinstance(row["checker_version"], str):
        raise SweepError(f"{where}: field 'checker_version': expected a string")
    if row.get("train_recipe") is not None and not isinstance(row["train_recipe"], (dict, str)):
        raise SweepError(f"{where}: field 'train_recipe': expected an object of TrainConfig fields or a string")


def read_journal(results_dir: Path) -> list[dict[str, Any]]:
    """Every row of the journal, in order. A torn last line (no newline: the writer was killed
    mid-write) is ignored; any other unreadable line is a SweepError naming file and line."""
    path = Path(results_dir) / JOURNAL
    if not path.exists():
        return []
    complete = path.read_bytes().split(b"\n")[:-1]  # an unterminated last line never completed
    rows = []
    for i, raw in enumerate(complete, 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except ValueError:
            raise SweepError(f"{path}: line {i}: expected one JSON object per line") from None
        validate_row(row, f"{path}: line {i}")
        rows.append(row)
    return rows


def set_aside_corrupt_lines(results_dir: Path) -> list[str]:
    """Move every complete journal line that is not a valid row (bit rot, an edit, a foreign
    write) to journal.corrupt.jsonl, keeping its bytes, and rewrite the journal without it
    (atomically); returns one line per line moved. Claim: every valid row stays, in order, and
    nothing is deleted; the rows of moved lines are simply not finished, so a sweep recomputes them."""
    path = Path(results_dir) / JOURNAL
    if not path.exists():
        return []
    data = path.read_bytes()
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    keep: list[bytes] = []
    bad: list[bytes] = []
    notes: list[str] = []
    for i, raw in enumerate(complete, 1):
        if not raw.strip():
            continue
        try:
            validate_row(json.loads(raw), f"{path}: line {i}")
            keep.append(raw)
        except (ValueError, SweepError) as e:
            reason = str(e) if isinstance(e, SweepError) else f"{path}: line {i}: expected one JSON object per line"
            notes.append(f"{reason}; set aside in {CORRUPT}, its row will be recomputed")
            bad.append(raw)
    if not bad:
        return []
    fd = os.open(Path(results_dir) / CORRUPT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        _write_all(fd, b"".join(b + b"\n" for b in bad))
        os.fsync(fd)
    finally:
        os.close(fd)
    atomic_write(path, b"".join(k + b"\n" for k in keep) + tail)
    return notes


def repair_journal(results_dir: Path) -> None:
    """Cut a torn last line so the next append starts on a fresh line."""
    path = Path(results_dir) / JOURNAL
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        with open(path, "r+b") as f:
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())


def append_row(results_dir: Path, row: dict[str, Any]) -> None:
    """Append one row as one line, then fsync: either all of it lands, or (killed mid-write) the
    line is torn (no newline) and ignored by read_journal. A write that fails (OSError, e.g.
    ENOSPC, including after a short write) cuts the file back to its length before the append
    and re-raises: no partial line is ever followed by another row."""
    line = (json.dumps(row, sort_keys=True) + "\n").encode()
    fd = os.open(Path(results_dir) / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = os.fstat(fd).st_size
        try:
            _write_all(fd, line)
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
                os.fsync(fd)
            raise
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (a short write is continued, an error raised)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def latest_rows(rows: Iterable[dict[str, Any]]) -> dict[RowKey, dict[str, Any]]:
    """The last journal row of each (model, strategy) (row_key); a finished row is never replaced by an error."""
    out: dict[RowKey, dict[str, Any]] = {}
    for row in rows:
        key = row_key(row)
        old = out.get(key)
        if old is not None and old["verdict"] in FINISHED_VERDICTS and row["verdict"] not in FINISHED_VERDICTS \
                and old["weights_sha256"] == row["weights_sha256"]:
            continue
        out[key] = row
    return out


def _csv_cell(key: str, value: Any) -> Any:
    """A CSV cell: objects (knobs, a train_recipe) as JSON, None as empty, the rest as is."""
    if key == "knobs" or isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return "" if value is None else value


def write_summaries(results_dir: Path) -> list[dict[str, Any]]:
    """Regenerate results.csv and results.json from the journal (atomic replace); returns the rows,
    sorted by model (seeds, then model files) and then catalogue order."""
    results_dir = Path(results_dir)
    order = {s.name: i for i, s in enumerate(all_strategies())}
    rows = sorted(latest_rows(read_journal(results_dir)).values(),
                  key=lambda r: (model_order(r), order.get(r["strategy"], len(order)), r["strategy"]))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _csv_cell(k, r.get(k)) for k in CSV_COLUMNS})
    atomic_write(results_dir / RESULTS_CSV, buf.getvalue())
    obj = {"format": RESULTS_FORMAT, "version": RESULTS_VERSION, "columns": list(CSV_COLUMNS), "rows": rows}
    atomic_write(results_dir / RESULTS_JSON, json.dumps(obj, indent=1, sort_keys=True) + "\n")
    return rows


def atomic_write(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` via a temporary file, fsync and rename: readers see old or
    new. On failure (e.g. ENOSPC) the temporary file is removed, ``path`` is untouched, and the
    OSError is re-raised."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def lock_results(results_dir: Path) -> IO[str]:
    """An exclusive advisory lock on RESULTS/.lock (held until the returned file is closed):
    one sweep writes a results folder at a time."""
    f = open(Path(results_dir) / LOCK, "w")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise SweepError(f"{results_dir}: another sweep is writing to this results folder; wait for it "
                         f"or use another --results") from None
    return f
