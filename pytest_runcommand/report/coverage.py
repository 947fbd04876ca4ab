"""Collect contract coverage: per operation the calls, status codes, properties, rules fired and the tests involved.

Each interaction counts against the contract of its own api-version; the operations listed (and "never touched")
are those of the api-versions the run used, each with its family (managed, diagnostic, action, catalogue:
:func:`~pytest_runcommand.contract.facts.operation_family`), and an operation's property universe is the union over
those versions; the GETs of an action's ``Location`` URL (its polls and the final result it hands back there) count
for that action, not for the operation-status resource the URL matches.
A :class:`CoverageReport` takes interactions (with the violations found in them) and the test they came from, merges
with other reports (the workers of pytest-xdist), says whether a threshold is met, and renders as terminal lines,
JSON and (through :mod:`pytest_runcommand.report.html`) a self-contained HTML page.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_runcommand.contract import RULE_CODES, SCHEMA_CODES, Contract, Violation, get_contract
from pytest_runcommand.contract.document import query_api_version
from pytest_runcommand.contract.facts import OPERATION_FAMILIES, operation_family, secret_properties
from pytest_runcommand.errors import InputError
from pytest_runcommand.interactions import Interaction

__all__ = ["CoverageReport", "coverage_totals", "read_document"]

_MAX_DEPTH = 8
_MAX_TESTS_LISTED = 50
_MAX_REMEMBERED = 4096
"""Test ids kept per operation (the count is exact; the list names the first ones)."""


def _schema_pointers(
    schema: Any, definitions: Mapping[str, Any], prefix: str = "", depth: int = 0, *, writable: bool = False
) -> set[str]:
    """Every property pointer a schema defines (array items as ``*``); ``writable`` leaves out read-only ones."""
    if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
        return set()
    if "$ref" in schema:
        target = definitions.get(str(schema["$ref"]).rsplit("/", 1)[-1])
        return _schema_pointers(target, definitions, prefix, depth + 1, writable=writable)
    found: set[str] = set()
    for name, sub in (schema.get("properties") or {}).items():
        if writable and isinstance(sub, Mapping) and sub.get("readOnly"):
            continue
        pointer = f"{prefix}/{name}"
        found.add(pointer)
        found |= _schema_pointers(sub, definitions, pointer, depth + 1, writable=writable)
    if "items" in schema:
        found |= _schema_pointers(schema["items"], definitions, f"{prefix}/*", depth + 1, writable=writable)
    for sub in schema.get("allOf") or ():
        found |= _schema_pointers(sub, definitions, prefix, depth + 1, writable=writable)
    return found


def _instance_pointers(value: Any, prefix: str = "", depth: int = 0) -> set[str]:
    """Every property pointer present in a JSON value (array indices as ``*``)."""
    found: set[str] = set()
    if depth > _MAX_DEPTH:
        return found
    if isinstance(value, Mapping):
        for name, sub in value.items():
            pointer = f"{prefix}/{name}"
            found.add(pointer)
            found |= _instance_pointers(sub, pointer, depth + 1)
    elif isinstance(value, list):
        for item in value:
            found |= _instance_pointers(item, f"{prefix}/*", depth + 1)
    return found


def _under_secret(pointer: str, secrets: frozenset[str]) -> bool:
    """A response never carries a secret property (nor anything under it): absent is not 'uncovered'."""
    return not secrets.isdisjoint(pointer.split("/"))


@dataclass
class _Seen:
    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    request_properties: set[str] = field(default_factory=set)
    response_properties: set[str] = field(default_factory=set)
    rules: Counter[str] = field(default_factory=Counter)
    tests: set[str] = field(default_factory=set)
    """Ids of the tests that made these calls: this process's, and those the reports merged in list."""
    unlisted: int = 0
    """Tests the reports merged in counted beyond their lists (each lists at most ``_MAX_TESTS_LISTED``)."""

    @property
    def test_count(self) -> int:
        """Distinct tests by id while the lists are whole; what lies beyond a report's list is added."""
        return len(self.tests) + self.unlisted

    def listed_tests(self) -> list[str]:
        return sorted(self.tests)[:_MAX_TESTS_LISTED]


