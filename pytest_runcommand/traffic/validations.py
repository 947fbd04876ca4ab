"""Direct calls of ``validate_request`` / ``validate_response`` / ``validate_interaction``, seen while a test runs.

The functions are wrapped where a test reached them (its module's globals, ``pytest_runcommand.<name>``) for the
duration; a wrapper kept past that reports to nobody and answers exactly as the function does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from pytest_runcommand.interactions import Interaction

__all__ = ["ValidationSink", "observe_validations"]

ValidationSink = Callable[[Interaction, list[Any]], None]

_CONTRACT_MODULE = "pytest_runcommand.contract.validate"
_TOP_PACKAGE = "pytest_runcommand"
_sinks: list[ValidationSink] = []
_wrappers: dict[str, Callable[..., list[Any]]] = {}


def _notify(make: Callable[[], Interaction], violations: list[Any]) -> None:
    """Hand the call to the sinks; input the caller got violations for (any type) never turns into an exception."""
    try:
        interaction = make()
    except Exception:  # e.g. a method that is not a str: the validator reported it, the report cannot place it
        return
    if not isinstance(interaction, Interaction) or not isinstance(interaction.url, str):
        return
    for sink in list(_sinks):
        sink(interaction, violations)


def _make_wrappers(module: Any) -> dict[str, Callable[..., list[Any]]]:
    """Wrappers of the public validation functions; harmless when kept by someone after observation ended."""
    request, response, both = module.validate_request, module.validate_response, module.validate_interaction
    if _wrappers and getattr(_wrappers["validate_request"], "__wrapped__", None) is request:
        return _wrappers
    _wrappers.clear()  # first use, or the contract module was loaded anew

    def validate_request(method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any) -> list[Any]:
        violations: list[Any] = request(method, url, body, headers, **kwargs)
        if _sinks:
            _notify(lambda: Interaction(method, url, dict(headers or {}), body), violations)
        return violations

    def validate_response(
        method: str, url: str, status: int, body: Any = None, headers: Any = None, **kwargs: Any
    ) -> list[Any]:
        violations: list[Any] = response(method, url, status, body, headers, **kwargs)
        if _sinks:
            _notify(
                lambda: Interaction(
                    method, url, status=status, response_headers=dict(headers or {}), response_body=body
                ),
                violations,
            )
        return violations

    def validate_interaction(interaction: Interaction, **kwargs: Any) -> list[Any]:
        violations: list[Any] = both(interaction, **kwargs)
        if _sinks:
            _notify(lambda: interaction, violations)
        return violations

    pairs: list[tuple[Any, Any]] = [
        (validate_request, request),
        (validate_response, response),
        (validate_interaction, both),
    ]
    for wrapper, original in pairs:
        wrapper.__doc__, wrapper.__wrapped__ = original.__doc__, original
        _wrappers[original.__name__] = wrapper
    return _wrappers


@contextmanager
def observe_validations(namespaces: Iterable[MutableMapping[str, Any]], sink: ValidationSink) -> Iterator[None]:
    """While active, calls of ``validate_request`` / ``validate_response`` / ``validate_interaction`` made through
    ``namespaces`` (a test module's globals, which bound them at import) or ``pytest_runcommand.<name>`` go to
    ``sink`` as interactions with their violations.

    Costs nothing when the contract engine was never imported (then nobody can have bound the functions). The
    toolkit's own calls (the emulator validating what it receives) are not seen: that is traffic, counted where it
    is observed.
    """
    module = sys.modules.get(_CONTRACT_MODULE)
    if module is None:
        yield
        return
    wrappers = _make_wrappers(module)
    undo: list[Callable[[], None]] = []
    by_original = {id(wrapper.__wrapped__): wrapper for wrapper in wrappers.values()}  # type: ignore[attr-defined]
    for namespace in namespaces:
        bound = [(name, by_original[id(value)]) for name, value in namespace.items() if id(value) in by_original]
        for name, wrapper in bound:  # under any name (``import validate_request as check`` too)
            if namespace[name] is wrapper.__wrapped__:  # type: ignore[attr-defined]
                undo.append(_rebind(namespace, name, wrapper))
    package = sys.modules.get(_TOP_PACKAGE)
    if package is not None:  # attributes there are lazy: set for the duration, removed after
        for name, wrapper in wrappers.items():
            if name not in vars(package):
                undo.append(_rebind(vars(package), name, wrapper))
    _sinks.append(sink)
    try:
        yield
    finally:
        _sinks.remove(sink)
        for restore in reversed(undo):
            restore()


def _rebind(namespace: MutableMapping[str, Any], name: str, value: Any) -> Callable[[], None]:
    had, previous = name in namespace, namespace.get(name)
    namespace[name] = value

    def restore() -> None:
        if had:
            namespace[name] = previous
        else:
            namespace.pop(name, None)

    return restore
