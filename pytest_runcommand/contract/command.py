"""``pytest-runcommand validate request|response FILE...``: check payloads against the contract from the shell.

Exit 0: every file conforms; 1: violations (one line each); 2: a usage error or a file unreadable as a
run-command body: missing, not in its encoding, not JSON, no JSON document at all (empty, only whitespace or only a
byte-order mark: more often a failed redirect than a body), or a bare JSON string (the engine would read it as JSON
text), or larger than the emulator's body limit (4 MiB: ``EmulatorSettings.max_body_bytes``; read no further).
Any other JSON value gets the engine's verdict on the same bytes: an array or a number is INVALID_TYPE, and
``null`` is the message without a body (a 202 with only headers conforms; a PATCH needs a body). Every file is
checked even when one fails; the exit code is the worst seen. Files are UTF-8, or say otherwise with a byte-order
mark (UTF-8, UTF-16 or UTF-32: PowerShell 5.1 writes UTF-8 with one, and UTF-16).
"""

from __future__ import annotations

import argparse
import codecs
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, ZERO_SUBSCRIPTION_ID
from pytest_runcommand.contract.violations import total_violations
from pytest_runcommand.errors import InputError, UsageError

if TYPE_CHECKING:
    from pytest_runcommand.contract.violations import Violation

__all__ = ["DEFAULT_URL", "register"]

DEFAULT_URL = (
    f"https://management.azure.com/subscriptions/{ZERO_SUBSCRIPTION_ID}/resourceGroups/myResourceGroup"
    f"/providers/Microsoft.Compute/virtualMachines/myVM/runCommands/myRunCommand?api-version={DEFAULT_API_VERSION}"
)
STDIN = "-"
_BOMS = (  # UTF-32 first: its little-endian mark starts like UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="validate request or response bodies (JSON files, or - for stdin) against the contract",
        description="Validate run-command request or response bodies. Exit 0: all conform; 1: violations, one per "
        "line (prefixed with the file when there are several); 2: usage error or a file unreadable as a "
        "run-command body (missing, not JSON, empty, a bare JSON string); null is a message without a body.",
    )
    parser.add_argument("side", choices=("request", "response"), help="which side of the exchange the files hold")
    parser.add_argument("files", nargs="+", metavar="FILE", help="JSON body to validate, or - to read standard input")
    parser.add_argument("--method", default="PATCH", help="HTTP method of the operation (default: PATCH)")
    parser.add_argument(
        "--url", default=DEFAULT_URL, help="request URL or path with ?api-version= (default: a VM run-command PATCH)"
    )
    parser.add_argument("--status", type=int, help="response status code (required with 'response')")
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME:VALUE",
        help="a header sent with the body (repeatable); with any, the header rules apply (a 202's Location, ...)",
    )
    parser.add_argument(
        "--no-headers",
        action="store_true",
        help="the message carried no headers: the header rules apply to none (without --header or this, they are "
        "skipped)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or one JSON document on stdout"
    )
    parser.set_defaults(func=run)


@dataclass
class Outcome:
    """What one file came to: its violations, or why it could not be read."""

    file: str
    violations: list[Violation] = field(default_factory=list)
    error: str | None = None
    without_body: bool = False
    """The file held ``null``: the message was checked as one without a body."""

    @property
    def exit_code(self) -> int:
        return 2 if self.error else 1 if self.violations else 0

    def as_dict(self) -> dict[str, Any]:
        verdict = ("conforms", "violations", "unreadable")[self.exit_code]
        return {
            "file": self.file,
            "verdict": verdict,
            "error": self.error,
            "violations": [violation.as_dict() for violation in self.violations],
        }


def _label(file: str) -> str:
    return "standard input" if file == STDIN else file


def _body_limit() -> int:
    from pytest_runcommand.emulator.state import EmulatorSettings

    return EmulatorSettings.max_body_bytes


_BODY_LIMIT = "the largest body the emulator reads"


def _read(file: str) -> bytes:
    from pytest_runcommand.cassettes.loading import read_limited

    if file == STDIN:
        return read_limited(sys.stdin.buffer, _body_limit(), _label(file), _BODY_LIMIT)
    try:
        with Path(file).open("rb") as stream:
            return read_limited(stream, _body_limit(), file, _BODY_LIMIT)
    except FileNotFoundError:
        raise InputError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{file}: is a directory, not a JSON file") from None
    except OSError as error:
        raise InputError(f"{file}: cannot read: {error.strerror or error}") from None