class CoverageReport:
    """Accumulates what a test run did against the contract."""

    def __init__(self, contract: Contract | None = None) -> None:
        self.contract = contract or get_contract()
        self.seen: dict[str, _Seen] = {}
        self.unmatched = 0
        self.api_versions: Counter[str] = Counter()
        """Run-command interactions per api-version of the contract that counted them."""
        self._universes: dict[tuple[str, str], tuple[set[str], set[str], list[str]]] = {}
        self._operations: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._finals: dict[str, str] = {}
        """``Location`` path and query of an action's 202 -> the action (the GETs of that URL count for it)."""
        self.runs: set[str] = set()
        """The test runs this report holds, by id: the run's own (the plugin gives it one) and those of the reports
        merged in, so that ``report merge`` can refuse a run counted twice (a report given twice, or a merged report
        with one of its inputs) and still merge two runs whose findings are equal."""

    # -- collecting ------------------------------------------------------------------------------------------------

    def add(self, interaction: Interaction, violations: Iterable[Violation] = (), *, test: str = "") -> None:
        """Count one interaction (or one direct validation) of ``test``; ignored unless it is a run-command one."""
        found = self._operation_of(interaction.method, interaction.url)
        if found is None:
            self.unmatched += 1
            return
        operation_id, version = found
        self.api_versions[version] += 1
        operation_id = self._action_polled(interaction) or operation_id
        seen = self.seen.setdefault(operation_id, _Seen())
        seen.calls += 1
        if test:
            seen.tests.add(test)
        if interaction.status is not None:
            seen.statuses[interaction.status] += 1
        for side, attribute in (("request", "request_properties"), ("response", "response_properties")):
            try:
                body = interaction.request_json if side == "request" else interaction.response_json
            except ValueError:
                continue
            if side == "response" and isinstance(body, Mapping) and isinstance(body.get("value"), list):
                body = {"value": body["value"], **({"nextLink": body["nextLink"]} if "nextLink" in body else {})}
            getattr(seen, attribute).update(_instance_pointers(body))
        for violation in violations:
            seen.rules[violation.code] += 1
        location = interaction.response_header("Location")
        if location and family_of(operation_id) == "action":  # polled at this URL, its result comes back there
            if len(self._finals) >= _MAX_REMEMBERED:
                self._finals.clear()
            self._finals[_route(location)] = operation_id

    def _action_polled(self, interaction: Interaction) -> str | None:
        """The action whose ``Location`` URL this GET polls (a 202 while it runs, its final result once done: the
        call, its status, the result's properties and the rules fired count for the action), else None."""
        if interaction.method != "GET" or not self._finals:
            return None
        return self._finals.get(_route(str(interaction.url)))

    def _operation_of(self, method: Any, url: Any) -> tuple[str, str] | None:
        """(operation id, api-version of the contract that knows it) of a request line, at the request's own
        api-version (remembered: suites repeat their URLs); None when not run-command."""
        if not isinstance(method, str) or not isinstance(url, str):
            return None
        key = (method, url)
        if key in self._operations:
            return self._operations[key]
        contract = self.contract.for_version(query_api_version(url))
        match = contract.match(method, url)
        if len(self._operations) >= _MAX_REMEMBERED:
            self._operations.clear()
        found = self._operations[key] = None if match is None else (match.operation_id, contract.api_version)
        return found

    def merge(self, data: Any, source: str = "a worker's report") -> None:
        """Add a report produced elsewhere (``to_dict()`` of another process, or its JSON file); read by
        :func:`read_document` (an :class:`InputError` naming ``source`` and the field, before anything is added)."""
        document = read_document(data, source)
        self.runs.update(document.get("runs", ()))
        self.unmatched += document.get("unmatched_interactions", 0)
        self.api_versions.update(document.get("api_versions", {}))
        for op_id, entry in document["operations"].items():
            if not entry.get("calls"):
                continue
            seen = self.seen.setdefault(op_id, _Seen())
            seen.calls += entry["calls"]
            seen.statuses.update({int(k): v for k, v in entry.get("statuses_seen", {}).items()})
            seen.request_properties.update(entry.get("request_properties_covered", ()))
            seen.response_properties.update(entry.get("response_properties_covered", ()))
            seen.rules.update(entry.get("rules_fired", {}))
            listed = set(entry.get("tests", ()))
            seen.tests |= listed  # a test in two reports (a retried job) is one test
            seen.unlisted += entry.get("test_count", len(listed)) - len(listed)

    # -- shaping -----------------------------------------------------------------------------------------------------

    def _versions(self) -> list[str]:
        """The api-versions the run used, oldest first (the contract's own when it used none)."""
        return sorted(self.api_versions) or [self.contract.api_version]

    def _universe(self, op_id: str) -> tuple[set[str], set[str], list[str]]:
        """(request properties, response properties, documented statuses) of an operation over the versions used."""
        request: set[str] = set()
        response: set[str] = set()
        documented: set[str] = set()
        for version in self._versions():
            contract = self.contract.for_version(version)
            if op_id not in contract.by_id:
                continue
            key = (contract.api_version, op_id)
            found = self._universes.get(key)
            if found is None:
                found = self._universes[key] = _compute_universe(contract, op_id)
            request |= found[0]
            response |= found[1]
            documented.update(found[2])
        return request, response, sorted(documented)

    def _all_operations(self) -> dict[str, tuple[str, str]]:
        """op id -> (method, path) of every operation of the versions used (the newest version's route)."""
        found: dict[str, tuple[str, str]] = {}
        for version in self._versions():
            for operation in self.contract.for_version(version).operations:
                found[operation.operation_id] = (operation.method, operation.path)
        for op_id in self.seen:  # merged from elsewhere at a version this process did not use
            found.setdefault(op_id, ("", ""))
        return found

    def to_dict(self) -> dict[str, Any]:
        operations: dict[str, Any] = {}
        all_rules = {**SCHEMA_CODES, **RULE_CODES}
        fired: Counter[str] = Counter()
        for op_id, (method, path) in self._all_operations().items():
            seen = self.seen.get(op_id, _Seen())
            request, response, documented = self._universe(op_id)
            fired.update(seen.rules)
            operations[op_id] = {
                "family": family_of(op_id),
                "method": method,
                "path": path,
                "calls": seen.calls,
                "statuses_documented": documented,
                "statuses_seen": {str(k): v for k, v in sorted(seen.statuses.items())},
                "request_properties_covered": sorted(request & seen.request_properties),
                "request_properties_uncovered": sorted(request - seen.request_properties),
                "response_properties_covered": sorted(response & seen.response_properties),
                "response_properties_uncovered": sorted(response - seen.response_properties),
                "rules_fired": dict(sorted(seen.rules.items())),
                "tests": seen.listed_tests(),
                "test_count": seen.test_count,
            }
        data = {
            "runs": sorted(self.runs),
            "contract": str(self.contract.document.get("info", {}).get("version", "")),
            "api_versions": dict(sorted(self.api_versions.items())),
            "operations": operations,
            "operations_untouched": sorted(op for op, entry in operations.items() if not entry["calls"]),
            "rules_fired": dict(sorted(fired.items())),
            "rules_never_fired": sorted(set(all_rules) - set(fired)),
            "unmatched_interactions": self.unmatched,
        }
        data["totals"] = coverage_totals(data)
        return data

    # -- verdicts ----------------------------------------------------------------------------------------------------

    def meets(self, threshold: float) -> bool:
        """Request and response property coverage, over the operations touched, both reach ``threshold`` percent.

        A side no touched operation has properties on does not count; a run that touched nothing is at 0%.
        """
        totals = coverage_totals(self.to_dict())
        percents: list[float] = [side["percent"] for side in totals.values() if side["percent"] is not None]
        if not self.seen or not percents:
            return threshold <= 0
        return min(percents) >= threshold

    def verdict(self, threshold: float) -> str:
        """One summary line: the coverage reached and whether ``threshold`` is."""
        totals = coverage_totals(self.to_dict())
        parts = [
            f"{side} {_percent(entry['percent'])} ({entry['covered']}/{entry['total']})"
            for side, entry in totals.items()
        ]
        reached = "reached" if self.meets(threshold) else "NOT reached"
        touched = "" if self.seen else " (no test exercised a run-command operation)"
        return f"run-command property coverage {reached}: required {threshold:g}%, {', '.join(parts)}{touched}"

    # -- rendering --------------------------------------------------------------------------------------------------

    def terminal_lines(self) -> list[str]:
        """Touched operations grouped by family, then what the versions used left untouched (short)."""
        data = self.to_dict()
        lines = []
        if data["api_versions"]:
            lines.append("api-versions: " + ", ".join(f"{v} ({n})" for v, n in data["api_versions"].items()))
        for family in _families_in(data["operations"]):
            entries = {op: e for op, e in data["operations"].items() if e["family"] == family}
            touched = {op: e for op, e in entries.items() if e["calls"]}
            if not touched:
                continue
            lines.append(f"{family}: {len(touched)} of {len(entries)} operation(s) touched")
            for op_id, entry in touched.items():
                statuses = ", ".join(f"{code}x{count}" for code, count in entry["statuses_seen"].items()) or "-"
                req = fraction(entry["request_properties_covered"], entry["request_properties_uncovered"])
                resp = fraction(entry["response_properties_covered"], entry["response_properties_uncovered"])
                rules = ", ".join(entry["rules_fired"]) or "none"
                lines.append(
                    f"  {op_id}: {entry['calls']} call(s) in {entry['test_count']} test(s); status {statuses}; "
                    f"request properties {req}; response properties {resp}; rules fired: {rules}"
                )
        untouched = data["operations_untouched"]
        if untouched:
            lines.append("never touched: " + "; ".join(_untouched_groups(data["operations"], untouched)))
        touched_entries = [e for e in data["operations"].values() if e["calls"]]
        sent = {p for e in touched_entries for p in e["request_properties_covered"]}
        missing = sorted(
            {p for e in touched_entries for p in e["request_properties_uncovered"] if p.count("/") <= 2} - sent
        )
        if missing:
            lines.append("request properties no operation sent (top levels): " + ", ".join(missing))
        return lines

    def write(self, json_path: Path) -> Path:
        """Write JSON to ``json_path`` and the HTML page beside it; return the HTML path."""
        from pytest_runcommand.report.html import render_html
        from pytest_runcommand.report_file import write_report

        data = self.to_dict()
        html_path = json_path.with_suffix(".html")
        write_report(json_path, json.dumps(data, indent=2, sort_keys=True) + "\n")
        write_report(html_path, render_html(data))
        return html_path


