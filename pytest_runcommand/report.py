"""Contract coverage: which operations, status codes, properties and rules a run exercised, and which it never touched.

A :class:`CoverageReport` takes interactions (with the violations found in them), merges with other reports (the
workers of pytest-xdist), and renders as terminal lines, JSON and a self-contained HTML page.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_runcommand.contract import RULE_CODES, SCHEMA_CODES, Contract, Violation, get_contract
from pytest_runcommand.interactions import Interaction

__all__ = ["CoverageReport"]

_MAX_DEPTH = 8
_WRITE_ONLY = ("/runAsPassword", "/protectedParameters/*/value")
"""Secrets a response must never carry: not 'uncovered' when absent."""


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


@dataclass
class _Seen:
    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    request_properties: set[str] = field(default_factory=set)
    response_properties: set[str] = field(default_factory=set)
    rules: Counter[str] = field(default_factory=Counter)


class CoverageReport:
    """Accumulates what a test run did against the contract."""

    def __init__(self, contract: Contract | None = None) -> None:
        self.contract = contract or get_contract()
        self.seen: dict[str, _Seen] = {}
        self.unmatched = 0

    # -- collecting ------------------------------------------------------------------------------------------------

    def add(self, interaction: Interaction, violations: Iterable[Violation] = ()) -> None:
        """Count one interaction (ignored unless it is a run-command operation)."""
        match = self.contract.match(interaction.method, interaction.url)
        if match is None:
            self.unmatched += 1
            return
        seen = self.seen.setdefault(match.operation_id, _Seen())
        seen.calls += 1
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

    def merge(self, data: Mapping[str, Any]) -> None:
        """Add a report produced elsewhere (``to_dict()`` of another process)."""
        self.unmatched += int(data.get("unmatched_interactions", 0))
        for op_id, entry in data.get("operations", {}).items():
            if not entry.get("calls"):
                continue
            seen = self.seen.setdefault(op_id, _Seen())
            seen.calls += int(entry["calls"])
            seen.statuses.update({int(k): int(v) for k, v in entry.get("statuses_seen", {}).items()})
            seen.request_properties.update(entry.get("request_properties_covered", []))
            seen.response_properties.update(entry.get("response_properties_covered", []))
            seen.rules.update({str(k): int(v) for k, v in entry.get("rules_fired", {}).items()})

    # -- shaping -----------------------------------------------------------------------------------------------------

    def _universe(self, op_id: str) -> tuple[set[str], set[str], list[str]]:
        operation = self.contract.by_id[op_id]
        definitions = self.contract.definitions
        request = set()
        if operation.body_schema:
            request = _schema_pointers(operation.body_schema, definitions, writable=True)
        response: set[str] = set()
        for code, answer in operation.responses.items():
            if code.startswith("2") and answer.get("schema"):
                response |= _schema_pointers(answer["schema"], definitions)
        response = {p for p in response if not p.endswith(_WRITE_ONLY)}
        return request, response, sorted(operation.responses)

    def to_dict(self) -> dict[str, Any]:
        operations: dict[str, Any] = {}
        all_rules = {**SCHEMA_CODES, **RULE_CODES}
        fired: Counter[str] = Counter()
        for operation in self.contract.operations:
            op_id = operation.operation_id
            seen = self.seen.get(op_id, _Seen())
            request, response, documented = self._universe(op_id)
            covered_request = sorted(request & seen.request_properties)
            covered_response = sorted(response & seen.response_properties)
            fired.update(seen.rules)
            operations[op_id] = {
                "method": operation.method,
                "path": operation.path,
                "calls": seen.calls,
                "statuses_documented": documented,
                "statuses_seen": {str(k): v for k, v in sorted(seen.statuses.items())},
                "request_properties_covered": covered_request,
                "request_properties_uncovered": sorted(request - seen.request_properties),
                "response_properties_covered": covered_response,
                "response_properties_uncovered": sorted(response - seen.response_properties),
                "rules_fired": dict(sorted(seen.rules.items())),
            }
        return {
            "contract": str(self.contract.document.get("info", {}).get("version", "")),
            "operations": operations,
            "operations_untouched": sorted(op for op, entry in operations.items() if not entry["calls"]),
            "rules_fired": dict(sorted(fired.items())),
            "rules_never_fired": sorted(set(all_rules) - set(fired)),
            "unmatched_interactions": self.unmatched,
        }

    # -- rendering --------------------------------------------------------------------------------------------------

    def terminal_lines(self) -> list[str]:
        data = self.to_dict()
        lines = []
        for op_id, entry in data["operations"].items():
            if not entry["calls"]:
                continue
            statuses = ", ".join(f"{code}x{count}" for code, count in entry["statuses_seen"].items()) or "-"
            req = _fraction(entry["request_properties_covered"], entry["request_properties_uncovered"])
            resp = _fraction(entry["response_properties_covered"], entry["response_properties_uncovered"])
            rules = ", ".join(entry["rules_fired"]) or "none"
            lines.append(
                f"{op_id}: {entry['calls']} call(s); status {statuses}; request properties {req}; "
                f"response properties {resp}; rules fired: {rules}"
            )
        if data["operations_untouched"]:
            lines.append("never touched: " + ", ".join(data["operations_untouched"]))
        touched = [e for e in data["operations"].values() if e["calls"]]
        sent = {p for e in touched for p in e["request_properties_covered"]}
        missing = sorted({p for e in touched for p in e["request_properties_uncovered"] if p.count("/") <= 2} - sent)
        if missing:
            lines.append("request properties no operation sent (top levels): " + ", ".join(missing))
        return lines

    def write(self, json_path: Path) -> Path:
        """Write JSON to ``json_path`` and the HTML page beside it; return the HTML path."""
        data = self.to_dict()
        json_path.parent.mkdir(parents=True, exist_ok=True)
        html_path = json_path.with_suffix(".html")
        _atomic_write(json_path, json.dumps(data, indent=2, sort_keys=True) + "\n")
        _atomic_write(html_path, render_html(data))
        return html_path


def _fraction(covered: list[str], uncovered: list[str]) -> str:
    total = len(covered) + len(uncovered)
    return f"{len(covered)}/{total}" if total else "n/a"


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f23;max-width:70rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;font-size:.9rem;vertical-align:top}
th{background:#f6f8fa}.ok{background:#dafbe1}.no{background:#ffebe9}.muted{color:#57606a}
summary{cursor:pointer;margin:.4rem 0}code{font-family:ui-monospace,monospace;font-size:.85rem}.badge{display:inline-block;padding:0 .4rem;
border-radius:.6rem;background:#eaeef2;margin:0 .2rem .2rem 0}
"""


