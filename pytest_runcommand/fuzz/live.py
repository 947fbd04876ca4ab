"""A live target: where its token comes from, and the guard rails every request passes.

Rules, enforced on each request just before it is sent (not only at generation time):

- a target that is not on loopback needs an explicit ``live=True`` (``--live``);
- only the configured subscription, resource group and VM (or scale-set VM) are touched, and only run commands
  whose names start with the configured prefix are created, changed or deleted;
- at most ``max_requests`` requests, at most ``rate`` per second;
- what the run created is deleted at the end (:meth:`Guard.created`);
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


class GuardRefusal(Exception):
    """A request fell outside the configured scope; it was not sent."""


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
    _created: dict[str, None] = field(default_factory=dict)
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

    def admit(self, method: str, url: str) -> None:
        """Check scope and budget and count the request (call just before sending; the session paces it)."""
        method = method.upper()
        try:
            self.check_scope(method, url)
        except GuardRefusal:
            self.refused += 1
            raise
        with self._lock:
            if self.max_requests and self.sent >= self.max_requests:
                raise BudgetExhausted(f"the request budget ({self.max_requests}) is spent")
            self.sent += 1

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
        """Remember run commands a PUT created (and forget deleted ones) for the clean-up."""
        if self.scope is None:
            return
        path = urlsplit(url).path
        if method.upper() == "PUT" and 200 <= status < 300:
            self._created[path] = None
        elif method.upper() == "DELETE" and status in (200, 204, 404):
            self._created.pop(path, None)

    def forget(self, path: str) -> None:
        """Drop ``path`` from what is left to clean up (it is confirmed gone)."""
        self._created.pop(path, None)

    def created(self) -> list[str]:
        """Paths of the run commands created and not yet deleted, oldest first."""
        return list(self._created)