def _route(url: str) -> str:
    """Path (any case) and query of a URL: the same whoever serves it; a URL that does not split is its own key."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced bracket in the host
        return url
    return f"{parts.path.lower()}?{parts.query}"


def family_of(op_id: str) -> str:
    """The family of an operation id (:data:`OPERATION_FAMILIES`), ``other`` for one of a loaded document only."""
    try:
        return operation_family(op_id)
    except KeyError:
        return "other"


def _families_in(operations: Mapping[str, Any]) -> list[str]:
    """The families present, in :data:`OPERATION_FAMILIES` order (``other`` last)."""
    present = {entry["family"] for entry in operations.values()}
    return [f for f in (*OPERATION_FAMILIES, "other") if f in present]


def _untouched_groups(operations: Mapping[str, Any], untouched: list[str]) -> list[str]:
    """Per family the operations never called: their names, or ``all N`` when the run left the family alone."""
    groups = []
    for family in _families_in({op: operations[op] for op in untouched}):
        names = [op for op in untouched if operations[op]["family"] == family]
        total = sum(1 for entry in operations.values() if entry["family"] == family)
        groups.append(f"{family} (all {total})" if len(names) == total else f"{family}: {', '.join(names)}")
    return groups


def _compute_universe(contract: Contract, op_id: str) -> tuple[set[str], set[str], list[str]]:
    operation = contract.by_id[op_id]
    definitions = contract.definitions
    request = set()
    if operation.body_schema:
        request = _schema_pointers(operation.body_schema, definitions, writable=True)
    response: set[str] = set()
    for code, answer in operation.responses.items():
        if code.startswith("2") and answer.get("schema"):
            response |= _schema_pointers(answer["schema"], definitions)
    secrets = secret_properties()
    response = {p for p in response if not _under_secret(p, secrets)}
    return request, response, sorted(operation.responses)


class _Bad(ValueError):
    """A field of a coverage report has the wrong shape (the message names it)."""


_STATUS = re.compile(r"-?[0-9]{1,4000}")
"""A status as ``to_dict`` writes one: any integer (a recorded or fuzzed exchange may hold any); ASCII digits only,
few enough for ``int``."""
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]{1,80}")
_ENTRY_READ: dict[str, str] = {
    "calls": "count",
    "statuses_seen": "statuses",
    "request_properties_covered": "texts",
    "response_properties_covered": "texts",
    "rules_fired": "counts",
    "tests": "texts",
    "test_count": "count",
}
"""What ``merge`` reads of an operation's entry (only ``calls`` must be there: the others count as empty)."""
_ENTRY_DERIVED = {
    "family": "text",
    "method": "text",
    "path": "text",
    "statuses_documented": "texts",
    "request_properties_uncovered": "texts",
    "response_properties_uncovered": "texts",
}
"""What ``to_dict`` works out again from the contract: checked when there, never read."""
_TOP = {
    "runs": "texts",
    "api_versions": "counts",
    "unmatched_interactions": "count",
    "contract": "text",
    "operations_untouched": "texts",
    "rules_fired": "counts",
    "rules_never_fired": "texts",
    "totals": "object",
}
"""The report's other fields, each checked when there (absent: empty)."""


