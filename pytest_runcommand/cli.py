"""The ``pytest-runcommand`` command line: one sub-command per capability.

Each sub-command lives in the module that owns the capability and exposes ``register(subparsers)``;
the module must stay cheap to import (heavy libraries are imported inside the command's function).
Exit codes everywhere: 0 conforms / passed, 1 findings, 2 usage error or unreadable input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pytest_runcommand.errors import InputError, UsageError

__all__ = ["main"]

COMMAND_MODULES: tuple[str, ...] = (
    "pytest_runcommand.contract.command",
    "pytest_runcommand.cassettes.command",
    "pytest_runcommand.emulator.command",
    "pytest_runcommand.fuzz.command",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pytest-runcommand",
        description="Contract-test Azure VM Run Commands (api-version 2024-07-01) without touching Azure.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except (UsageError, InputError) as error:
        print(f"pytest-runcommand {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
