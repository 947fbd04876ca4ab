"""``pytest-runcommand fuzz``: schemathesis against the emulator, a loopback service, or (with --live) Azure.

Light module: the CLI imports it at start-up; schemathesis and hypothesis are imported when the command runs (without
them it exits 2 with the ``pip install`` line of the ``fuzz`` extra).
Exit codes: 0 no new failure, 1 new failures (each reported with a curl line) or a run that proves nothing (no
positive case accepted, an operation not fuzzed, clean-up left run commands behind), 2 usage error, a run that
stopped, or a report that could not be written.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, SUPPORTED_API_VERSIONS
from pytest_runcommand.errors import UsageError
from pytest_runcommand.fuzz.targets import (
    CLI_ROUTE,
    EMULATOR,
    ENV_SCOPE,
    LIVE_MAX_REQUESTS,
    LIVE_RATE,
    RATE_EXPECTED,
    REQUEST_TIMEOUT,
    TIMEOUT_EXPECTED,
    TOKEN_ENV,
    TargetRequest,
    masked_target_text,
    positive_number,
    resolve_target,
)

__all__ = ["register", "run"]

DESCRIPTION = f"""\
Fuzz an endpoint that claims to implement the run-command contract (api-version {DEFAULT_API_VERSION} by
default) with schemathesis: positive and negative cases for each operation, then stateful PUT -> PATCH ->
GET -> DELETE -> GET sequences. Checks: schemathesis's own plus the contract's (prose rules, secrets echoed
back, CloudError shape, long-running-operation codes and headers).

Targets: 'emulator' (default, in-process), or a base URL. A loopback URL (127.0.0.0/8, ::1, localhost) gets
the emulator's test token and no proxy. Any other URL needs --live, https, and --subscription,
--resource-group and --vm (or {", ".join(ENV_SCOPE.values())}): only run commands named with
--name-prefix on that VM are touched, and what the run creates is deleted at the end (each delete
polled to its end). Token: {TOKEN_ENV}, else azure-identity DefaultAzureCredential.

Deterministic by default (the same cases every run); --seed N picks another reproducible stream. The
cases drawn depend only on the contract, the options and the seed (schemathesis's pool of literals taken
from the loaded code is off).
The long run: pytest-runcommand fuzz --max-examples 500   (its summary says how many cases were sent).