def read_document(data: Any, source: str) -> dict[str, Any]:
    """``data``, a coverage report (:meth:`CoverageReport.to_dict`, or its JSON file), checked whole before any of
    it is merged: every field there has its shape, each operation's entry has its ``calls``, counts are integers of
    0 or more and no entry counts fewer tests than it lists. An :class:`InputError` names ``source`` and the field."""
    try:
        if not isinstance(data, dict) or not isinstance(data.get("operations"), dict):
            raise _Bad('not a coverage report (no "operations" object of operation: entry)')
        for name, kind in _TOP.items():
            if name in data:
                _check(data[name], kind, name)
        for op_id, entry in data["operations"].items():
            where = f"operations.{_field_name(op_id)}"
            if not isinstance(entry, dict):
                raise _Bad(f"{where}: expected an object (an operation's entry), got {_shown(entry)}")
            if "calls" not in entry:
                raise _Bad(f"{where}.calls: missing")
            for name, kind in (*_ENTRY_READ.items(), *_ENTRY_DERIVED.items()):
                if name in entry:
                    _check(entry[name], kind, f"{where}.{name}")
            listed = len(set(entry.get("tests", ())))
            if entry.get("test_count", listed) < listed:
                raise _Bad(f"{where}.test_count: {entry['test_count']}, fewer than the {listed} test(s) it lists")
    except _Bad as error:
        raise InputError(f"{source}: {error}") from None
    return data


