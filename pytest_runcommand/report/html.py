"""The coverage report as one self-contained HTML page: no script, no external resource.

Cells are coloured by how much of the operation was exercised (green only near full coverage, not at 1 of 37),
and each operation lists the tests that exercised it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from pytest_runcommand.report.coverage import coverage_totals, fraction

__all__ = ["BANDS", "band", "render_html"]

BANDS: tuple[tuple[float, str], ...] = ((90.0, "full"), (60.0, "good"), (30.0, "part"), (0.0, "low"))
"""(lowest percentage, CSS class), best first; an untouched operation or 0% is ``none``."""

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f23;max-width:70rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;font-size:.9rem;vertical-align:top}
th{background:#f6f8fa}.muted{color:#57606a}
.full,.ok{background:#aceebb}.good{background:#dafbe1}.part{background:#fff8c5}.low{background:#ffe2cc}
.none,.no{background:#ffebe9}.na{background:#f6f8fa}
summary{cursor:pointer;margin:.4rem 0}code{font-family:ui-monospace,monospace;font-size:.85rem}
.badge{display:inline-block;padding:0 .4rem;border-radius:.6rem;background:#eaeef2;margin:0 .2rem .2rem 0}
"""


def band(covered: int, total: int) -> str:
    """The CSS class of a coverage cell: ``na`` with nothing to cover, ``none`` at 0, then by :data:`BANDS`."""
    if total == 0:
        return "na"
    if covered == 0:
        return "none"
    percent = 100.0 * covered / total
    return next(name for floor, name in BANDS if percent >= floor)


def _row_band(entry: Mapping[str, Any]) -> str:
    """An operation's colour: its worse side (a row is not green while either side is mostly unexercised)."""
    if not entry["calls"]:
        return "none"
    order = ["none", "low", "part", "good", "full"]
    bands = [
        band(
            len(entry[f"{side}_properties_covered"]),
            len(entry[f"{side}_properties_covered"]) + len(entry[f"{side}_properties_uncovered"]),
        )
        for side in ("request", "response")
    ]
    rated = [b for b in bands if b != "na"]
    return min(rated, key=order.index) if rated else "full"


def _cell(entry: Mapping[str, Any], side: str) -> str:
    covered, uncovered = entry[f"{side}_properties_covered"], entry[f"{side}_properties_uncovered"]
    css = band(len(covered), len(covered) + len(uncovered))  # an uncalled operation: 0 covered, "none" (or "na")
    return f"<td class={css}>{fraction(covered, uncovered)}</td>"


def _badges(counts: Mapping[str, int]) -> str:
    return " ".join(f"<span class=badge>{html.escape(code)} x{count}</span>" for code, count in counts.items())


def _summary(data: Mapping[str, Any]) -> list[str]:
    e = html.escape
    operations = data["operations"]
    touched = sum(1 for entry in operations.values() if entry["calls"])
    totals = coverage_totals(data)
    parts = [f"<p>{touched} of {len(operations)} operations exercised."]
    for side, entry in totals.items():
        css = band(entry["covered"], entry["total"])
        percent = "" if entry["percent"] is None else f" ({entry['percent']:g}%)"
        parts.append(
            f" <span class='badge {css}'>{side} properties {entry['covered']}/{entry['total']}{percent}</span>"
        )
    parts.append(" Rules fired: " + (_badges(data["rules_fired"]) or "<span class=muted>none</span>") + "</p>")
    parts.append(
        "<table><tr><th>operation</th><th>family</th><th>calls</th><th>tests</th><th>status codes seen</th>"
        "<th>documented</th><th>request props</th><th>response props</th></tr>"
    )
    for op_id, entry in operations.items():
        parts.append(
            f"<tr class={_row_band(entry)}><td><a href='#{e(op_id)}'>{e(op_id)}</a></td>"
            f"<td>{e(str(entry.get('family', '')))}</td><td>{entry['calls']}</td><td>{entry.get('test_count', 0)}</td>"
            f"<td>{e(', '.join(entry['statuses_seen']) or '-')}</td><td>{e(', '.join(entry['statuses_documented']))}"
            f"</td>{_cell(entry, 'request')}{_cell(entry, 'response')}</tr>"
        )
    parts.append("</table>")
    return parts


def _operation(op_id: str, entry: Mapping[str, Any]) -> list[str]:
    e = html.escape
    parts = [
        f"<h2 id='{e(op_id)}'>{e(op_id)} <span class=muted><code>{e(entry['method'])} "
        f"{e(entry['path'])}</code></span></h2>"
    ]
    if not entry["calls"]:
        parts.append("<p class=muted>Never called.</p>")
    tests = entry.get("tests", [])
    if tests:
        more = entry.get("test_count", len(tests)) - len(tests)
        listed = "".join(f"<li><code>{e(test)}</code></li>" for test in tests)
        parts.append(
            f"<details><summary>exercised by {entry.get('test_count', len(tests))} test(s)</summary><ul>{listed}"
            f"{f'<li class=muted>and {more} more</li>' if more > 0 else ''}</ul></details>"
        )
    for side in ("request", "response"):
        covered = entry[f"{side}_properties_covered"]
        uncovered = entry[f"{side}_properties_uncovered"]
        if not covered and not uncovered:
            continue
        opened = " open" if entry["calls"] else ""
        parts.append(
            f"<details{opened}><summary>{side} properties: {fraction(covered, uncovered)} exercised</summary>"
            f"<table><tr><th>{side} property</th><th>exercised</th></tr>"
        )
        for pointer in sorted([*covered, *uncovered]):
            ok = pointer in covered
            parts.append(
                f"<tr class={'ok' if ok else 'no'}><td><code>{e(pointer)}</code></td><td>{'yes' if ok else 'no'}</td></tr>"
            )
        parts.append("</table></details>")
    if entry["rules_fired"]:
        parts.append("<p>Rules fired: " + _badges(entry["rules_fired"]) + "</p>")
    return parts


def _versions(data: Mapping[str, Any]) -> str:
    used = data.get("api_versions") or {}
    return ", ".join(f"{version} ({count} calls)" for version, count in used.items()) or str(data.get("contract", ""))


def render_html(data: Mapping[str, Any]) -> str:
    """A self-contained page: a summary table coloured by coverage, then a section per operation."""
    e = html.escape
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<title>pytest-runcommand contract coverage</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Contract coverage: Azure VM run commands, api-version {e(_versions(data))}</h1>",
        *_summary(data),
    ]
    for op_id, entry in data["operations"].items():
        parts.extend(_operation(op_id, entry))
    if data["rules_never_fired"]:
        parts.append(
            "<h2>Rules never fired</h2><p>"
            + " ".join(f"<span class=badge>{e(code)}</span>" for code in data["rules_never_fired"])
            + "</p>"
        )
    parts.append("</body></html>\n")
    return "".join(parts)
