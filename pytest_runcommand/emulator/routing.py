"""Path routing the way ARM does it: segment names case-insensitive, a trailing slash tolerated.

Routes are path templates (``/subscriptions/{subscriptionId}/...``) with one handler per HTTP method;
more can be added (``Router.add``) without touching the existing ones. An unknown path is a 404, a known
path with another method a 405.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from pytest_runcommand.emulator import errors

__all__ = ["Match", "Route", "Router"]

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


@dataclass(frozen=True)
class Match(Generic[H]):
    """A resolved request: the route, its handler and the path parameters as sent."""

    route: Route[H]
    handler: H
    params: Mapping[str, str]


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

    def add(self, name: str, template: str, handlers: Mapping[str, H]) -> Route[H]:
        """Serve ``template`` with ``handlers`` (``{"GET": handler, ...}``)."""
        segments: list[str | None] = []
        parameters: list[str] = []
        for part in _split(template):
            if part.startswith("{") and part.endswith("}"):
                segments.append(None)
                parameters.append(part[1:-1])
            else:
                segments.append(part.lower())
        route = Route(name, template, tuple(segments), tuple(parameters), dict(handlers))
        self._by_length.setdefault(len(segments), []).append(route)
        return route

    def resolve(self, method: str, path: str) -> Match[H]:
        """The handler for ``method path``; raises the ARM 404 / 405 error when there is none."""
        parts = _split(path)
        lowered = [part.lower() for part in parts]
        for route in self._by_length.get(len(parts), ()):
            values: list[str] = []
            for want, got, original in zip(route.segments, lowered, parts, strict=True):
                if want is None:
                    if not original:
                        break
                    values.append(original)
                elif want != got:
                    break
            else:
                handler = route.handlers.get(method)
                if handler is None:
                    raise errors.method_not_allowed(method, sorted(route.handlers))
                return Match(route, handler, dict(zip(route.parameters, values, strict=True)))
        raise errors.path_not_found(path, _resource_type(parts))


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
