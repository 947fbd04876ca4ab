"""Path routing the way ARM does it: segment names case-insensitive, a trailing slash tolerated.

Routes are path templates (``/subscriptions/{subscriptionId}/...``) with one handler per HTTP method;
more can be added (``Router.add``) without touching the existing ones. An unknown path is a 404, a known
path with another method a 405. A route also says what the app checks before its handler runs: the bearer
token (unless ``public``) and the ``api-version`` (``api_version``: ``None`` no check, ``"any"`` present,
or the versions served). ``collapse_slashes`` routes also match with repeated slashes (``az cloud register``
asks for ``URL//metadata/endpoints``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from pytest_runcommand.emulator import errors

if TYPE_CHECKING:
    from pytest_runcommand.emulator.asgi import FastHandler

__all__ = ["Route", "Router", "not_found"]

H = TypeVar("H", bound=Callable[..., object])


@dataclass(frozen=True)
class Route(Generic[H]):
    """A path template and its handlers by method."""

    name: str
    template: str
    segments: tuple[str | None, ...]
    """Lower-cased literal segments; None where a parameter goes."""
    parameters: tuple[str, ...]
    handlers: Mapping[str, H]
    public: bool = False
    """Served without a bearer token (sign-in, discovery)."""
    api_version: Literal["any"] | Collection[str] | None = None
    """None: not checked; ``"any"``: required; else the versions served."""
    collapse_slashes: bool = False
    fast: Mapping[str, FastHandler] = field(default_factory=dict)
    """Fast handlers by method: each answers the usual case already encoded, or None to leave the request to the
    method's handler (see :data:`~pytest_runcommand.emulator.asgi.FastHandler`)."""

    def handler(self, method: str) -> H:
        """The handler of ``method``; the ARM 405 (naming the methods served) when there is none."""
        found = self.handlers.get(method)
        if found is None:
            raise errors.method_not_allowed(method, sorted(self.handlers))
        return found


def _split(path: str) -> list[str]:
    parts = path.split("/")
    if parts and parts[0] == "":
        parts = parts[1:]
    if parts and parts[-1] == "":
        parts = parts[:-1]
    return parts


class Router(Generic[H]):
    """Routes by segment count, then literal segments compared case-insensitively."""

    def __init__(self) -> None:
        self._by_length: dict[int, list[Route[H]]] = {}
        self._found: dict[str, tuple[Route[H], dict[str, str]] | None] = {}
        """Paths already routed (clients repeat theirs), bounded; forgotten when a route is added."""
        self.generation = 0
        """Counts the routes added: what was worked out from the routes holds while it stays the same."""

    def add(
        self,
        name: str,
        template: str,
        handlers: Mapping[str, H],
        *,
        public: bool = False,
        api_version: Literal["any"] | Collection[str] | None = None,
        collapse_slashes: bool = False,
        fast: Mapping[str, FastHandler] | None = None,
    ) -> Route[H]:
        """Serve ``template`` with ``handlers`` (``{"GET": handler, ...}``); ``fast``: fast handlers by method."""
        segments: list[str | None] = []
        parameters: list[str] = []
        for part in _split(template):
            if part.startswith("{") and part.endswith("}"):
                segments.append(None)
                parameters.append(part[1:-1])
            else:
                segments.append(part.lower())
        route = Route(
            name,
            template,
            tuple(segments),
            tuple(parameters),
            dict(handlers),
            public,
            api_version,
            collapse_slashes,
            dict(fast or {}),
        )
        self._by_length.setdefault(len(segments), []).append(route)
        self._found.clear()
        self.generation += 1
        return route

    def find(self, path: str) -> tuple[Route[H], dict[str, str]] | None:
        """The route serving ``path`` and its parameters (shared between requests: not to be changed), or None."""
        try:
            return self._found[path]
        except KeyError:
            pass
        found = self._find(path, collapsed=False)
        if found is None and "//" in path:
            found = self._find(_SLASHES.sub("/", path), collapsed=True)
        if len(self._found) >= _PATHS_KEPT:
            self._found.clear()
        self._found[path] = found
        return found

    def _find(self, path: str, *, collapsed: bool) -> tuple[Route[H], dict[str, str]] | None:
        parts = _split(path)
        lowered = [part.lower() for part in parts]
        for route in self._by_length.get(len(parts), ()):
            if collapsed and not route.collapse_slashes:
                continue
            values: list[str] = []
            for want, got, original in zip(route.segments, lowered, parts, strict=True):
                if want is None:
                    if not original:
                        break
                    values.append(original)
                elif want != got:
                    break
            else:
                return route, dict(zip(route.parameters, values, strict=True))
        return None


_SLASHES = re.compile("/{2,}")
_PATHS_KEPT = 4096


def not_found(path: str) -> errors.ArmError:
    """The ARM 404 for a path nothing serves."""
    return errors.path_not_found(path, _resource_type(_split(path)))


def _resource_type(parts: list[str]) -> str | None:
    """``virtualMachines/foo`` for a path under ``providers/Microsoft.Compute``, else None."""
    if not all(parts):
        return None
    lowered = [part.lower() for part in parts]
    for index in range(len(lowered) - 1):
        if lowered[index] == "providers" and lowered[index + 1] == "microsoft.compute":
            rest = parts[index + 2 :]
            types = rest[0::2]
            return "/".join(types) if types else None
    return None
