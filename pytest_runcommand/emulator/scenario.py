"""Scenario files: the faults a user scripts for the emulator, loaded and checked (JSON or YAML).

The shape (one action per rule)::

    {"faults": [
      {"match": {"operation": "VirtualMachineRunCommands_Update"}, "times": 1,
       "respond": {"status": 429, "code": "TooManyRequests", "message": "slow down", "retry_after": 1}},
      {"match": {"name": "doomed-*"}, "operation_fails": {"code": "VMAgentStatusCommunicationError"}},
      {"match": {"method": "GET"}, "times": 2, "drop": true},
      {"match": {"vm": "slow-*"}, "delay": {"polls": 3}}]}

A bad file is a :class:`ScenarioError` naming the file, the fault's index and the field.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pytest_runcommand.errors import InputError

__all__ = ["ACTIONS", "Action", "Fault", "Match", "ScenarioError", "load_scenario", "parse_fault", "parse_scenario"]

Action = Literal["respond", "operation_fails", "delay", "drop"]
ACTIONS: tuple[Action, ...] = ("respond", "operation_fails", "delay", "drop")
_MATCH_FIELDS = ("operation", "method", "name", "vm")
_RESPOND_FIELDS = ("status", "code", "message", "retry_after", "headers")
_FAILS_FIELDS = ("code", "message")
_DELAY_FIELDS = ("polls", "seconds")


class ScenarioError(InputError, ValueError):
    """A scenario (file or mapping) that cannot be used; the message names the file, the fault and the field."""


@dataclass(frozen=True)
class Match:
    """Which requests a fault applies to; None matches anything. ``name`` and ``vm`` are globs (case-insensitive)."""

    operation: str | None = None
    method: str | None = None
    name: str | None = None
    vm: str | None = None


@dataclass
class Fault:
    """One scripted fault: what it matches, how often (``times`` None: always), and what it does."""

    index: int
    match: Match
    action: Action
    times: int | None = None
    status: int = 0
    code: str = ""
    message: str = ""
    retry_after: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    polls: int = 0
    seconds: float = 0.0
    used: int = 0
    """How many requests it has applied to."""

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.used >= self.times


def load_scenario(source: str | Path | Mapping[str, Any], *, start: int = 0) -> list[Fault]:
    """The faults of a scenario file (``.json``, ``.yaml``/``.yml``; else tried as JSON then YAML) or mapping."""
    if isinstance(source, Mapping):
        return parse_scenario(source, where="scenario", start=start)
    path = Path(source)
    where = str(path)
    try:
        text = _decoded(path.read_bytes())
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{where}: cannot read the scenario ({type(error).__name__}: {error})") from None
    return parse_scenario(_parse_text(text, where, path.suffix.lower()), where=where, start=start)


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16-LE, whose mark starts it
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _decoded(data: bytes) -> str:
    """The file's text: UTF-8, or UTF-8/16/32 behind a byte-order mark (editors on Windows write one)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding)
    return data.decode("utf-8")


def _parse_text(text: str, where: str, suffix: str) -> Any:
    if suffix != ".yaml" and suffix != ".yml":
        try:
            return json.loads(text)
        except ValueError as error:
            if suffix == ".json":
                raise ScenarioError(f"{where}: not valid JSON ({error})") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ScenarioError(f"{where}: not valid JSON or YAML{at}") from None


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")


def _shown(key: object) -> str:
    """An unknown field's name as an error shows it: quoted when it looks like a field name; else not at all (the
    file given may be no scenario, and its lines are not for a terminal or a log)."""
    name = str(key)
    if _FIELD_NAME.fullmatch(name):
        return repr(name)
    return f"<a key of {len(name)} characters, not a field name: is this a scenario file?>"


def parse_scenario(data: Any, *, where: str = "scenario", start: int = 0) -> list[Fault]:
    """The faults of a parsed scenario document (``{"faults": [...]}``); ``start``: the first fault's index."""
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{where}: a scenario is a mapping with a 'faults' list, not {_kind(data)}")
    unknown = sorted(str(key) for key in data if key != "faults")
    if unknown:
        raise ScenarioError(f"{where}: unknown field {_shown(unknown[0])} (a scenario has only 'faults')")
    rules = data.get("faults")
    if not isinstance(rules, list):
        raise ScenarioError(f"{where}: 'faults' must be a list, not {_kind(rules)}")
    return [parse_fault(rule, index=start + offset, where=where, place=offset) for offset, rule in enumerate(rules)]