def _check(value: Any, kind: str, where: str) -> None:
    """``value`` has the shape ``kind`` names, else a :class:`_Bad` naming ``where``."""
    if kind == "count" and not _is_count(value):
        raise _Bad(f"{where}: expected a count (an integer, 0 or more), got {_shown(value)}")
    if kind == "text" and not isinstance(value, str):
        raise _Bad(f"{where}: expected a string, got {_shown(value)}")
    if kind == "object" and not isinstance(value, dict):
        raise _Bad(f"{where}: expected an object, got {_shown(value)}")
    if kind == "texts":
        if not isinstance(value, list):
            raise _Bad(f"{where}: expected a list of strings, got {_shown(value)}")
        for item in value:
            if not isinstance(item, str):
                raise _Bad(f"{where}: expected a list of strings, holds {_shown(item)}")
    if kind in ("counts", "statuses"):
        what = (
            "status: count"
            if kind == "statuses"
            else "api-version: count"
            if where == "api_versions"
            else "rule: count"
        )
        if not isinstance(value, dict):
            raise _Bad(f"{where}: expected an object of {what}, got {_shown(value)}")
        for key, count in value.items():
            if kind == "statuses" and not _STATUS.fullmatch(key):
                raise _Bad(f"{where}: expected {what}, got the status {_shown(key)}")
            if not _is_count(count):
                raise _Bad(f"{where}: expected {what}, got {_shown(count)} for {_shown(key)}")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _field_name(name: str) -> str:
    """An operation id as a field path shows it: as is when plain, else quoted and cut short."""
    return name if _PLAIN_NAME.fullmatch(name) else _shown(name)


def _shown(value: Any) -> str:
    """A value of a bad field, quoted (control characters escaped) and cut short for a one-line message."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def coverage_totals(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Request and response property coverage summed over the operations a report's data touched."""
    totals: dict[str, dict[str, Any]] = {}
    touched = [entry for entry in data["operations"].values() if entry["calls"]]
    for side in ("request", "response"):
        covered = sum(len(entry[f"{side}_properties_covered"]) for entry in touched)
        total = covered + sum(len(entry[f"{side}_properties_uncovered"]) for entry in touched)
        percent = round(100.0 * covered / total, 2) if total else None
        totals[side] = {"covered": covered, "total": total, "percent": percent}
    return totals


def fraction(covered: list[str], uncovered: list[str]) -> str:
    total = len(covered) + len(uncovered)
    return f"{len(covered)}/{total}" if total else "n/a"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}%"
