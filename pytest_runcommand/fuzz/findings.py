"""What a fuzz run found: distinct failures, the run's counts, and the report people read.

Light module (no schemathesis): the pytest route raises :class:`FuzzFailure` from here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from pytest_runcommand.errors import ContractViolationError, InputError
from pytest_runcommand.fuzz.baseline import Baseline

__all__ = ["REJECTIONS", "Campaign", "FuzzFailure", "FuzzFinding", "FuzzReport", "merge_campaigns", "visible"]

_UNSHOWABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def visible(text: str) -> str:
    """``text`` as a report may show it: control characters (but tab and newline), lone surrogates and U+FFFE/U+FFFF
    written as ``\\u0000`` escapes, as the JSON report writes them.

    What remains is XML 1.0 text (a JUnit file parses), holds no terminal escape and encodes as UTF-8 (a lone
    surrogate from a target's answer crashed the report).
    """
    return _UNSHOWABLE.sub(lambda found: f"\\u{ord(found[0]):04x}", text)


REJECTIONS = frozenset({400, 401, 403, 405, 406, 411, 413, 414, 415, 422, 431})
"""Statuses that refuse a request as such (bad input, no access, wrong method or media type)."""


class FuzzFailure(ContractViolationError):
    """The target broke checks: the message is the fuzz report (each failure with a curl line)."""


@dataclass
class FuzzFinding:
    """One distinct failure: the first case that showed it, and how many cases did."""

    key: str
    operation_id: str
    check: str
    title: str
    message: str
    curl: str
    status: int | None
    mode: str
    severity: str
    response: str = ""
    count: int = 1
    found_at: int = 0
    """How many cases its part of the campaign had sent when it was first seen (1: the very first one)."""
    unit: str = ""
    """The campaign unit whose case this is (``"<operation> <mode>"`` or ``"stateful"``; empty when unknown): a merge
    of shards keeps the case of the unit a full run reaches first, as that run does."""

    def render(self) -> str:
        status = f" (HTTP {self.status})" if self.status is not None else ""
        lines = [
            f"[{self.key}] {self.operation_id}: {self.title}{status}",
            f"  check: {self.check}; {self.mode} data; seen in {self.count} case{'s' if self.count != 1 else ''}",
        ]
        # escaped before it is split: a vertical tab or a form feed is shown, not taken for a line break
        lines += [f"  {line}" for line in visible(self.message).strip().splitlines() if line.strip()]
        if self.response:
            lines.append(f"  response: {self.response}")
        lines.append("  reproduce:")
        lines += [f"    {line}" for line in visible(self.curl).splitlines() if line.strip()]
        return visible("\n".join(lines))


@dataclass(frozen=True)
class Campaign:
    """What a run drew from and which shares of it a report holds: reports merge only within one campaign."""

    api_version: str
    target: str
    """``emulator`` (in-process), ``loopback`` or ``live``: not the URL (each CI job has its own port)."""
    max_examples: int
    modes: tuple[str, ...]
    stateful: bool
    operations: tuple[str, ...]
    """The operation ids asked for (empty: all)."""
    seed: int | None
    derandomized: bool
    """True: the same cases every run (no seed, no example database); False without a seed: a random stream."""
    checks: tuple[str, ...]
    shard_count: int = 1
    shards: tuple[int, ...] = (1,)
    """The shares (1-based) of ``shard_count`` this report holds: a full run is share 1 of 1."""

    @property
    def complete(self) -> bool:
        """True when every share of the campaign is here."""
        held = set(self.shards)  # not a set of range(shard_count): N may be huge (--shard 1/30000000)
        return len(held) == self.shard_count and all(1 <= share <= self.shard_count for share in held)

    def identity(self) -> dict[str, Any]:
        """Everything but the shares: equal for every report of one campaign."""
        return {name: value for name, value in asdict(self).items() if name not in ("shard_count", "shards")}

    def describe(self) -> str:
        draws = "derandomized" if self.derandomized else (f"seed {self.seed}" if self.seed is not None else "random")
        shares = ", ".join(map(str, self.shards))
        return (
            f"api-version {self.api_version}, {self.target} target, {self.max_examples} examples, "
            f"{'+'.join(self.modes) or 'no'} modes{', stateful' if self.stateful else ''}, {draws}; "
            f"shard(s) {shares} of {self.shard_count}" + ("" if self.complete else " (not all shards present)")
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "complete": self.complete}

    @classmethod
    def from_dict(cls, data: Any) -> Campaign:
        """A campaign from :meth:`to_dict`'s output; ``ValueError`` saying which field is wrong."""
        if not isinstance(data, dict):
            raise ValueError("campaign: expected an object")
        values: dict[str, Any] = {}
        for item in fields(cls):
            value = data.get(item.name)
            if item.name in ("modes", "operations", "checks", "shards"):
                kind: type = int if item.name == "shards" else str
                if not isinstance(value, list) or not all(
                    isinstance(v, kind) and not isinstance(v, bool) for v in value
                ):
                    shown = "integers" if kind is int else "strings"
                    raise ValueError(f"campaign.{item.name}: expected a list of {shown}, got {json.dumps(value)[:80]}")
                value = tuple(value)
            elif item.name in ("stateful", "derandomized"):
                if not isinstance(value, bool):
                    raise ValueError(f"campaign.{item.name}: expected true or false")
            elif item.name in ("max_examples", "shard_count", "seed"):
                if not (isinstance(value, int) and not isinstance(value, bool)) and not (
                    item.name == "seed" and value is None
                ):
                    raise ValueError(f"campaign.{item.name}: expected an integer")
            elif not isinstance(value, str):
                raise ValueError(f"campaign.{item.name}: expected a string")
            values[item.name] = value
        campaign = cls(**values)
        if (
            campaign.shard_count < 1
            or not campaign.shards
            or not all(0 < k <= campaign.shard_count for k in campaign.shards)
            or len(set(campaign.shards)) != len(campaign.shards)
        ):
            raise ValueError("campaign.shards: expected distinct shares between 1 and shard_count")
        return campaign


def merge_campaigns(named: Sequence[tuple[str, Campaign]]) -> Campaign:
    """The campaign of reports merged together; an :class:`InputError` naming the report that does not fit.

    Refused: another campaign (api-version, target, examples, modes, seed, operations, checks), a share another
    report holds already, and shares of another split (1/2 with 1/3, a full run with a shard).
    """
    first_source, merged = named[0]
    holders = dict.fromkeys(merged.shards, first_source)
    for source, campaign in named[1:]:
        mine, theirs = merged.identity(), campaign.identity()
        differ = [name for name in mine if mine[name] != theirs[name]]
        if differ:
            name = differ[0]
            raise InputError(
                f"{source}: another campaign than {first_source} ({name} {_shown(theirs[name])}, not "
                f"{_shown(mine[name])}): merge the reports of one campaign"
            )
        if campaign.shard_count != merged.shard_count:
            raise InputError(
                f"{source}: shares of {campaign.shard_count}, but {first_source} has shares of {merged.shard_count}: "
                "merge the shards of one split (a full run is 1 of 1)"
            )
        for share in campaign.shards:
            if share in holders:
                raise InputError(
                    f"{source}: shard {share}/{campaign.shard_count} is already in {holders[share]}: each shard once"
                )
            holders[share] = source
        merged = replace(merged, shards=tuple(sorted(holders)))
    return merged


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "(all)"
    return str(value)


@dataclass
class FuzzReport:
    """The outcome of a run."""

    target: str
    findings: dict[str, FuzzFinding] = field(default_factory=dict)
    cases: int = 0
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    positive: Counter[int] = field(default_factory=Counter)
    """Statuses of the answers to positive cases (valid data, stateful steps included)."""
    operations: list[str] = field(default_factory=list)
    """Operation ids fuzzed (loaded from the schema), in order."""
    checks: list[str] = field(default_factory=list)
    """Names of the checks applied."""
    refused: int = 0
    """Generated requests outside the live scope, not sent."""
    refused_preexisting: int = 0
    """Writes not sent because their run command existed before the run."""
    stopped: str | None = None
    cleanup: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    """Run commands a live run created and could not delete (paths)."""
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)
    """Operations that could not be fuzzed (schema problems), with the reason."""
    notes: list[str] = field(default_factory=list)
    drawn: dict[str, str] = field(default_factory=dict)
    """Per campaign unit, ``"<cases>:<digest>"`` of what it sent: equal when two runs drew the same cases."""
    campaign: Campaign | None = None
    """The campaign and share this report covers (set by a campaign run; merging parts keeps the first's)."""

    def hide(self, secret: str, stand_in: str) -> None:
        """Write ``stand_in`` for ``secret`` (any letter case) in every text the report holds: its findings' titles,
        messages, curl lines and answers, the clean-up lines and left-overs, notes, errors and why it stopped."""
        if not secret:
            return
        pattern = re.compile(re.escape(secret), re.IGNORECASE)

        def hidden(text: str) -> str:
            return pattern.sub(stand_in, text)

        for key, finding in self.findings.items():
            self.findings[key] = replace(
                finding,
                title=hidden(finding.title),
                message=hidden(finding.message),
                curl=hidden(finding.curl),
                response=hidden(finding.response),
            )
        for lines in (self.cleanup, self.remaining, self.errors, self.notes):
            lines[:] = [hidden(line) for line in lines]
        if self.stopped is not None:
            self.stopped = hidden(self.stopped)

    def new_findings(self, baseline: Baseline | None = None) -> list[FuzzFinding]:
        """Findings not in ``baseline``, ordered by operation then title."""
        known = baseline or Baseline.empty()
        found = [finding for key, finding in self.findings.items() if key not in known]
        return sorted(found, key=lambda f: (f.operation_id, f.check, f.title))

    @property
    def nothing_accepted(self) -> str | None:
        """Why the run proves nothing, when every positive case sent was refused as a request; else None."""
        sent = sum(self.positive.values())
        if not sent or any(status not in REJECTIONS and status < 500 for status in self.positive):
            return None
        spread = ", ".join(f"{status}: {count}" for status, count in sorted(self.positive.items()))
        return (
            f"no positive case was accepted: the target refused all {sent} valid requests ({spread}); "
            "check the api-version, the token and that the target serves this API"
        )

    @property
    def never_succeeded(self) -> list[str]:
        """The operations sent cases that no case got a 2xx answer from (their success answers went unchecked), when
        positive cases were sent; none for a report of some shards only (another shard may hold the 2xx)."""
        if not self.positive or (self.campaign is not None and not self.campaign.complete):
            return []
        return sorted(op for op, counts in self.statuses.items() if counts and not any(200 <= s < 300 for s in counts))

    @property
    def problems(self) -> list[str]:
        """What fails the run besides findings: operations not fuzzed, nothing accepted, clean-up left overs."""
        found = list(self.errors)
        if self.nothing_accepted:
            found.append(self.nothing_accepted)
        if self.remaining:
            found.append(f"clean-up left {len(self.remaining)} run command(s): {', '.join(self.remaining)}")
        return found

    @property
    def ok(self) -> bool:
        return not self.findings and not self.problems

    def failed(self, baseline: Baseline | None = None) -> bool:
        """True when the run has new findings or any :attr:`problems`."""
        return bool(self.new_findings(baseline) or self.problems)

    def render(self, baseline: Baseline | None = None) -> str:
        """The report for people: a summary, then each new failure with a curl line to reproduce it."""
        new = self.new_findings(baseline)
        known = len(self.findings) - len(new)
        lines = [f"pytest-runcommand fuzz: {self.target}"]
        lines.append(
            f"{self.cases} case{'s' if self.cases != 1 else ''} over {len(self.statuses)} "
            f"operation{'s' if len(self.statuses) != 1 else ''} in {self.elapsed:.1f}s; "
            f"{len(self.findings)} distinct failure{'s' if len(self.findings) != 1 else ''}"
            + (f" ({known} known in the baseline, {len(new)} new)" if baseline is not None else "")
        )
        for operation, counts in sorted(self.statuses.items()):
            spread = ", ".join(f"{status}: {count}" for status, count in sorted(counts.items())) or "no answer"
            lines.append(f"  {operation}: {spread}")
        if self.never_succeeded:
            lines.append(f"no 2xx answer (the success answer unchecked): {', '.join(self.never_succeeded)}")
        if self.refused:
            lines.append(f"{self.refused} generated request(s) fell outside the live scope and were not sent")
        if self.refused_preexisting:
            lines.append(
                f"{self.refused_preexisting} write(s) not sent: the run command existed before the run (never written to)"
            )
        if self.stopped:
            lines.append(f"stopped early: {self.stopped}")
        lines += [f"note: {note}" for note in self.notes]
        lines += [f"clean-up: {line}" for line in self.cleanup]
        lines += [f"error: {problem}" for problem in self.problems]
        for finding in new:
            lines.append("")
            lines.append(finding.render())
        if baseline is not None:
            stale = baseline.stale(self.findings)
            if stale:
                lines.append("")
                lines.append(
                    f"{len(stale)} baseline entr{'ies' if len(stale) != 1 else 'y'} not seen: {', '.join(stale)}"
                )
        return visible("\n".join(lines))

    def merge(self, other: FuzzReport) -> None:
        """Add the outcome of another part of the same campaign (another operation, a worker's or a shard's share).

        A unit's report (one unit drawn) names that unit in its findings (:attr:`FuzzFinding.unit`).
        """
        unit = next(iter(other.drawn)) if len(other.drawn) == 1 else ""
        for key, finding in other.findings.items():
            if not finding.unit:
                finding.unit = unit
            mine = self.findings.get(key)
            if mine is None:
                self.findings[key] = finding
            else:
                mine.count += finding.count
        self.cases += other.cases
        for operation, counts in other.statuses.items():
            self.statuses.setdefault(operation, Counter()).update(counts)
        self.positive.update(other.positive)
        self.operations += [operation for operation in other.operations if operation not in self.operations]
        self.checks += [check for check in other.checks if check not in self.checks]
        self.refused += other.refused
        self.refused_preexisting += other.refused_preexisting
        self.stopped = self.stopped or other.stopped
        self.cleanup += other.cleanup
        self.remaining += other.remaining
        self.elapsed = max(self.elapsed, other.elapsed)
        self.errors += [error for error in other.errors if error not in self.errors]
        self.notes += other.notes
        self.drawn.update(other.drawn)
        self.campaign = self.campaign or other.campaign

    def baseline_entries(self) -> dict[str, dict[str, str]]:
        return {
            key: {"operation": f.operation_id, "check": f.check, "title": f.title} for key, f in self.findings.items()
        }
