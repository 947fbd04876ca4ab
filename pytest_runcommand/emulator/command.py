"""``pytest-runcommand emulator``: serve the Azure run-command emulator on loopback until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_runcommand.errors import UsageError

if TYPE_CHECKING:
    from pytest_runcommand.emulator.app import EmulatorApp
    from pytest_runcommand.emulator.backend import Backend, EmulatorSettings
    from pytest_runcommand.emulator.server import EmulatorServer
    from pytest_runcommand.emulator.state import ParentRef

__all__ = ["register", "run"]

DESCRIPTION = """\
Serve a stateful emulator of the Azure Resource Manager run-command operations (PUT, PATCH, GET,
DELETE, list; VM and scale-set VM; async-operation status; diagnostic run commands at 2026-04-01),
the action run command (POST .../runCommand, what `az vm run-command invoke` calls) and the
location catalogue of built-in commands, with uvicorn, at every api-version that defines each
(each answered in its own shape). With --tls it makes a local CA and certificate and
prints the CA bundle path for clients to trust, e.g.
  ComputeManagementClient(credential, SUB, base_url=URL, connection_verify=CA)
Any bearer token is accepted, except one of its own that has expired, was issued for another
resource or cannot be read. Its clock follows the wall clock. Without --vm a VM comes into
being on first use (location westus); each --vm seeds one and turns that off. With --tls it also
serves what the Azure CLI needs (sign-in of a service principal, subscriptions, resource groups) and
prints the shell commands that point `az` at it (--cli-env writes them to a file). Ctrl-C or
SIGTERM stops it. A --host other than loopback prints a warning: any token is accepted.
One process keeps all the state: there is no --workers (start one emulator per test process instead).
"""


def register(subparsers: Any) -> None:
    """Add the ``emulator`` sub-command."""
    parser = subparsers.add_parser(
        "emulator",
        help="serve the Azure run-command emulator on loopback (optionally over TLS)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: 0, any free port)")
    parser.add_argument("--tls", action="store_true", help="serve https with a throw-away local CA (trustme)")
    parser.add_argument(
        "--vm",
        action="append",
        default=[],
        metavar="ID[=LOCATION]",
        help="seed a VM or scale-set VM by resource id (repeatable); turns off auto-created VMs",
    )
    parser.add_argument("--ca-out", type=Path, metavar="PATH", help="also write the CA bundle (PEM) here")
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="drop read-only and unknown request properties silently, as Azure does (default: reject them)",
    )
    parser.add_argument(
        "--lro-polls",
        type=int,
        default=0,
        metavar="N",
        help="polls answered InProgress before an operation completes (default: 0)",
    )
    parser.add_argument(
        "--retry-after",
        type=int,
        default=0,
        metavar="SECONDS",
        help="Retry-After on async answers (default: 0; clients then use their own polling interval)",
    )
    parser.add_argument(
        "--scenario",
        type=Path,
        metavar="FILE",
        help='scripted faults (JSON or YAML: {"faults": [{"match": ..., "respond" | "operation_fails" | '
        '"delay" | "drop": ...}]}), the only 5xx answers and dropped connections it ever gives',
    )
    parser.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="seed of the operation ids, for a reproducible sequence (default: random, as Azure's are)",
    )
    parser.add_argument(
        "--cli-env",
        type=Path,
        metavar="PATH",
        help="also write the Azure CLI set-up (environment and az commands) here as a shell snippet (needs --tls)",
    )
    parser.add_argument(
        "--client-secret",
        metavar="SECRET",
        help="client secret of the emulator's service principal for `az login` (default: a random one)",
    )
    parser.add_argument(
        "--http",
        choices=("h11", "httptools", "auto"),
        default="h11",
        help="uvicorn's HTTP parser (default: h11, every request reaches the emulator; httptools is faster but "
        "answers what its parser refuses, such as an unknown method, with uvicorn's plain-text 400)",
    )
    parser.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="uvicorn's event loop (default: auto, uvloop when installed)",
    )
    parser.add_argument(
        "--no-azure-cli",
        dest="azure_cli",
        action="store_false",
        help="serve run commands only: no Azure CLI sign-in, subscription and resource-group endpoints",
    )
    parser.set_defaults(func=run)


def _check_vm(ref: ParentRef, location: str | None) -> None:
    """The names and region of a seeded VM, held to what a request's are held to (ValueError: the 400's message)."""
    from pytest_runcommand.emulator.errors import ArmError
    from pytest_runcommand.emulator.runcommands import check_location, check_names

    names = {"subscriptionId": ref.subscription, "resourceGroupName": ref.resource_group, "vmName": ref.vm_name}
    if ref.instance_id is not None:
        names["instanceId"] = ref.instance_id
    try:
        check_names(names)
        if location is not None:
            check_location(location, "Microsoft.Compute/virtualMachines")
    except ArmError as error:
        raise ValueError(error.message) from None


def _announce(
    server: EmulatorServer, args: argparse.Namespace, app: EmulatorApp, backend: Backend, settings: EmulatorSettings
) -> None:
    """Say where the emulator serves and how to use it (stdout; the warning on stderr)."""
    _say(f"emulator: serving Azure run commands at {server.base_url}", flush=True)
    if not server.loopback_only:
        _say(
            f"emulator: WARNING: listening on {args.host}, not loopback: it accepts any bearer token from anyone "
            "who can reach this address (it is a test double, not a secure service)",
            file=sys.stderr,
            flush=True,
        )
    if server.ca_path is not None:
        _say(f"emulator: CA bundle (PEM) to trust: {server.ca_path}", flush=True)
        _say(f"emulator:   e.g. export REQUESTS_CA_BUNDLE={server.ca_path}", flush=True)
    _print_cli_setup(server, args.cli_env)
    if args.scenario is not None:
        _say(f"emulator: {len(app.faults.rules)} scripted fault(s) from {args.scenario}", flush=True)
    if args.vm:
        for vm in backend.vms:
            _say(f"emulator: VM {vm.resource_id} ({vm.location})", flush=True)
    else:
        _say(f"emulator: VMs are created on first use (location {settings.default_location})", flush=True)
    _say("emulator: press Ctrl-C to stop", flush=True)


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a record comes (as logging's last resort does)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _show_server_records() -> None:
    """uvicorn's records on standard error as the command's own lines (``emulator: WARNING: ...``): the server leaves
    a host's logging alone (``EmulatorServer``), so this command, the host here, gives them a handler (once)."""
    logger = logging.getLogger("uvicorn")
    if not any(isinstance(handler, _CurrentStderr) for handler in logger.handlers):
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("emulator: %(levelname)s: %(message)s"))
        handler.addFilter(_not_install_advice)
        logger.addHandler(handler)


