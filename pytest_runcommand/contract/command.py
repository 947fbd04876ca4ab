"""``pytest-runcommand validate request|response FILE``: check one payload against the contract from the shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pytest_runcommand.errors import InputError, UsageError

__all__ = ["register"]

DEFAULT_URL = (
    "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup"
    "/providers/Microsoft.Compute/virtualMachines/myVM/runCommands/myRunCommand?api-version=2024-07-01"
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="validate a request or response body (JSON file, or - for stdin) against the contract",
        description="Validate a run-command request or response body. Exit 0: conforms; 1: violations, one per line; "
        "2: usage error or unreadable JSON.",
    )
    parser.add_argument("side", choices=("request", "response"), help="which side of the exchange FILE holds")
    parser.add_argument("file", metavar="FILE", help="JSON body to validate, or - to read standard input")
    parser.add_argument("--method", default="PATCH", help="HTTP method of the operation (default: PATCH)")
    parser.add_argument(
        "--url", default=DEFAULT_URL, help="request URL or path with ?api-version= (default: a VM run-command PATCH)"
    )
    parser.add_argument("--status", type=int, help="response status code (required with 'response')")
    parser.add_argument(
        "--header", action="append", default=[], metavar="NAME:VALUE", help="a header sent with the body (repeatable)"
    )
    parser.set_defaults(func=run)


def _read(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    path = Path(file)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{file}: is a directory, not a JSON file") from None
    except OSError as error:
        raise InputError(f"{file}: cannot read: {error.strerror or error}") from None


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


def run(args: argparse.Namespace) -> int:
    import orjson

    from pytest_runcommand.contract.validate import validate_request, validate_response

    if args.side == "response" and args.status is None:
        raise UsageError("validate response needs --status N (the HTTP status code of the response)")
    raw = _read(args.file)
    name = "standard input" if args.file == "-" else args.file
    try:
        body = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError as error:
        raise InputError(f"{name}: not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    headers = _headers(args.header)
    if args.side == "request":
        violations = validate_request(args.method, args.url, body, headers)
    else:
        violations = validate_response(args.method, args.url, args.status, body, headers)
    for violation in violations:
        print(f"{violation.code}\t{violation.pointer or '/'}\t{violation.message}")
    if violations:
        print(f"{name}: {len(violations)} violation(s)", file=sys.stderr)
        return 1
    print(f"{name}: conforms ({args.side} of {args.method.upper()})", file=sys.stderr)
    return 0
