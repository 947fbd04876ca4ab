"""The ``pytest-runcommand`` command line: one sub-command per capability.

Each sub-command lives in the module that owns the capability and exposes ``register(subparsers)``;
the module must stay cheap to import (heavy libraries are imported inside the command's function).
Exit codes everywhere: 0 conforms / passed, 1 findings, 2 usage error, unreadable input or a missing extra.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from pytest_runcommand.contract.facts import DEFAULT_API_VERSION
from pytest_runcommand.errors import InputError, UsageError
from pytest_runcommand.extras import install_line, missing_extra

__all__ = ["build_parser", "main"]

PROG = "pytest-runcommand"

COMMAND_MODULES: tuple[str, ...] = (
    "pytest_runcommand.contract.command",
    "pytest_runcommand.cassettes.command",
    "pytest_runcommand.emulator.command",
    "pytest_runcommand.fuzz.command",
    "pytest_runcommand.report.merge",
)


class _Parser(argparse.ArgumentParser):
    """Errors name the (sub-)command whose arguments were wrong, with that command's usage."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # argparse hands a sub-command's unknown flags back up to the top-level parser, which then shows its own
        # usage; rejecting them here, in the innermost parser that saw them, shows the right one. An unknown flag
        # before the command is named too (argparse would only say that COMMAND is missing).
        if self._subparsers is not None:
            self._refuse_unknown_leading_flags(list(sys.argv[1:] if args is None else args))
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras

    def _refuse_unknown_leading_flags(self, args: list[str]) -> None:
        known = self._option_string_actions
        for arg in args:
            if arg == "--" or not arg.startswith("-"):
                return
            flag = arg.split("=", 1)[0]
            if flag not in known and not (flag.startswith("--") and any(k.startswith(flag) for k in known)):
                self.error(f"unrecognized arguments: {arg}")


def http_status(text: str) -> int:
    """An HTTP status code (100..599), for an option's ``type``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an HTTP status code (100..599), got {text!r}") from None
    if not 100 <= value <= 599:
        raise argparse.ArgumentTypeError(f"an HTTP status code is 100..599, got {value}")
    return value


def _typed_statuses(parser: argparse.ArgumentParser) -> None:
    """Every command's ``--status`` option given as a number takes an HTTP status code (100..599)."""
    for action in parser._actions:
        if "--status" in action.option_strings and action.type is int:
            action.type = http_status
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _typed_statuses(sub)


class _Version(argparse.Action):
    """``--version``: the installed package's version (read only when asked)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> NoReturn:
        from pytest_runcommand import __version__

        print(f"{PROG} {__version__}")
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Contract-test Azure VM Run Commands without touching Azure "
        f"(api-version {DEFAULT_API_VERSION} by default).",
        epilog="Exit codes: 0 conforms, 1 findings, 2 usage error, unreadable input or a missing extra.",
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    _typed_statuses(parser)
    return parser


def _missing_extra_exit(command: str, error: ModuleNotFoundError) -> int:
    extra = missing_extra(error)
    if extra is None:
        raise error
    print(
        f"{PROG} {command}: error: this command needs the '{extra}' extra ({error.name} is not installed): "
        f"{install_line(extra)}",
        file=sys.stderr,
    )
    return 2


BROKEN_PIPE_EXIT = 141
"""Exit code when whoever reads our output stops reading (``| head -1``): 128 + SIGPIPE, as a shell reports a
command that SIGPIPE ended."""
INTERRUPTED_EXIT = 130
"""The exit code of a command stopped by Ctrl-C (SIGINT): 128 + SIGINT, as shells report it."""


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            code = _main(argv)
        finally:  # also after --help / --version / a usage error (SystemExit)
            sys.stdout.flush()  # what is still buffered must meet a closed pipe here, not at interpreter exit
    except BrokenPipeError:
        # The reader of stdout went away: stop quietly, as a command killed by SIGPIPE would (the Python docs'
        # "Note on SIGPIPE"). Pointing stdout at devnull keeps the interpreter's final flush from raising again.
        stdout_to_devnull()
        return BROKEN_PIPE_EXIT
    return code


def stdout_to_devnull() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file descriptor (replaced in-process)
        pass
    finally:
        os.close(devnull)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except (UsageError, InputError) as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:
        return _missing_extra_exit(args.command, error)
    except KeyboardInterrupt:  # what ran to its end (a fuzz run's clean-up) did; no report or file is written after
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