def _not_install_advice(record: logging.LogRecord) -> bool:
    """uvicorn's advice, on a client's ``Upgrade: websocket``, to install a websocket library: the emulator serves no
    websocket (the request is answered as any other; uvicorn's "Unsupported upgrade request." stays)."""
    return not str(record.msg).startswith("No supported WebSocket library detected")


def _say(*values: object, **options: Any) -> None:
    """``print``, flushed; when the reader of stdout went away (``| head -1``), the rest goes to the null device and
    the emulator keeps serving (a server is not a filter: its set-up lines are a courtesy)."""
    options.setdefault("flush", True)
    try:
        print(*values, **options)
    except BrokenPipeError:
        from pytest_runcommand.cli import stdout_to_devnull

        stdout_to_devnull()


def _tune_collector() -> None:
    """This process only serves: what its set-up made (modules, the contracts) leaves the collector's passes, and the
    young generation is collected less often (~2.5 us less per PATCH). Not in :class:`EmulatorServer`, which runs in
    a user's own test process."""
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _parse_vm(value: str) -> tuple[str, str | None]:
    """``ID[=LOCATION]``: the resource id and the location (None without ``=``; an empty one is refused)."""
    resource_id, given, location = value.partition("=")
    if given and not location.strip():
        raise UsageError(f"--vm {value[:300]}: the location after '=' is empty (leave out '=' for westus)")
    return resource_id, (location or None)


def _print_cli_setup(server: EmulatorServer, cli_env: Path | None) -> None:
    """Print (and with ``--cli-env`` write) the shell commands that point the Azure CLI at ``server``."""
    if server.identity is None:
        return
    if server.ca_path is None:
        _say("emulator: the Azure CLI signs in over https only: add --tls to use it", flush=True)
        return
    from pytest_runcommand.azcli import served_cli_snippet, write_cli_snippet

    snippet = served_cli_snippet(server.base_url, server.ca_path, server.identity)
    _say("emulator: Azure CLI (az) set-up, to paste into a POSIX shell:", flush=True)
    _say(snippet, end="", flush=True)
    if cli_env is not None:
        try:
            write_cli_snippet(cli_env, snippet)
        except OSError as error:
            raise UsageError(f"--cli-env {cli_env}: {error.strerror or error}") from None
        _say(f"emulator: Azure CLI set-up written to {cli_env} (source it)", flush=True)