Scale: --workers N (or auto) runs the campaign in N processes, --shard K/N runs a CI job's share; neither
changes the cases drawn. Merge the shards' --json / --junit-xml outputs with 'pytest-runcommand report merge'.
--hypothesis-database keeps the failures found (stateful ones too) and tries them first next time (each
shrunk to its smallest form), then draws --seed's stream, or a fresh random one without --seed.
"""


def register(subparsers: Any) -> None:
    """Add the ``fuzz`` sub-command."""
    parser = subparsers.add_parser(
        "fuzz",
        help="fuzz the emulator or an endpoint with schemathesis and this API's checks",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--target", default="emulator", help="'emulator' (default) or a base URL (http/https)")
    parser.add_argument(
        "--max-examples",
        type=_positive_int,
        default=25,
        metavar="N",
        help="cases per operation and mode, and stateful scenarios (default: 25)",
    )
    parser.add_argument(
        "--operation",
        action="append",
        default=[],
        metavar="ID",
        help="fuzz only this operation id, one of --api-version's (repeatable; default: all)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="a reproducible random stream (default: derandomized); with --hypothesis-database, drawn after the saved "
        "failures",
    )
    parser.add_argument(
        "--mode",
        choices=("all", "positive", "negative"),
        default="all",
        help="generated data: valid, invalid or both (default: all)",
    )
    parser.add_argument("--no-stateful", action="store_true", help="skip the stateful sequences")
    parser.add_argument(
        "--api-version",
        default=DEFAULT_API_VERSION,
        choices=sorted(SUPPORTED_API_VERSIONS),
        metavar="VERSION",
        help=f"api-version to pin, one of {', '.join(sorted(SUPPORTED_API_VERSIONS))} (default: {DEFAULT_API_VERSION})",
    )
    parser.add_argument("--baseline", type=Path, metavar="FILE", help="known failures: fail on new ones only")
    parser.add_argument(
        "--update-baseline",
        action="store_true",
        help="write every failure of this run to --baseline (created if missing); exit 0 unless the run itself failed",
    )
    parser.add_argument(
        "--junit-xml",
        type=Path,
        metavar="PATH",
        help="also write the outcome as JUnit XML: one test case per operation and check",
    )
    scale = parser.add_argument_group("scale and memory")
    scale.add_argument(
        "--workers",
        default="1",
        metavar="N",
        help="worker processes, or 'auto' for one per core (default: 1); the cases drawn do not change",
    )
    scale.add_argument(
        "--shard", metavar="K/N", help="run share K of N of the campaign (CI matrices); the N shares are the whole"
    )
    scale.add_argument(
        "--json", type=Path, metavar="PATH", help="also write the outcome as JSON (what 'report merge' merges)"
    )
    scale.add_argument(
        "--hypothesis-database",
        nargs="?",
        const=".hypothesis",
        type=Path,
        metavar="DIR",
        help="keep failing examples in DIR (default .hypothesis) and try them first next time; failures are shrunk. "
        "Then draws from --seed's stream, or a fresh random one without --seed, instead of the derandomized one "
        "(off by default)",
    )
    live = parser.add_argument_group("targets other than the emulator")
    live.add_argument("--live", action="store_true", help="allow a target that is not on loopback")
    for name, variable in ENV_SCOPE.items():
        flag = f"--{name.replace('_', '-')}"
        what = {"subscription": "subscription id", "resource_group": "resource group"}.get(name, "VM name")
        live.add_argument(flag, default="", help=f"{what} (or {variable})")
    live.add_argument("--instance-id", help="with --vm naming a scale set: its VM's instance id")
    live.add_argument(
        "--name-prefix",
        default="fuzz-",
        help="only run commands named with this prefix are created, changed or deleted (default: fuzz-)",
    )
    live.add_argument("--ca-cert", type=Path, metavar="PEM", help="CA bundle to trust (a local TLS endpoint)")
    live.add_argument(
        "--max-requests",
        type=_positive_int,
        metavar="N",
        help=f"stop after N requests (default with --live: {LIVE_MAX_REQUESTS}; otherwise unbounded)",
    )
    live.add_argument(
        "--rate",
        type=_positive(RATE_EXPECTED),
        metavar="PER_SECOND",
        help=f"at most this many requests a second (default with --live: {LIVE_RATE:g})",
    )
    live.add_argument(
        "--request-timeout",
        type=_positive(TIMEOUT_EXPECTED),
        metavar="SECONDS",
        help=f"each request's whole exchange, from connecting to the answer's last byte, takes at most this long "
        f"(default: {REQUEST_TIMEOUT:g}); a target that does not answer in time (a slow trickle included), or drops "
        "the connection, is a target_answers failure and the rest of that part of the run is skipped",
    )
    # "--shard -1/2" reaches the shard's own message instead of argparse's "expected one argument"
    parser._negative_number_matcher = re.compile(r"^-\d[\d/]*$|^-\d*\.\d+$")
    parser.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive(expected: str) -> Callable[[str], float]:
    """An argparse type for :func:`~pytest_runcommand.fuzz.targets.positive_number`'s rule (argparse's one line
    names the flag)."""

    def parse(text: str) -> float:
        try:
            return positive_number(text, expected)
        except UsageError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _check_paths(args: argparse.Namespace) -> None:
    if args.update_baseline and args.baseline is None:
        raise UsageError("--update-baseline needs --baseline FILE")
    if args.baseline is not None and not args.update_baseline and not args.baseline.is_file():
        raise UsageError(f"--baseline {args.baseline}: no such file (write one with --update-baseline)")
    from pytest_runcommand.fuzz.settings import writable_file, writable_folder

    if _same_place(args.junit_xml, args.json):
        raise UsageError(f"--json and --junit-xml name the same file ({args.json}): give each its own")
    for flag, path in (("--json", args.json), ("--junit-xml", args.junit_xml)):
        if _same_place(path, args.baseline):
            raise UsageError(
                f"{flag} and --baseline name the same file ({path}): the report would replace the baseline"
            )
        if _same_place(path, args.hypothesis_database):
            raise UsageError(
                f"{flag} and --hypothesis-database name the same path ({path}): the database is a folder of its own"
            )
    for flag, path in (("--junit-xml", args.junit_xml), ("--json", args.json)):
        if path is not None:
            writable_file(path, flag)  # checked before the campaign, not after it
    database = args.hypothesis_database
    if database is not None:
        try:
            writable_folder(database)
        except UsageError as error:
            raise UsageError(f"--hypothesis-database {error}") from None


def _same_place(first: Path | None, second: Path | None) -> bool:
    """Whether two given paths are written to the same place: the same descriptor (``-`` and ``/dev/stdout`` are
    both standard output), or the same file once links are followed."""
    if first is None or second is None:
        return False
    from pytest_runcommand.report_file import descriptor

    numbers = descriptor(first), descriptor(second)
    if numbers != (None, None):
        return numbers[0] == numbers[1]
    return first.resolve() == second.resolve()


def _check_emulator_flags(args: argparse.Namespace) -> None:
    """Refuse the flags of a URL target with the emulator target (they would be ignored without a word)."""
    if str(args.target) != EMULATOR:
        return
    given = [
        flag
        for flag, value in (
            ("--live", args.live),
            ("--subscription", args.subscription),
            ("--resource-group", args.resource_group),
            ("--vm", args.vm),
            ("--instance-id", args.instance_id),
            ("--ca-cert", args.ca_cert),
            ("--request-timeout", args.request_timeout is not None),
            ("--name-prefix", args.name_prefix != "fuzz-"),
        )
        if value
    ]
    if given:
        raise UsageError(f"{', '.join(given)}: for a --target URL; the emulator target takes none")


def run(args: argparse.Namespace) -> int:
    """Run the fuzz command; returns the exit code."""
    from pytest_runcommand.contract import get_contract

    known = sorted(get_contract(args.api_version).by_id)
    unknown = [op for op in args.operation if op not in known]
    if unknown:
        raise UsageError(
            f"--operation {', '.join(unknown)}: unknown at api-version {args.api_version}; "
            f"the operations are {', '.join(known)}"
        )
    _check_paths(args)
    from pytest_runcommand.fuzz.campaign import Shard, parse_workers

    workers = parse_workers(args.workers)
    shard = Shard.parse(args.shard) if args.shard is not None else None

    # the fuzz extra: a ModuleNotFoundError here makes the command line print its pip install line (exit 2)
    from pytest_runcommand.contract.violations import mask_text
    from pytest_runcommand.fuzz.baseline import Baseline
    from pytest_runcommand.fuzz.campaign import run_campaign
    from pytest_runcommand.fuzz.document import write_json
    from pytest_runcommand.fuzz.junit import write_junit
    from pytest_runcommand.fuzz.progress import terminal_progress
    from pytest_runcommand.fuzz.runner import FuzzRunner
    from pytest_runcommand.fuzz.settings import FuzzSettings
    from pytest_runcommand.fuzz.storage import hypothesis_storage

    baseline = Baseline.load(args.baseline) if args.baseline is not None and not args.update_baseline else None
    _check_emulator_flags(args)
    request = TargetRequest(
        target=str(args.target),
        live=args.live,
        subscription=args.subscription,
        resource_group=args.resource_group,
        vm=args.vm,
        instance_id=args.instance_id,
        name_prefix=args.name_prefix,
        ca_cert=str(args.ca_cert) if args.ca_cert is not None else None,
        max_requests=args.max_requests,
        rate=args.rate,
        request_timeout=args.request_timeout,
    )
    target = resolve_target(request, CLI_ROUTE)
    if workers > 1 and (target.scope is not None or args.max_requests is not None or args.rate is not None):
        raise UsageError("--workers: a live target, --max-requests or --rate needs one worker (one budget, one pace)")
    settings = FuzzSettings(
        max_examples=args.max_examples,
        operations=tuple(args.operation),
        seed=args.seed,
        modes=("positive", "negative") if args.mode == "all" else (args.mode,),
        stateful=not args.no_stateful,
        api_version=args.api_version,
        database=args.hypothesis_database,
    )
    progress = terminal_progress(sys.stderr, os.environ)
    try:
        with hypothesis_storage():
            report = run_campaign(FuzzRunner(target, settings, progress=progress), workers=workers, shard=shard)
    except Exception as error:  # a crash must not print the token that sits in schemathesis's reprs
        hint = _hint(error, args)
        stopped = mask_text(masked_target_text(f"{type(error).__name__}: {error}", str(args.target)))
        print(
            f"pytest-runcommand fuzz: {hint}" if hint else f"pytest-runcommand fuzz: the run stopped: {stopped}",
            file=sys.stderr,
        )
        return 2
    finally:
        if progress is not None:
            progress.close()
    unwritten: list[str] = []  # a file that cannot be written is exit 2, after the run's results are shown

    def write(flag: str, path: Path | None, writer: Callable[[], None]) -> None:
        if path is None:
            return
        try:
            writer()
        except OSError as error:
            unwritten.append(f"{flag} {path}: cannot be written ({error.strerror or type(error).__name__})")

    if args.update_baseline:
        write("--baseline", args.baseline, lambda: Baseline.write(args.baseline, report.baseline_entries()))
        baseline = None if unwritten else Baseline.load(args.baseline)
    write("--junit-xml", args.junit_xml, lambda: write_junit(report, args.junit_xml, baseline))
    write("--json", args.json, lambda: write_json(report, args.json, baseline))
    from pytest_runcommand.report_file import descriptor

    # a report on standard output ("-", /dev/stdout) is all it holds: the summary goes to standard error then
    shown = sys.stderr if any(p is not None and descriptor(p) == 1 for p in (args.json, args.junit_xml)) else sys.stdout
    print(report.render(baseline), file=shown)
    for line in unwritten:
        print(f"pytest-runcommand fuzz: {line}", file=sys.stderr)
    if unwritten:
        return 2
    if args.update_baseline:
        print(f"\nbaseline: {len(report.findings)} failure(s) written to {args.baseline}", file=shown)
        return 1 if report.problems else 0
    return 1 if report.failed(baseline) else 0


def _hint(error: BaseException, args: argparse.Namespace) -> str:
    """What to do about a stop a user can fix (an untrusted certificate, nothing listening, http against TLS)."""
    from pytest_runcommand.fuzz.targets import CLI_ROUTE

    given = getattr(args, "ca_cert", None)
    return CLI_ROUTE.stop_hint(error, str(given) if given else None) or ""