def render_html(data: Mapping[str, Any]) -> str:
    """A self-contained page: a summary, then a table per operation with covered and uncovered properties marked."""
    e = html.escape
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<title>pytest-runcommand contract coverage</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Contract coverage: Azure VM run commands, api-version {e(str(data.get('contract', '')))}</h1>",
    ]
    operations = data["operations"]
    touched = sum(1 for entry in operations.values() if entry["calls"])
    parts.append(f"<p>{touched} of {len(operations)} operations exercised. Rules fired: ")
    parts.append(
        " ".join(f"<span class=badge>{e(code)} x{count}</span>" for code, count in data["rules_fired"].items())
        or "<span class=muted>none</span>"
    )
    parts.append(
        "</p><table><tr><th>operation</th><th>calls</th><th>status codes seen</th>"
        "<th>documented</th><th>request props</th><th>response props</th></tr>"
    )
    for op_id, entry in operations.items():
        css = "ok" if entry["calls"] else "no"
        parts.append(
            f"<tr class={css}><td><a href='#{e(op_id)}'>{e(op_id)}</a></td><td>{entry['calls']}</td>"
            f"<td>{e(', '.join(entry['statuses_seen']) or '-')}</td><td>{e(', '.join(entry['statuses_documented']))}"
            f"</td><td>{_fraction(entry['request_properties_covered'], entry['request_properties_uncovered'])}</td>"
            f"<td>{_fraction(entry['response_properties_covered'], entry['response_properties_uncovered'])}</td></tr>"
        )
    parts.append("</table>")
    for op_id, entry in operations.items():
        parts.append(
            f"<h2 id='{e(op_id)}'>{e(op_id)} <span class=muted><code>{e(entry['method'])} "
            f"{e(entry['path'])}</code></span></h2>"
        )
        if not entry["calls"]:
            parts.append("<p class=muted>Never called.</p>")
        for side in ("request", "response"):
            covered = entry[f"{side}_properties_covered"]
            uncovered = entry[f"{side}_properties_uncovered"]
            if not covered and not uncovered:
                continue
            opened = " open" if entry["calls"] else ""
            parts.append(
                f"<details{opened}><summary>{side} properties: {_fraction(covered, uncovered)} exercised</summary>"
                f"<table><tr><th>{side} property</th><th>exercised</th></tr>"
            )
            for pointer in sorted([*covered, *uncovered]):
                ok = pointer in covered
                parts.append(
                    f"<tr class={'ok' if ok else 'no'}><td><code>{e(pointer)}</code></td>"
                    f"<td>{'yes' if ok else 'no'}</td></tr>"
                )
            parts.append("</table></details>")
        if entry["rules_fired"]:
            parts.append(
                "<p>Rules fired: "
                + " ".join(
                    f"<span class=badge>{e(code)} x{count}</span>" for code, count in entry["rules_fired"].items()
                )
                + "</p>"
            )
    if data["rules_never_fired"]:
        parts.append(
            "<h2>Rules never fired</h2><p>"
            + " ".join(f"<span class=badge>{e(code)}</span>" for code in data["rules_never_fired"])
            + "</p>"
        )
    parts.append("</body></html>\n")
    return "".join(parts)
