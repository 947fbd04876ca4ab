"""``pytest-runcommand fuzz``: schemathesis against the emulator, a loopback service, or (with --live) Azure.

Light module: the CLI imports it at start-up; schemathesis and hypothesis are imported when the command runs.
Exit codes: 0 no new failure, 1 new failures (each reported with a curl line), 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from pytest_runcommand.errors import UsageError

__all__ = ["register", "run"]

DESCRIPTION = """\
Fuzz an endpoint that claims to implement the run-command contract (api-version 2024-07-01) with
schemathesis: positive and negative cases for each operation, then stateful PUT -> PATCH -> GET ->
DELETE -> GET sequences. Checks: schemathesis's own plus the contract's (prose rules, secrets echoed
back, CloudError shape, long-running-operation codes and headers).

Targets: 'emulator' (default, in-process), or a base URL. A URL that is not on loopback needs --live,
and --subscription, --resource-group and --vm (or AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP,
AZURE_VM_NAME): only run commands named with --name-prefix on that VM are touched, and what the run
creates is deleted at the end. Token: AZURE_ACCESS_TOKEN, else azure-identity DefaultAzureCredential.

Deterministic by default (the same cases every run); --seed N picks another reproducible stream.
The long run: pytest-runcommand fuzz --max-examples 500   (about 11,000 cases against the emulator).
"""

ENV_SCOPE = {
    "subscription": "AZURE_SUBSCRIPTION_ID",
    "resource_group": "AZURE_RESOURCE_GROUP",
    "vm": "AZURE_VM_NAME",
}
LIVE_MAX_REQUESTS = 500
LIVE_RATE = 5.0


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
        help="fuzz only this operation id (repeatable; default: all)",
    )
    parser.add_argument("--seed", type=int, help="a reproducible random stream (default: derandomized)")
    parser.add_argument(
        "--mode",
        choices=("all", "positive", "negative"),
        default="all",
        help="generated data: valid, invalid or both (default: all)",
    )
    parser.add_argument("--no-stateful", action="store_true", help="skip the stateful sequences")
    parser.add_argument("--api-version", default="2024-07-01", help="api-version to pin (default: 2024-07-01)")
    parser.add_argument("--baseline", type=Path, metavar="FILE", help="known failures: fail on new ones only")
    parser.add_argument(
        "--update-baseline",
        action="store_true",
        help="write every failure of this run to --baseline and exit 0",
    )
    live = parser.add_argument_group("targets other than the emulator")
    live.add_argument("--live", action="store_true", help="allow a target that is not on loopback")
    live.add_argument("--subscription", help=f"subscription id (or {ENV_SCOPE['subscription']})")
    live.add_argument("--resource-group", help=f"resource group (or {ENV_SCOPE['resource_group']})")
    live.add_argument("--vm", help=f"VM name, or scale-set name with --instance-id (or {ENV_SCOPE['vm']})")
    live.add_argument("--instance-id", help="the scale-set VM's instance id (fuzz the scale-set VM operations)")
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
        type=float,
        metavar="PER_SECOND",
        help=f"at most this many requests a second (default with --live: {LIVE_RATE:g})",
    )
    parser.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _scope(args: argparse.Namespace, *, required: bool) -> Any:
    from pytest_runcommand.fuzz.live import LiveScope

    values = {name: getattr(args, name) or os.environ.get(env, "") for name, env in ENV_SCOPE.items()}
    missing = [f"--{name.replace('_', '-')} (or {ENV_SCOPE[name]})" for name, value in values.items() if not value]
    if missing and (required or len(missing) < len(values)):
        raise UsageError(f"a scoped target needs {', '.join(missing)}")
    if missing:
        return None
    return LiveScope(name_prefix=args.name_prefix, instance_id=args.instance_id, **values)


def _target(args: argparse.Namespace) -> Any:
    from pytest_runcommand.fuzz.live import access_token, is_loopback
    from pytest_runcommand.fuzz.runner import emulator_target, url_target

    target = str(args.target).strip()
    if target == "emulator":
        return emulator_target()
    if not target.lower().startswith(("https://", "http://")):
        raise UsageError(f"--target takes 'emulator' or an http(s) base URL; got {target!r}")
    loopback = is_loopback(target)
    if not loopback and not args.live:
        raise UsageError(f"--target {target} is not on loopback: add --live to fuzz it (it changes real resources)")
    if not loopback and target.lower().startswith("http://"):
        raise UsageError("a live target must use https (the token would travel in clear)")
    if args.ca_cert is not None and not args.ca_cert.is_file():
        raise UsageError(f"--ca-cert {args.ca_cert}: no such file")
    scope = _scope(args, required=not loopback)
    max_requests = args.max_requests or (0 if loopback else LIVE_MAX_REQUESTS)
    rate = args.rate if args.rate is not None else (0.0 if loopback else LIVE_RATE)
    if rate < 0:
        raise UsageError(f"--rate must be positive, got {rate}")
    return url_target(
        target,
        token=access_token(),
        scope=scope,
        ca_path=str(args.ca_cert) if args.ca_cert else None,
        max_requests=max_requests,
        rate=rate,
    )


def run(args: argparse.Namespace) -> int:
    """Run the fuzz command; returns the exit code."""
    from pytest_runcommand.contract import get_contract
    from pytest_runcommand.fuzz.baseline import Baseline

    known = sorted(get_contract().by_id)
    unknown = [op for op in args.operation if op not in known]
    if unknown:
        raise UsageError(f"--operation {', '.join(unknown)}: unknown; the operations are {', '.join(known)}")
    if args.update_baseline and args.baseline is None:
        raise UsageError("--update-baseline needs --baseline FILE")
    baseline = Baseline.load(args.baseline) if args.baseline is not None and not args.update_baseline else None
    target = _target(args)

    from pytest_runcommand.contract.violations import mask_text
    from pytest_runcommand.fuzz.runner import FuzzRunner, FuzzSettings

    settings = FuzzSettings(
        max_examples=args.max_examples,
        operations=tuple(args.operation),
        seed=args.seed,
        modes=("positive", "negative") if args.mode == "all" else (args.mode,),
        stateful=not args.no_stateful,
        api_version=args.api_version,
    )
    try:
        report = FuzzRunner(target, settings).run()
    except Exception as error:  # a crash must not print the token that sits in schemathesis's reprs
        print(
            f"pytest-runcommand fuzz: the run stopped: {mask_text(f'{type(error).__name__}: {error}')}", file=sys.stderr
        )
        return 2
    if args.update_baseline:
        Baseline.write(args.baseline, report.baseline_entries())
        print(report.render())
        print(f"\nbaseline: {len(report.findings)} failure(s) written to {args.baseline}")
        return 0
    print(report.render(baseline))
    return 1 if report.new_findings(baseline) or report.errors else 0