def parse_fault(rule: Any, *, index: int = 0, where: str = "scenario", place: int | None = None) -> Fault:
    """One fault rule, checked; errors name ``where``, ``faults[place]`` (its place in what was given; ``index``,
    its place among the emulator's faults, by default) and the field."""
    at = f"{where}: faults[{index if place is None else place}]"
    if not isinstance(rule, Mapping):
        raise ScenarioError(f"{at}: a fault is a mapping, not {_kind(rule)}")
    allowed = {"match", "times", *ACTIONS}
    for key in rule:
        if key not in allowed:
            raise ScenarioError(f"{at}: unknown field {_shown(key)} (expected match, times and one of {_or(ACTIONS)})")
    actions = [name for name in ACTIONS if name in rule]
    if len(actions) != 1:
        found = f"{len(actions)} ({', '.join(actions)})" if actions else "none"
        raise ScenarioError(f"{at}: needs exactly one action of {_or(ACTIONS)}, found {found}")
    action = actions[0]
    fault = Fault(index, _match(rule.get("match"), f"{at}.match"), action, times=_times(rule.get("times"), at))
    value = rule[action]
    if action == "respond":
        _respond(fault, value, f"{at}.respond")
    elif action == "operation_fails":
        body = _fields(value, f"{at}.operation_fails", _FAILS_FIELDS)
        fault.code = _text(body.get("code"), f"{at}.operation_fails.code", required=True)
        fault.message = _text(body.get("message"), f"{at}.operation_fails.message") or (
            f"The operation failed ({fault.code}; scripted by a scenario)."
        )
    elif action == "delay":
        body = _fields(value, f"{at}.delay", _DELAY_FIELDS)
        if not body:
            raise ScenarioError(f"{at}.delay: give 'polls' or 'seconds'")
        fault.polls = int(_number(body.get("polls", 0), f"{at}.delay.polls", integer=True, upper=10_000))
        fault.seconds = _number(body.get("seconds", 0), f"{at}.delay.seconds", upper=86_400.0)
    elif value is not True:
        raise ScenarioError(f"{at}.drop: must be true, not {value!r}"[:300])
    return fault


def _match(value: Any, at: str) -> Match:
    if value is None:
        return Match()
    body = _fields(value, at, _MATCH_FIELDS)
    found = {name: _text(body.get(name), f"{at}.{name}") or None for name in _MATCH_FIELDS}
    operation = found["operation"]
    if operation is not None and operation not in _known_operations():
        close = [known for known in sorted(_known_operations()) if known.lower() == operation.lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else " (an operationId of the run-command contract)"
        raise ScenarioError(f"{at}.operation: unknown operation {operation!r}{hint}")
    method = found["method"]
    return Match(operation, method.upper() if method else None, found["name"], found["vm"])


@cache
def _known_operations() -> frozenset[str]:
    from pytest_runcommand.contract import facts

    return frozenset(op for version in facts.API_VERSIONS for op in facts.operations_at(version))


def _respond(fault: Fault, value: Any, at: str) -> None:
    body = _fields(value, at, _RESPOND_FIELDS)
    if "status" not in body:
        raise ScenarioError(f"{at}.status: required (400-599)")
    fault.status = int(_number(body["status"], f"{at}.status", integer=True, lower=400, upper=599))
    fault.code = _text(body.get("code"), f"{at}.code") or _DEFAULT_CODES.get(fault.status, "ScriptedFault")
    fault.message = _text(body.get("message"), f"{at}.message") or f"Scripted {fault.status} ({fault.code})."
    if body.get("retry_after") is not None:
        fault.retry_after = _number(body["retry_after"], f"{at}.retry_after", upper=86_400.0)
    headers = body.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise ScenarioError(f"{at}.headers: a mapping of header names to strings, not {_kind(headers)}")
    for name, header in headers.items():
        if not isinstance(name, str) or not _TOKEN.issuperset(name) or not name:
            raise ScenarioError(f"{at}.headers: {str(name)!r} is not a header name"[:300])
        if not isinstance(header, str | int | float) or isinstance(header, bool):
            raise ScenarioError(f"{at}.headers.{name}: must be a string, not {_kind(header)}")
        if name.lower() in _SET_BY_THE_SERVER:
            raise ScenarioError(
                f"{at}.headers.{name}: the emulator and its HTTP server set this header themselves (it frames or "
                f"describes the JSON error body); a scripted answer cannot (use 'drop' for a broken connection)"
            )
        fault.headers[name] = str(header)


_SET_BY_THE_SERVER = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "content-type",
        "content-encoding",
        "date",
    }
)
"""Headers a scripted answer cannot set: the framing and hop-by-hop ones (a second Content-Length made uvicorn drop
the connection with a traceback) and those describing the body the emulator writes (a second value was joined)."""


_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DEFAULT_CODES = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    403: "AuthorizationFailed",
    404: "NotFound",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def _fields(value: Any, at: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{at}: a mapping with {_or(allowed)}, not {_kind(value)}")
    for key in value:
        if key not in allowed:
            raise ScenarioError(f"{at}: unknown field {_shown(key)} (expected {_or(allowed)})"[:300])
    return value


def _times(value: Any, at: str) -> int | None:
    if value is None:
        return None
    return int(_number(value, f"{at}.times", integer=True, lower=1, upper=1_000_000))


def _text(value: Any, at: str, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise ScenarioError(f"{at}: required")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ScenarioError(f"{at}: must be a non-empty string, not {_kind(value)}")
    if len(value) > 4096 or any(ord(char) < 32 and char not in "\t" for char in value):
        raise ScenarioError(f"{at}: must be one line of at most 4096 characters")
    return value


def _number(value: Any, at: str, *, integer: bool = False, lower: float = 0, upper: float) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and integer and not float(value).is_integer():
        ok = False
    if not ok or not (lower <= value <= upper):
        kind = "a whole number" if integer else "a number"
        raise ScenarioError(f"{at}: must be {kind} from {_plain(lower)} to {_plain(upper)}, not {_short(value)}")
    return float(value)


def _plain(number: float) -> str:
    """A bound as people write it: 1,000,000, not 1e+06."""
    return f"{int(number):,}" if float(number).is_integer() else f"{number:,}"


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _or(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