def _ca_out(path: Path | None) -> Path | None:
    """``--ca-out`` made absolute (what is printed must work from any folder); its folder must exist."""
    if path is None:
        return None
    path = path.absolute()
    if not path.parent.is_dir():
        if path.parent.exists():
            raise UsageError(f"--ca-out {path}: {path.parent} is not a folder")
        raise UsageError(f"--ca-out {path}: the folder {path.parent} does not exist (create it first)")
    if path.is_dir():
        raise UsageError(f"--ca-out {path}: is a folder; give the path of the PEM file to write")
    return path


def _stack_installed(http: str, loop: str) -> None:
    """A UsageError naming the missing module and the extra that brings it, before anything is announced."""
    from pytest_runcommand.emulator.server import missing_stack_module
    from pytest_runcommand.extras import install_line

    missing = missing_stack_module(http, loop)
    if missing is not None:
        flag = "--http httptools" if missing == "httptools" else "--loop uvloop"
        raise UsageError(f"{flag} needs {missing}, which is not installed: {install_line('fast')}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; 0 on a clean stop."""
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535 (got {args.port})")
    if args.ca_out is not None and not args.tls:
        raise UsageError("--ca-out needs --tls (there is no CA without TLS)")
    if args.lro_polls < 0 or args.retry_after < 0:
        raise UsageError("--lro-polls and --retry-after must not be negative")
    if args.cli_env is not None and not (args.tls and args.azure_cli):
        raise UsageError("--cli-env needs --tls (the Azure CLI signs in over https only) and no --no-azure-cli")
    if args.cli_env is not None:  # now, before serving: a folder where a file is names it
        from pytest_runcommand.report_file import file_problem

        problem = file_problem(Path(args.cli_env))
        if problem is not None:
            raise UsageError(f"--cli-env {args.cli_env}: {problem}")
    if args.client_secret is not None and (not args.azure_cli or not args.client_secret.strip()):
        raise UsageError("--client-secret needs a non-empty value, and no --no-azure-cli")

    _stack_installed(args.http, args.loop)
    from pytest_runcommand.emulator.app import EmulatorApp
    from pytest_runcommand.emulator.backend import Backend, EmulatorSettings, ParentRef
    from pytest_runcommand.emulator.clock import Clock
    from pytest_runcommand.emulator.identity import Directory
    from pytest_runcommand.emulator.server import EmulatorServer

    settings = EmulatorSettings(
        auto_create_vms=not args.vm,
        strict=not args.lenient,
        lro_polls=args.lro_polls,
        retry_after=args.retry_after,
    )
    app = EmulatorApp(Backend(settings, clock=Clock(realtime=True), seed=args.seed))
    backend = app.backend
    if args.scenario is not None:
        from pytest_runcommand.emulator.scenario import ScenarioError

        try:
            app.faults.load(args.scenario)
        except ScenarioError as error:
            raise UsageError(f"--scenario {error}") from None
    for value in args.vm:
        resource_id, location = _parse_vm(value)
        try:
            ref = ParentRef.parse(resource_id)
            _check_vm(ref, location)
            backend.add_vm(ref, location)
        except ValueError as error:
            raise UsageError(f"--vm {value}: {error}") from None

    ca_out = _ca_out(args.ca_out)
    server = EmulatorServer(
        app,
        host=args.host,
        port=args.port,
        tls=args.tls,
        ca_out=ca_out,
        azure_cli=args.azure_cli,
        directory=Directory.default(args.client_secret),
        http=args.http,
        loop=args.loop,
    )
    _show_server_records()
    try:
        server.prepare()
    except OSError as error:
        server.stop()  # the socket and the temporary certificates, if they came to be
        if ca_out is not None and error.filename is not None and Path(error.filename) == ca_out:
            raise UsageError(f"--ca-out {ca_out}: cannot write the CA bundle: {error.strerror or error}") from None
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
    previous = signal.signal(signal.SIGTERM, _interrupt)  # kill, timeout, CI: stop as Ctrl-C does
    try:
        _announce(server, args, app, backend, settings)  # its last line says Ctrl-C (or SIGTERM) now stops it
        _tune_collector()
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
    _say("emulator: stopped", file=sys.stderr, flush=True)
    return 0
