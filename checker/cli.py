"""Command line of the independent checker: `compact-proofs-check FILE... [--json] [--max-ops N]`.

Also `python -I -m checker` (-I: the current directory and PYTHON* variables cannot change
which checker runs). Exit codes (the highest applicable one wins):
  0  every claim holds
  1  some certificate is well-formed but its claim fails
  2  some certificate is malformed or over the work budget, or a strategy failed internally
  3  some file could not be read (missing, unreadable, not a regular file)
  4  the verdict could not be written (standard output closed, full or failing)
Every problem is reported on one line "FILE: field: message" (code 4 on standard error,
"checker: ..."); never a traceback. Output text is escaped so it survives any stdout encoding.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from checker.certificate import json_int
from checker.cost import DEFAULT_MAX_OPS
from checker.errors import CertificateError, InputError
from checker.verify import CheckerInternalError, Verdict, check_file

EXIT_OK, EXIT_CLAIM_FAILS, EXIT_MALFORMED, EXIT_UNREADABLE, EXIT_OUTPUT = 0, 1, 2, 3, 4

DESCRIPTION = f"""\
Independently check compact-proofs certificates (certificates/FORMAT.md).

For each FILE the checker strictly validates the certificate, bounds the work its strategy
can cost from the header alone (refused above --max-ops), recomputes from the exact integer
weights the number of sequences the strategy proves correct ("certified"), and accepts
exactly when certified >= the certificate's claimed count. It prints the verdict, both
counts, the exact arithmetic operation count (the proof length) and the wall time.

Run it as `compact-proofs-check` or `python -I -m checker` (never as a plain `python -m
checker` in a directory you do not control: that runs whatever checker/ lies there).

Exit status: {EXIT_OK} every claim holds; {EXIT_CLAIM_FAILS} some claim fails; {EXIT_MALFORMED} some file is malformed or over
the budget ("FILE: field: message"), or a strategy checker failed internally; {EXIT_UNREADABLE} some file
cannot be read or is not a regular file; {EXIT_OUTPUT} the verdict could not be written.
"""

MAX_FIELD_CHARS = 200
MAX_MESSAGE_CHARS = 400


class OutputError(Exception):
    """Writing the verdict failed (exit code 4)."""


def one_line(text: str, limit: int) -> str:
    """``text`` with every non-printable character escaped and its length capped (one output line)."""
    out = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return out if len(out) <= limit else out[: limit - 3] + "..."


def _verdict_line(v: Verdict) -> str:
    knobs = "" if not v.knobs else " " + ",".join(f"{k}={val}" for k, val in sorted(v.knobs.items()))
    head = "claim holds" if v.ok else "CLAIM FAILS"
    rel = ">=" if v.ok else "<"
    return (
        f"{one_line(v.source, 1000)}: {head}: certified {v.certified} {rel} claimed {v.claimed} "
        f"[{v.strategy}{knobs}] ops={v.ops} time={v.seconds_text()}s"
    )


def _verdict_json(v: Verdict) -> dict[str, Any]:
    return {
        "file": v.source,
        "status": "ok" if v.ok else "claim-fails",
        "strategy": v.strategy,
        "knobs": v.knobs,
        "claimed": json_int(v.claimed),
        "certified": json_int(v.certified),
        "ops": json_int(v.ops),
        "wall_ns": v.wall_ns,
        "seconds": v.seconds_text(),
    }


def _emit(out: TextIO, text: str) -> None:
    try:
        out.write(text + "\n")
        out.flush()
    except (OSError, ValueError, UnicodeError) as e:
        raise OutputError(str(e) or type(e).__name__) from None


def _check_one(f: str, max_ops: int) -> tuple[int, dict[str, Any], str]:
    """(exit code, JSON record, text line) for one file."""
    src = one_line(f, 1000)
    try:
        v = check_file(f, max_ops)
    except CertificateError as e:
        code, status = (EXIT_UNREADABLE, "unreadable") if isinstance(e, InputError) else (EXIT_MALFORMED, "malformed")
        field = one_line(e.field or "(file)", MAX_FIELD_CHARS)
        msg = one_line(e.message, MAX_MESSAGE_CHARS)
        return code, {"file": f, "status": status, "field": field, "message": msg}, f"{src}: {field}: {msg}"
    except Exception as e:  # CheckerInternalError, RecursionError, MemoryError, ...: never accept on exception
        msg = one_line(str(e) if isinstance(e, CheckerInternalError) else f"{type(e).__name__}: {e}", MAX_MESSAGE_CHARS)
        return EXIT_MALFORMED, {"file": f, "status": "internal-error", "field": "(internal)", "message": msg}, f"{src}: (internal): {msg}"
    return (EXIT_OK if v.ok else EXIT_CLAIM_FAILS), _verdict_json(v), _verdict_line(v)


def run(files: list[str], as_json: bool, out: TextIO, max_ops: int = DEFAULT_MAX_OPS) -> int:
    """Check every file, print one line per file (or one JSON array); return the exit code.

    Raises OutputError when the output cannot be written.
    """
    code = EXIT_OK
    results: list[dict[str, Any]] = []
    for f in files:
        c, record, line = _check_one(f, max_ops)
        code = max(code, c)
        if as_json:
            results.append(record)
        else:
            _emit(out, line)
    if as_json:
        _emit(out, json.dumps(results, indent=1))
    return code


def int_at_least(low: int, what: str):
    """An argparse type: an integer >= ``low``, else a usage error "expected WHAT, got ..."."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text[:40]!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value
    return parse


positive_int = int_at_least(1, "a positive integer")


def detach_stdout() -> None:
    """Point file descriptor 1 at the null device, so the interpreter's final flush cannot fail again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (see the module docstring)."""
    out = sys.stdout
    try:
        out.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        pass
    parser = argparse.ArgumentParser(
        prog="compact-proofs-check", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="certificate files (JSON, regular files only)")
    parser.add_argument("--json", action="store_true", help="print one JSON array of results instead of text lines")
    parser.add_argument("--max-ops", type=positive_int, default=DEFAULT_MAX_OPS, metavar="N",
                        help=f"work budget: refuse certificates whose cost bound exceeds N (default {DEFAULT_MAX_OPS:,})")
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # argparse: --help (0) or a usage error (2)
            out.flush()
            return e.code if isinstance(e.code, int) else EXIT_MALFORMED
        return run(args.files, args.json, out, args.max_ops)
    except (OutputError, OSError, ValueError) as e:
        detach_stdout()
        try:
            print(f"checker: cannot write the verdict to standard output: {one_line(str(e), MAX_MESSAGE_CHARS)}", file=sys.stderr)
        except (OSError, ValueError):
            pass
        return EXIT_OUTPUT
