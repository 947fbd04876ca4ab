"""``pytest-runcommand report merge FILE... -o OUT``: the reports of CI shards or workers, merged into one.

Each input is recognised by its content (a fuzz JSON report, a fuzz JUnit XML file or a contract coverage JSON);
they must be of one kind, and the output is of that kind: fuzz JSON through ``merge_documents`` (the shards in
campaign order, whatever the order given), fuzz JUnit XML from the JSON reports the files carry (what one run of the
whole campaign writes), other JUnit XML by test case (the failures and errors of all inputs combined, counts
recomputed), coverage JSON through ``CoverageReport.merge`` with its HTML page beside it (each input read whole by
``report.coverage.read_document``: a bad field exits 2 naming the file and the field, nothing written). :data:`HELP` is what
``--help`` says.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from pytest_runcommand.errors import InputError, UsageError

if TYPE_CHECKING:
    from pytest_runcommand.fuzz.findings import Campaign

__all__ = ["merge_files", "register"]

FUZZ_JSON, JUNIT, COVERAGE = "fuzz JSON report", "JUnit XML", "coverage JSON report"

HELP = """\
Merge the reports of CI shards (or workers) into the report of one run.

Each input is recognised by its content: a fuzz report written with --json, a fuzz JUnit file written with
--junit-xml, or a contract coverage report written with --runcommand-report. All inputs must be of one kind, and
the output is of that kind:

  fuzz JSON     findings by key, case counts and statuses summed, each shard's draws kept
  JUnit XML     fuzz JUnit files: the file one run of the campaign writes (every distinct finding, from
                the inputs' reports); other JUnit files: test cases by class and name, the failures and
                errors of all inputs combined, counts recomputed
  coverage JSON calls and statuses summed, a test counted once however many inputs name it (by its
                node id), written with its HTML page beside it; each report names its test run, and
                a run is merged once (reports of two runs merge even when their findings are equal)

Fuzz reports merge only within one campaign: the same api-version, target kind, --max-examples, modes,
operations, seed (or derandomized) and checks, each shard of one --shard K/N split once (a full run is 1/1).
Any other input exits 2 naming it. The merged fuzz JSON states its campaign, the shards it holds and whether
all N are present ("complete"). A fuzz JUnit file carries its campaign as a property and is checked the same
way; JUnit files without it (written by other tools) are merged unchecked.

The output's folder is created when missing; its name may not end in the other format's suffix (.xml for JSON
reports, .json for JUnit); the output may not be one of the inputs, and no report may be given
twice (the same file; a coverage report holding a run another input holds; another report with the same
content). For fuzz reports the summary line says which shards the merged report
holds and whether that is the whole campaign; with --require-complete a merged campaign that lacks a shard exits 1
(the merged report is written all the same), so a CI job that calls report merge itself cannot pass on a part.

Exit codes: 0 written, 1 written but not every shard is there (--require-complete), 2 an unreadable or mixed input,
a report of another campaign or a shard given twice (named), an output that cannot be written, or
--require-complete with reports that name no campaign (coverage reports, other tools' JUnit files)."""


def register(subparsers: Any) -> None:
    """Add ``report merge`` (the ``report`` command has one sub-command today)."""
    report = subparsers.add_parser("report", help="work with reports: merge the reports of CI shards")
    commands = report.add_subparsers(dest="report_command", metavar="ACTION", parser_class=type(report))
    commands.required = True
    merge = commands.add_parser(
        "merge",
        help="merge fuzz JSON, fuzz JUnit XML or contract coverage JSON reports into one",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    merge.add_argument("files", nargs="+", type=Path, metavar="FILE", help="reports of one kind")
    merge.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="the merged report")
    merge.add_argument(
        "--require-complete",
        action="store_true",
        help="exit 1 unless the fuzz reports hold every shard of their campaign (the report is written either way)",
    )
    merge.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    kind, shares, complete = merge_files(args.files, args.output, require_campaign=args.require_complete)
    from pytest_runcommand.report_file import descriptor

    shown = sys.stderr if descriptor(args.output) == 1 else sys.stdout  # the merged report alone on standard output
    print(f"report merge: {len(args.files)} {kind} file(s) merged into {args.output}{shares}", file=shown)
    if args.require_complete and not complete:
        print(f"report merge: --require-complete: {args.output} lacks a shard of its campaign", file=sys.stderr)
        return 1
    return 0


def merge_files(files: list[Path], output: Path, *, require_campaign: bool = False) -> tuple[str, str, bool | None]:
    """Merge ``files`` into ``output``; returns the kind, which shards the merged fuzz report holds (``""`` for other
    kinds) and whether that is every shard of its campaign (None: the reports name no campaign). :class:`InputError`
    names a bad file; ``require_campaign``: a :class:`UsageError` for reports that name no campaign, before writing."""
    _check_output(files, output)
    raws = _read_once_each(files)
    loaded = [_load(file, raw) for file, raw in zip(files, raws, strict=True)]
    _refuse_repeats(files, raws, loaded)
    kinds = {kind for kind, _ in loaded}
    if len(kinds) > 1:
        first = loaded[0][0]
        odd = next(file for file, (kind, _) in zip(files, loaded, strict=True) if kind != first)
        raise InputError(f"{odd}: a {loaded[files.index(odd)][0]}, but {files[0]} is a {first}: merge one kind")
    kind, shares, complete = loaded[0][0], "", None
    _check_suffix(output, kind)
    if require_campaign and kind == COVERAGE:
        raise UsageError("--require-complete: coverage reports name no campaign; it applies to fuzz reports")
    if kind == FUZZ_JSON:
        text, campaign = _merge_fuzz(files, [data for _, data in loaded])
        shares, complete = _shares(campaign), campaign.complete if campaign else None
        _write(output, text)
    elif kind == JUNIT:
        from pytest_runcommand.fuzz.junit import campaign_properties, merge_junit_campaigns, report_document

        named = [(str(file), data) for file, (_, data) in zip(files, loaded, strict=True)]
        campaign = merge_junit_campaigns(named)
        if require_campaign and campaign is None:
            raise UsageError("--require-complete: these JUnit files name no fuzz campaign (written by another tool?)")
        shares, complete = _shares(campaign), campaign.complete if campaign else None
        documents = [(source, report_document(root)) for source, root in named]
        if campaign is not None and all(document is not None for _, document in documents):
            text = _merge_fuzz_junit(documents)  # the JUnit file of one run of the whole campaign
        else:  # files of other tools (or of an older version): by test case
            text = _merge_junit([data for _, data in loaded], campaign_properties(campaign) if campaign else None)
        _write(output, text)
    else:
        _merge_coverage(files, [data for _, data in loaded], output)
    return kind, shares, complete


def _shares(campaign: Campaign | None) -> str:
    """`` (shard(s) 1, 2 of 2: complete)``: which shards a merged report holds and whether that is all of them."""
    if campaign is None:
        return ""
    verdict = "complete" if campaign.complete else "NOT complete: not every shard of the campaign is here"
    return f" (shard(s) {', '.join(map(str, campaign.shards))} of {campaign.shard_count}: {verdict})"


def _read_once_each(files: list[Path]) -> list[bytes]:
    """Each file's bytes; one file named twice (by any path to it) would count twice: refused."""
    seen: dict[Path, Path] = {}
    raws = []
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as error:
            raise InputError(f"{file}: cannot be read ({error.strerror or type(error).__name__})") from None
        key = file.resolve()
        if key in seen:
            raise InputError(f"{file}: the same report as {seen[key]}; give each report once")
        seen[key] = file
        raws.append(raw)
    return raws


def _refuse_repeats(files: list[Path], raws: list[bytes], loaded: list[tuple[str, Any]]) -> None:
    """Refuse a report with the same bytes as another (it would count twice), but a coverage report that names its
    test runs: the same suite in two jobs of a matrix writes equal findings, and :func:`_merge_coverage` refuses a
    run given twice instead."""
    texts: dict[bytes, Path] = {}
    for file, raw, (kind, data) in zip(files, raws, loaded, strict=True):
        if kind == COVERAGE and isinstance(data.get("runs"), list) and data["runs"]:
            continue
        if raw in texts:
            raise InputError(f"{file}: the same report as {texts[raw]}; give each report once")
        texts[raw] = file


def _merge_coverage(files: list[Path], documents: list[Any], output: Path) -> None:
    """The coverage reports merged into ``output`` (and its HTML page); a test run two inputs hold (the same run's
    report copied, or a merged report with one of its inputs) is refused, naming both."""
    from pytest_runcommand.report.coverage import CoverageReport

    coverage = CoverageReport()
    held_by: dict[str, Path] = {}
    for file, data in zip(files, documents, strict=True):
        coverage.merge(data, str(file))  # read whole first: a bad field is named as such
        for run in data.get("runs", ()):
            if run in held_by:
                raise InputError(
                    f"{file}: holds a test run {held_by[run]} holds too (the same run's report twice, or a merged "
                    "report with one of its inputs); give each run once"
                )
            held_by[run] = file
    try:
        coverage.write(output)
    except OSError as error:
        raise UsageError(f"-o {output}: cannot be written ({error.strerror or type(error).__name__})") from None


def _check_output(files: list[Path], output: Path) -> None:
    """Refuse an output that is one of the inputs, a folder or not writable; create its missing parent folders."""
    for file in files:
        if file.resolve() == output.resolve():
            raise UsageError(f"-o {output}: is also an input ({file}); write the merged report to another file")
    from pytest_runcommand.fuzz.settings import writable_file

    writable_file(output, "-o")


_SUFFIXES = {FUZZ_JSON: ".json", JUNIT: ".xml", COVERAGE: ".json"}


def _check_suffix(output: Path, kind: str) -> None:
    """Refuse an output named for the other format (``-o merged.xml`` for JSON reports, ``.json`` for JUnit)."""
    suffix, wanted = output.suffix.lower(), _SUFFIXES[kind]
    if suffix in _SUFFIXES.values() and suffix != wanted:
        raise UsageError(
            f"-o {output}: the inputs are {kind}s, which merge into {wanted[1:].upper()}, but the name ends in "
            f"{output.suffix}; name the output *{wanted}"
        )


def _load(file: Path, raw: bytes) -> tuple[str, Any]:
    if raw.lstrip()[:1] == b"<":
        try:
            root = ElementTree.fromstring(raw)
        except ElementTree.ParseError as error:
            raise InputError(f"{file}: not well-formed XML ({error})") from None
        if root.tag not in ("testsuites", "testsuite"):
            raise InputError(f"{file}: XML but not JUnit (root <{root.tag}>)")
        return JUNIT, root
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise InputError(f"{file}: neither JSON nor XML ({type(error).__name__})") from None
    except ValueError as error:  # JSON Python will not read: an integer longer than sys.get_int_max_str_digits()
        raise InputError(f"{file}: JSON that cannot be read ({error})") from None
    if isinstance(data, dict) and "format" in data:
        return FUZZ_JSON, data
    if isinstance(data, dict) and isinstance(data.get("operations"), dict):
        return COVERAGE, data  # read whole by CoverageReport.merge, before anything of it is added or written
    raise InputError(f"{file}: not a fuzz report, a JUnit file or a coverage report")


def _merge_fuzz(files: list[Path], documents: list[Any]) -> tuple[str, Campaign | None]:
    """The merged report's text and its campaign."""
    from pytest_runcommand.fuzz.baseline import Baseline
    from pytest_runcommand.fuzz.document import merge_documents, to_document

    merged, known = merge_documents([(str(file), data) for file, data in zip(files, documents, strict=True)])
    baseline = Baseline({key: {} for key in known})
    if merged.never_succeeded:  # over the whole campaign: as one run's summary says it
        print(
            f"report merge: no 2xx answer (the success answer unchecked): {', '.join(merged.never_succeeded)}",
            file=sys.stderr,
        )
    return json.dumps(to_document(merged, baseline), indent=2) + "\n", merged.campaign


def _merge_fuzz_junit(documents: list[tuple[str, Any]]) -> str:
    """The JUnit file of the fuzz reports fuzz JUnit files carry, merged as ``--json`` reports merge: what one run
    of the campaign writes (every distinct finding, counts summed, the run's problems judged over all shards)."""
    from pytest_runcommand.fuzz.baseline import Baseline
    from pytest_runcommand.fuzz.document import merge_documents
    from pytest_runcommand.fuzz.junit import junit_xml

    merged, known = merge_documents(documents)
    return junit_xml(merged, Baseline({key: {} for key in known}))


def _merge_junit(roots: list[ElementTree.Element], properties: ElementTree.Element | None = None) -> str:
    cases: dict[tuple[str, str], ElementTree.Element] = {}
    name, elapsed = roots[0].get("name", "merged"), 0.0
    for root in roots:
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for suite in suites:
            elapsed = max(elapsed, _float(suite.get("time")))
            for case in suite.findall("testcase"):
                key = (case.get("classname", ""), case.get("name", ""))
                mine = cases.get(key)
                if mine is None:
                    cases[key] = case
                    continue
                for outcome in case:  # a failure or error of any input stays, their texts combined
                    if outcome.tag not in ("failure", "error"):
                        continue
                    kept = mine.find(outcome.tag)
                    if kept is None:
                        mine.append(outcome)
                    else:
                        kept.text = _union(kept.text or "", outcome.text or "")
                mine.attrib.pop("skipped", None)
                for skipped in mine.findall("skipped"):
                    if case.find("skipped") is None:
                        mine.remove(skipped)
    suite = ElementTree.Element("testsuite", name=name, time=f"{elapsed:.3f}")
    if properties is not None:
        suite.append(properties)
    suite.extend(cases.values())
    counts = {
        "tests": len(cases),
        "failures": sum(case.find("failure") is not None for case in cases.values()),
        "errors": sum(case.find("error") is not None for case in cases.values()),
        "skipped": sum(case.find("skipped") is not None for case in cases.values()),
    }
    for attribute, value in counts.items():
        suite.set(attribute, str(value))
    root = ElementTree.Element("testsuites", name=name)
    root.append(suite)
    from pytest_runcommand.fuzz.junit import xml_text

    return xml_text(root)


_FINDING_HEAD = re.compile(r"\[[0-9a-f]{16}\] ")


def _union(kept: str, text: str) -> str:
    """Two failure texts of one test case as one: the paragraphs of ``text`` that ``kept`` lacks added (a fuzz
    finding's paragraph, ``[key] ...``, is known by its key)."""

    def name(paragraph: str) -> str:
        head = _FINDING_HEAD.match(paragraph)
        return head[0] if head else paragraph.strip()

    paragraphs = [p for p in kept.split("\n\n") if p.strip()]
    seen = {name(p) for p in paragraphs}
    for paragraph in text.split("\n\n"):
        if paragraph.strip() and name(paragraph) not in seen:
            seen.add(name(paragraph))
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def _float(text: str | None) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


def _write(path: Path, text: str) -> None:
    from pytest_runcommand.report_file import write_report

    try:
        write_report(path, text)
    except OSError as error:  # a full disk or /dev/full, a closed descriptor: exit 2 naming the flag and the file
        raise UsageError(f"-o {path}: cannot be written ({error.strerror or type(error).__name__})") from None
