"""A live target: where its token comes from, and the guard rails every request passes.

Rules, enforced on each request just before it is sent (not only at generation time):

- a target that is not on loopback needs an explicit ``live=True`` (``--live``);
- only the configured subscription, resource group and VM (or scale-set VM) are touched, and only run commands
  whose names start with the configured prefix are created, changed or deleted;
- at most ``max_requests`` requests, at most ``rate`` per second;
- what the run created is deleted at the end (:meth:`Guard.created`), and only that: a run command is the run's own
  when a PUT answered 201 (ARM's "created"), or when the run saw it absent (a 404) before writing to it. A write
  answered 2xx on any other name reached a run command that existed before the run: it is never deleted, the run's
  summary names it (:meth:`Guard.preexisting`), and no further write to it is sent (nor to a name a GET showed
  existing before the run wrote to it);
- the token is sent as a header and never printed (reports mask bearer tokens, SAS signatures and the secrets the
  run itself generated).

Which targets are live, and their token, is decided in :mod:`pytest_runcommand.fuzz.targets`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, operation_route, operations_at
from pytest_runcommand.errors import UsageError

__all__ = [
    "ARM_SCOPE",
    "BudgetExhausted",
    "Guard",
    "GuardRefusal",
    "LiveScope",
]

ARM_SCOPE = "https://management.azure.com/.default"
_ENCODED_SEPARATOR = re.compile(r"%(?:2f|5c|2e|00)", re.IGNORECASE)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")
"""Characters no scoped path may hold once decoded: controls and backslashes (some servers read it as /)."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_WRITES = frozenset({"PUT", "PATCH", "DELETE"})


class GuardRefusal(Exception):
    """A request fell outside the configured scope; it was not sent. ``preexisting``: a write refused because its
    run command existed before the run (inside the scope, but never written to)."""

    def __init__(self, message: str, *, preexisting: bool = False) -> None:
        super().__init__(message)
        self.preexisting = preexisting


class BudgetExhausted(Exception):
    """The request budget of the run is spent; the run stops."""


@dataclass(frozen=True)
class LiveScope:
    """What a run may touch: one VM (or one scale-set VM) and the run commands named with ``name_prefix``."""

    subscription: str
    resource_group: str
    vm: str
    instance_id: str | None = None
    """Set for a scale-set VM (``vm`` is then the scale set's name)."""
    name_prefix: str = "fuzz-"

    def __post_init__(self) -> None:
        for flag, value in (
            ("--subscription", self.subscription),
            ("--resource-group", self.resource_group),
            ("--vm", self.vm),
        ):
            if not value or not _NAME.match(value):
                raise UsageError(f"{flag} must be a plain resource name, got {value!r}")
        if self.instance_id is not None and not _NAME.match(self.instance_id):
            raise UsageError(f"--instance-id must be a plain name, got {self.instance_id!r}")
        if not self.name_prefix or not _NAME.match(self.name_prefix) or len(self.name_prefix) < 3:
            raise UsageError(f"--name-prefix needs at least 3 name characters, got {self.name_prefix!r}")

    @property
    def parent_path(self) -> str:
        base = f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/Microsoft.Compute"
        if self.instance_id is None:
            return f"{base}/virtualMachines/{self.vm}"
        return f"{base}/virtualMachineScaleSets/{self.vm}/virtualMachines/{self.instance_id}"

    @property
    def fixed_parameters(self) -> dict[str, str]:
        """Path parameters every generated case carries."""
        fixed = {"subscriptionId": self.subscription, "resourceGroupName": self.resource_group}
        if self.instance_id is None:
            fixed["vmName"] = self.vm
        else:
            fixed.update(vmScaleSetName=self.vm, instanceId=self.instance_id)
        return fixed

    @property
    def operation_ids(self) -> tuple[str, ...]:
        """The managed run-command operations that address this kind of VM, then the async-operation status (the
        extension operation under ``/locations/{location}/operations/``), as the contract lists them."""
        vm_parameter = "{vmName}" if self.instance_id is None else "{instanceId}"
        managed = tuple(
            op
            for op in operations_at(DEFAULT_API_VERSION, "managed")
            if f"/{vm_parameter}/runCommands" in operation_route(DEFAULT_API_VERSION, op)[1]
        )
        status = tuple(
            op
            for op in operations_at(DEFAULT_API_VERSION, "extension")
            if "/locations/{location}/operations/" in operation_route(DEFAULT_API_VERSION, op)[1]
        )
        return (*managed, *status)