def _text(raw: bytes, name: str) -> bytes:
    """The body as UTF-8 without a byte-order mark."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom) :].decode(encoding).encode("utf-8")
            except UnicodeDecodeError as error:
                raise InputError(f"{name}: not valid {encoding} after its byte-order mark: {error.reason}") from None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{name}: byte {error.start} is not UTF-8, and no byte-order mark names another encoding"
        ) from None
    if b"\x00" in raw:
        raise InputError(f"{name}: holds NUL bytes: UTF-16 or UTF-32 without a byte-order mark? (save it as UTF-8)")
    return raw


def parse_body(raw: bytes, name: str) -> Any:
    """The parsed JSON body (None for ``null``: no body); InputError when it cannot be a run-command body."""
    import orjson

    text = _text(raw, name)
    if not text.strip():
        what = "empty" if not raw else "only a byte-order mark" if not text else "only whitespace"
        raise InputError(f"{name}: {what}, no JSON document (for a message without a body, give null)")
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        where = f"(line {error.lineno}, column {error.colno})"
        if "depth" in error.msg:  # orjson reads 1,024 levels; deeper is JSON still, but no run-command body
            raise InputError(f"{name}: nested deeper than 1,024 levels {where}; no run-command body is") from None
        raise InputError(f"{name}: not valid JSON: {error.msg} {where}") from None
    if isinstance(body, str):
        # validate_* read a str as the raw JSON text of a body; a bare JSON string is no run-command body at all.
        raise InputError(f"{name}: a JSON string, unreadable as a run-command body (expected a JSON object)")
    return body


def _headers(pairs: list[str]) -> dict[str, str] | None:
    if not pairs:
        return None
    headers: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header takes NAME:VALUE, got {pair!r}")
        headers[name.strip()] = value.strip()
    return headers


def _check(args: argparse.Namespace, file: str, headers: dict[str, str] | None) -> Outcome:
    from pytest_runcommand.contract.validate import validate_request, validate_response

    try:
        body = parse_body(_read(file), _label(file))
    except InputError as error:
        return Outcome(file, error=str(error))
    if args.side == "request":
        violations = validate_request(args.method, args.url, body, headers)
    else:
        violations = validate_response(args.method, args.url, args.status, body, headers)
    return Outcome(file, violations, without_body=body is None)


def _one_line(text: str) -> str:
    """``text`` with control characters escaped: one violation stays one tab-separated line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _print_text(outcomes: list[Outcome], args: argparse.Namespace) -> None:
    several = len(outcomes) > 1
    for outcome in outcomes:
        name = _label(outcome.file)
        prefix = f"{_one_line(outcome.file)}\t" if several else ""
        for violation in outcome.violations:
            pointer, message = _one_line(violation.pointer or "/"), _one_line(violation.message)
            print(f"{prefix}{violation.code}\t{pointer}\t{message}")
        if outcome.error:
            print(f"pytest-runcommand validate: error: {outcome.error}", file=sys.stderr)
        elif outcome.violations:
            print(f"{name}: {total_violations(outcome.violations)} violation(s)", file=sys.stderr)
        else:
            without = ", without a body" if outcome.without_body else ""
            print(f"{name}: conforms ({args.side} of {args.method.upper()}{without})", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    if args.side == "response" and args.status is None:
        raise UsageError("validate response needs --status N (the HTTP status code of the response)")
    if args.side == "request" and args.status is not None:
        raise UsageError("--status is the status code of a response; validate request takes none")
    if args.no_headers and args.header:
        raise UsageError("--no-headers says the message had none: give it or --header, not both")
    if args.files.count(STDIN) > 1:
        raise UsageError("standard input (-) can be read only once")
    headers = {} if args.no_headers else _headers(args.header)
    outcomes = [_check(args, file, headers) for file in args.files]
    code = max(outcome.exit_code for outcome in outcomes)
    if args.format == "json":  # the URL is not echoed: it may carry a SAS signature
        document = {
            "side": args.side,
            "method": args.method.upper(),
            "status": args.status,
            "exit_code": code,
            "files": [outcome.as_dict() for outcome in outcomes],
        }
        print(json.dumps(document, indent=2, default=str))
    else:
        _print_text(outcomes, args)
    return code
