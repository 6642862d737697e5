"""Command line of the independent checker: `python -m checker FILE... [--json]`.

Exit codes: 0 every claim holds; 1 some certificate is well-formed but its claim fails;
2 some input is unreadable or malformed, or a strategy module failed internally (2 wins
over 1). Every problem is reported on one line "FILE: field: message"; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from checker.certificate import json_int
from checker.errors import CertificateError
from checker.verify import CheckerInternalError, Verdict, check_file

DESCRIPTION = """\
Independently check compact-proofs certificates (certificates/FORMAT.md).

For each FILE the checker strictly validates the certificate, recomputes from the exact
integer weights the number of sequences its strategy proves correct ("certified"), and
accepts exactly when certified >= the certificate's claimed count. It prints the verdict,
both counts, the exact arithmetic operation count (the proof length) and the wall time.

Exit status: 0 every claim holds; 1 some claim fails; 2 some file is unreadable or
malformed (printed as "FILE: field: message"), or a strategy checker failed internally.
"""

MAX_FIELD_CHARS = 200
MAX_MESSAGE_CHARS = 400


def one_line(text: str, limit: int) -> str:
    """``text`` with every non-printable character escaped and its length capped (one output line)."""
    out = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return out if len(out) <= limit else out[: limit - 3] + "..."


def _verdict_line(v: Verdict) -> str:
    knobs = "" if not v.knobs else " " + ",".join(f"{k}={val}" for k, val in sorted(v.knobs.items()))
    head = "claim holds" if v.ok else "CLAIM FAILS"
    rel = ">=" if v.ok else "<"
    return (
        f"{v.source}: {head}: certified {v.certified} {rel} claimed {v.claimed} "
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


def run(files: list[str], as_json: bool, out: TextIO) -> int:
    """Check every file, print one line (or one JSON array) of results; return the exit code."""
    code = 0
    results: list[dict[str, Any]] = []
    for f in files:
        src = one_line(f, 1000)
        try:
            v = check_file(f)
        except CertificateError as e:
            field = one_line(e.field or "(file)", MAX_FIELD_CHARS)
            msg = one_line(e.message, MAX_MESSAGE_CHARS)
            code = 2
            if as_json:
                results.append({"file": f, "status": "malformed", "field": field, "message": msg})
            else:
                print(f"{src}: {field}: {msg}", file=out)
            continue
        except (CheckerInternalError, RecursionError, MemoryError, Exception) as e:  # never accept on exception
            code = 2
            msg = one_line(f"{type(e).__name__}: {e}" if not isinstance(e, CheckerInternalError) else str(e), MAX_MESSAGE_CHARS)
            if as_json:
                results.append({"file": f, "status": "internal-error", "field": "(internal)", "message": msg})
            else:
                print(f"{src}: (internal): {msg}", file=out)
            continue
        if not v.ok and code == 0:
            code = 1
        if as_json:
            results.append(_verdict_json(v))
        else:
            print(_verdict_line(v), file=out)
    if as_json:
        print(json.dumps(results, indent=1), file=out)
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (0 all claims hold, 1 some fail, 2 malformed input)."""
    parser = argparse.ArgumentParser(
        prog="python -m checker", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="certificate files (JSON)")
    parser.add_argument("--json", action="store_true", help="print one JSON array of results instead of text lines")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: --help (0) or a usage error (2)
        return e.code if isinstance(e.code, int) else 2
    return run(args.files, args.json, sys.stdout)