@dataclass
class Guard:
    """Admits a request only inside the scope and the budget; remembers what was created."""

    scope: LiveScope | None
    max_requests: int = 0
    """0: no bound."""
    rate: float = 0.0
    """Requests per second at most; 0: no bound."""
    base_path: str = ""
    """The target's base path (``/arm`` of ``https://proxy.example/arm``): the scope is checked below it."""
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    sent: int = 0
    refused: int = 0
    """Requests outside the scope (or off the target), not sent."""
    refused_preexisting: int = 0
    """Writes to a run command that existed before the run, not sent."""
    _created: dict[str, None] = field(default_factory=dict)
    _known: dict[str, str] = field(default_factory=dict)
    """Per run command (its path in lower case): ``"ours"`` (the run created it), ``"absent"`` (a 404 before any
    write of the run) or ``"theirs"`` (it existed before the run)."""
    _theirs: dict[str, list[str]] = field(default_factory=dict)
    """Pre-existing run commands the run wrote to: path -> the writes (``"PUT 200"``), in order."""
    _last: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check_scope(self, method: str, url: str) -> None:
        """Raise :class:`GuardRefusal` unless ``method url`` stays inside the scope."""
        if self.scope is None:
            return
        raw = urlsplit(url).path
        if _ENCODED_SEPARATOR.search(raw):
            raise GuardRefusal(f"{method} {raw!r}: an encoded separator or dot (servers differ in how they read it)")
        path = unquote(raw).rstrip("/")
        if self.base_path:
            if not path.startswith(self.base_path + "/"):
                raise GuardRefusal(f"{method} {path}: outside the target's base path {self.base_path}")
            path = path[len(self.base_path) :]
        if any(segment in ("", ".", "..") for segment in path.split("/")[1:]) or _UNSAFE.search(path):
            raise GuardRefusal(f"{method} {path!r}: not a plain resource path")
        parent = self.scope.parent_path
        operations = f"/subscriptions/{self.scope.subscription}/providers/Microsoft.Compute/locations/"
        if method == "GET" and re.fullmatch(rf"{re.escape(operations)}[^/]+/operations/[^/]+", path, re.IGNORECASE):
            return
        if method == "GET" and path.lower() == f"{parent}/runCommands".lower():
            return
        prefix = f"{parent}/runCommands/".lower()
        if not path.lower().startswith(prefix):
            raise GuardRefusal(f"{method} {path}: outside {parent}")
        name = path[len(prefix) :]
        if "/" in name or not name.startswith(self.scope.name_prefix):
            raise GuardRefusal(f"{method} {path}: run command name lacks the prefix {self.scope.name_prefix!r}")
        if method.upper() in _WRITES and self._known.get(path.lower()) == "theirs":
            message = f"{method} {path}: the run command existed before the run (not changed or deleted)"
            raise GuardRefusal(message, preexisting=True)

    def admit(self, method: str, url: str) -> None:
        """Check scope and budget and count the request (call just before sending; the session paces it)."""
        method = method.upper()
        try:
            self.check_scope(method, url)
        except GuardRefusal as refusal:
            self.count(refusal)
            raise
        with self._lock:
            if self.max_requests and self.sent >= self.max_requests:
                raise BudgetExhausted(f"the request budget ({self.max_requests}) is spent")
            self.sent += 1

    def count(self, refusal: GuardRefusal) -> None:
        """Count a request refused (not sent): a write to a pre-existing run command apart from the rest."""
        if refusal.preexisting:
            self.refused_preexisting += 1
        else:
            self.refused += 1

    def pace(self) -> None:
        """Wait as long as :attr:`rate` asks before the next request on the wire (any request, probes included)."""
        if self.rate <= 0:
            return
        with self._lock:
            now = self.clock()
            if self._last is not None:
                wait = self._last + 1.0 / self.rate - now
                if wait > 0:
                    self.sleep(wait)
                    now += wait
            self._last = now

    def note_response(self, method: str, url: str, status: int) -> None:
        """Learn from one answer which run commands are the run's own (the clean-up deletes those) and which existed
        before it (never deleted; :meth:`preexisting` names those the run wrote to)."""
        if self.scope is None:
            return
        method = method.upper()
        path = urlsplit(url).path
        key = self._key(path)
        if key is None:
            return
        known = self._known.get(key)
        done = 200 <= status < 300
        if method == "PUT" and (status == 201 or (done and known == "absent")):
            self._known[key] = "ours"  # ARM's "created", or not there before this write: what it made is the run's
            self._created[path] = None
        elif method == "DELETE" and status == 204 and known is None:
            self._known[key] = "absent"  # ARM's answer to a delete of nothing
        elif method in _WRITES and done and known != "ours" and not (method == "DELETE" and status == 204):
            self._known[key] = "theirs"  # an update (or delete) of a run command the run did not create
            self._theirs.setdefault(path, []).append(f"{method} {status}")
        elif method in ("PUT", "PATCH") and done:  # the run's own, there (again)
            self._created[path] = None
        elif status == 404 and known is None:
            self._known[key] = "absent"
        elif method == "GET" and done and known in (None, "absent"):
            self._known[key] = "theirs"  # there, and the run wrote nothing to it: someone else's
        if method == "DELETE" and status in (200, 204, 404):
            self._created.pop(path, None)

    def _key(self, raw: str) -> str | None:
        """``raw``'s run command as :meth:`check_scope` reads it (decoded, below the base path, in lower case), or
        None when it names none."""
        assert self.scope is not None
        path = unquote(raw).rstrip("/")
        if self.base_path:
            if not path.startswith(self.base_path + "/"):
                return None
            path = path[len(self.base_path) :]
        key = path.lower()
        prefix = f"{self.scope.parent_path}/runCommands/".lower()
        return key if key.startswith(prefix) and "/" not in key[len(prefix) :] else None

    def existed(self, path: str) -> None:
        """Mark the run command at ``path`` as there before the run (listed before the first unit): never written to
        nor deleted by the run."""
        key = self._key(path) if self.scope is not None else None
        if key is not None:
            self._known[key] = "theirs"

    def forget(self, path: str) -> None:
        """Drop ``path`` from what is left to clean up (it is confirmed gone)."""
        self._created.pop(path, None)

    def created(self) -> list[str]:
        """Paths of the run commands created and not yet deleted, oldest first."""
        return list(self._created)

    def preexisting(self) -> list[str]:
        """Paths of the run commands that existed before the run and that it wrote to (never deleted), first first."""
        return list(self._theirs)

    def preexisting_writes(self, path: str) -> list[str]:
        """The writes the run sent to ``path`` (one of :meth:`preexisting`) and their answers, ``"PUT 200"``."""
        return list(self._theirs.get(path, ()))
