"""A fuzz report as JSON, and back: what ``--json`` writes and ``pytest-runcommand report merge`` reads.

Light module (no schemathesis). The document carries everything :class:`FuzzReport` holds (findings already
masked), the keys of the findings the run's baseline knew (``known``), and what each campaign unit drew
(``drawn``), and its ``campaign`` (what it drew from, which shards it holds), so the reports of the shards of one
campaign merge into the report of one run (:func:`merge_documents`), and reports of other campaigns do not.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

from pytest_runcommand.errors import InputError, UsageError
from pytest_runcommand.fuzz.baseline import Baseline
from pytest_runcommand.fuzz.findings import Campaign, FuzzFinding, FuzzReport, merge_campaigns
from pytest_runcommand.report_file import write_report

__all__ = ["FORMAT", "from_document", "merge_documents", "read_json", "to_document", "write_json", "write_text"]

FORMAT = "pytest-runcommand fuzz report"
VERSION = 1
_LISTS = ("operations", "checks", "cleanup", "remaining", "errors", "notes")
_FINDING_FIELDS = {f.name: f.type for f in fields(FuzzFinding)}
STATEFUL_UNIT = "stateful"
"""The campaign unit of the stateful sequences (``runner.STATEFUL``; the others are ``"<operation> <mode>"``)."""


def to_document(report: FuzzReport, baseline: Baseline | None = None) -> dict[str, Any]:
    """The report as a JSON-ready dict; ``known``: the findings ``baseline`` lists."""
    known = sorted(key for key in report.findings if baseline is not None and key in baseline)
    return {
        "format": FORMAT,
        "version": VERSION,
        "target": report.target,
        "campaign": report.campaign.to_dict() if report.campaign is not None else None,
        "failed": report.failed(baseline),
        "cases": report.cases,
        "elapsed": round(report.elapsed, 3),
        "statuses": {op: {str(k): v for k, v in sorted(c.items())} for op, c in report.statuses.items()},
        "positive": {str(k): v for k, v in sorted(report.positive.items())},
        **{name: list(getattr(report, name)) for name in _LISTS},
        "refused": report.refused,
        "refused_preexisting": report.refused_preexisting,
        "stopped": report.stopped,
        "drawn": dict(report.drawn),
        "known": known,
        "findings": [asdict(finding) for finding in report.findings.values()],
    }


def write_json(report: FuzzReport, path: str | Path, baseline: Baseline | None = None) -> None:
    """Write :func:`to_document` to ``path`` (replaced whole)."""
    write_text(Path(path), json.dumps(to_document(report, baseline), indent=2) + "\n")


def write_text(file: Path, text: str) -> None:
    """Write ``text`` to ``file`` as every report is written (:func:`pytest_runcommand.report_file.write_report`: a
    regular file replaced whole, a symlink's target so, a device, FIFO or ``/dev/stdout`` written through)."""
    write_report(file, text)


def from_document(data: Any, source: str) -> tuple[FuzzReport, set[str]]:
    """A report and its ``known`` keys from a document; an :class:`InputError` naming ``source`` and the field."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f'{source}: not a fuzz report (no "format": {FORMAT!r})')
    if data.get("version") != VERSION:
        raise InputError(f"{source}: fuzz report version {data.get('version')!r}; this version reads {VERSION}")
    try:
        report = FuzzReport(str(_get(data, "target", str)))
        report.cases = _get(data, "cases", int)
        report.elapsed = float(_get(data, "elapsed", (int, float)))
        report.statuses = {str(op): _counter(c, f"statuses.{op}") for op, c in _get(data, "statuses", dict).items()}
        report.positive = _counter(_get(data, "positive", dict), "positive")
        for name in _LISTS:
            setattr(report, name, [_text(item, name) for item in _get(data, name, list)])
        report.refused = _get(data, "refused", int)
        report.refused_preexisting = _get(data, "refused_preexisting", int) if "refused_preexisting" in data else 0
        stopped = data.get("stopped")
        report.stopped = None if stopped is None else _text(stopped, "stopped")
        report.drawn = {str(k): _text(v, f"drawn.{k}") for k, v in _get(data, "drawn", dict).items()}
        campaign = data.get("campaign")
        report.campaign = None if campaign is None else Campaign.from_dict(campaign)
        known = {_text(key, "known") for key in _get(data, "known", list)}
        for index, item in enumerate(_get(data, "findings", list)):
            finding = _finding(item, f"findings[{index}]")
            report.findings[finding.key] = finding
    except ValueError as error:  # _Bad, or a wrong campaign
        raise InputError(f"{source}: {error}") from None
    return report, known


def merge_documents(named: Sequence[tuple[str, Any]]) -> tuple[FuzzReport, set[str]]:
    """The report of the shards ``named`` (source, document) hold, and the ``known`` keys of any of them.

    An :class:`InputError` names a document that is no report, says nothing of its campaign, belongs to another
    campaign, repeats a shard or comes from another split (see :func:`merge_campaigns`).
    """
    loaded = [(source, *from_document(data, source)) for source, data in named]
    campaigns: list[tuple[str, Campaign]] = []
    for source, report, _ in loaded:
        if report.campaign is None:
            raise InputError(
                f"{source}: says nothing of its campaign; write the shards with 'pytest-runcommand fuzz --json'"
            )
        campaigns.append((source, report.campaign))
    campaign = merge_campaigns(campaigns)
    holder: dict[str, str] = {}
    for source, report, _ in loaded:  # the shares of one split draw disjoint units: a relabelled copy does not
        for unit in report.drawn:
            if unit in holder:
                raise InputError(
                    f"{source}: unit {unit!r} is also in {holder[unit]}: the shards of one split share none"
                )
            holder[unit] = source
    # the shards in campaign order, whatever the order given (fuzz-10.json sorts before fuzz-2.json)
    loaded.sort(key=lambda item: min(item[1].campaign.shards) if item[1].campaign is not None else 0)
    rank = _unit_rank(campaign)
    findings = _first_findings([report for _, report, _ in loaded], rank)
    merged, known = FuzzReport(loaded[0][1].target), set()
    for _, report, seen in loaded:
        merged.merge(report)
        known |= seen
    merged.findings = findings
    merged.drawn = dict(sorted(merged.drawn.items(), key=lambda item: rank(item[0])))
    merged.operations.sort(key=lambda operation: rank(f"{operation} "))
    merged.campaign = campaign
    return merged, known


def _first_findings(shards: Sequence[FuzzReport], rank: Callable[[str], tuple[int, int]]) -> dict[str, FuzzFinding]:
    """The findings of ``shards`` as one run of the whole campaign has them: each as the unit that run reaches first
    shows it (its case, where it was found), with every shard's cases counted, in the order that run finds them."""
    first: dict[str, tuple[tuple[int, int, int, int], FuzzFinding]] = {}
    counts: Counter[str] = Counter()
    for shard, report in enumerate(shards):
        for position, finding in enumerate(report.findings.values()):
            counts[finding.key] += finding.count
            # units are disjoint between shards; within one unit, its shard's order is the unit's
            place = (*rank(finding.unit), shard if not finding.unit else 0, position)
            if finding.key not in first or place < first[finding.key][0]:
                first[finding.key] = (place, finding)
    ordered = sorted(first.values(), key=lambda item: item[0])
    return {finding.key: replace(finding, count=counts[finding.key]) for _, finding in ordered}


def _unit_rank(campaign: Campaign) -> Callable[[str], tuple[int, int]]:
    """A unit's place in ``campaign``: operations in the contract's order (the schema's, which the runner follows),
    each in the campaign's modes, then the stateful sequences; an unknown unit last."""
    try:
        from pytest_runcommand.contract import get_contract

        operations = {name: index for index, name in enumerate(get_contract(campaign.api_version).by_id)}
    except UsageError:  # an api-version this version does not know: the shards' own order
        operations = {}
    modes = {mode: index for index, mode in enumerate(campaign.modes)}
    last = len(operations) + 1

    def rank(unit: str) -> tuple[int, int]:
        if unit == STATEFUL_UNIT:
            return (last, 0)
        name, _, mode = unit.rpartition(" ")
        if name not in operations:
            return (last + 1, 0)
        return (operations[name], modes.get(mode, len(modes)))

    return rank


def read_json(path: str | Path) -> tuple[FuzzReport, set[str]]:
    """Read a ``--json`` report; an :class:`InputError` naming the file when it cannot be read."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:  # ValueError: also an integer Python will not read
        raise InputError(f"{file}: not a readable fuzz report ({type(error).__name__})") from None
    return from_document(data, str(file))


class _Bad(ValueError):
    """A field of the document has the wrong shape."""


def _get(data: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Bad(f"field {name!r} is missing or not {_kind_name(kind)}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "an object"}
    first = kind[0] if isinstance(kind, tuple) else kind
    return names.get(first, first.__name__)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Bad(f"{where}: expected a string")
    return value


def _counter(value: Any, where: str) -> Counter[int]:
    if not isinstance(value, dict):
        raise _Bad(f"{where}: expected an object of status: count")
    counts: Counter[int] = Counter()
    for status, count in value.items():
        if not str(status).isdigit() or not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise _Bad(f"{where}: expected status: count, got {str(status)[:20]!r}")
        counts[int(status)] = count
    return counts


def _finding(item: Any, where: str) -> FuzzFinding:
    if not isinstance(item, dict):
        raise _Bad(f"{where}: expected an object")
    values: dict[str, Any] = {}
    for name in _FINDING_FIELDS:
        value = item.get(name)
        if name in ("status",) and value is None:
            values[name] = None
        elif name == "unit" and value is None:  # written before findings named their unit
            values[name] = ""
        elif name in ("status", "count", "found_at"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise _Bad(f"{where}.{name}: expected an integer")
            values[name] = value
        else:
            values[name] = _text(value, f"{where}.{name}")
    return FuzzFinding(**values)
