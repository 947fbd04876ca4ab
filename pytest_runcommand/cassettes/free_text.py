"""Text of no known shape (a log record, a test's failure message) sanitized line by line.

Each line is read as what it most likely is: a header line (``'Authorization': 'Bearer ...'``, as azure-core's
network trace prints one) goes through the header rules; a line holding a JSON document (``Request body:`` followed by
the document) has the document sanitized by the body rules; anything else goes through the text rules (SAS
signatures, URL tokens and user information, subscription ids, values learned earlier). Tokens of a known shape
(JWTs, bearer credentials) are then masked wherever they stand. A line that still names a secret property of the
contract outside a sanitized document cannot be cleaned with certainty: it is withheld, and says so (unless the
text is this package's own message, which names secret properties as places and never holds their values); when that
line opens the property's value without closing it (a pretty-printed document, YAML), the lines of the value are
withheld with it, up to its end. A ``key=value`` or ``key: value`` pair whose key names a password, a secret or an
account key has its value masked. :func:`mask_truncated_reprs` hides the ``head...tail`` of a shortened repr (pytest
shortens long operands that way, cutting off the key that marked their secret), for a report known to hold one.
"""

from __future__ import annotations

import re
from functools import cache

from pytest_runcommand.cassettes.decode import NOT_JSON, Undecodable, parse_json
from pytest_runcommand.cassettes.rules import REDACTED
from pytest_runcommand.cassettes.sanitize import Sanitizer, default_sanitizer, dump_json, secret_names_in
from pytest_runcommand.cassettes.scan import DETECTORS

__all__ = ["mask_truncated_reprs", "process_sanitizer", "sanitize_free_text"]

_HEADER_NAME = re.compile(r"(\s*)(['\"]?)([!#$%&*+.^_`|~0-9A-Za-z-]+)\2(\s*:\s*)")
"""The start of ``name: value``, the name a header's token, optionally quoted (Python's dict display); the value and
its tail are split off in code (:func:`_header_line`), in time linear in the line (a pattern for the whole line
backtracked over a long run of blanks)."""
_DOCUMENT_START = re.compile(r"[{\[]")
_SHAPED_TOKENS = (DETECTORS["jwt"], DETECTORS["bearer-token"])
_VIOLATION_LINE = re.compile(r"^\s*(?:E\s+)?(?:\[(?:request|response)\]\s+)?[A-Z][A-Z0-9_]+ at (?:/\S*|\(body\)): ")
"""A contract violation as this package prints it (a failed assertion's explanation): a value under a secret
property is masked in it by construction (:mod:`pytest_runcommand.contract.violations`)."""
_SECRET_KEY_WORDS = ("password", "passwd", "pwd", "secret", "accountkey", "sharedaccesskey", "apikey", "api_key")
_KEY_VALUE_SECRET = re.compile(
    rf"(?i)((?:{'|'.join(_SECRET_KEY_WORDS)})['\"]?[ \t]{{0,8}}[:=][ \t]{{0,8}})(?:(['\"])([^'\"\n]*)\2|([^\s'\",;&}}\])]+))"
)
"""``password=...``, ``Password = ...``, ``'adminPassword': '...'``, ``AccountKey=...;``: a key ending in a word that
names a secret, then its value (quoted: up to the closing quote; bare: up to a blank or a delimiter). Found from the
word, so a long line is read in linear time (and not at all when it holds none of the words)."""
_QUOTED = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_TRUNCATED_REPR = re.compile(
    r"'[^'\n]{0,256}\.\.\.[^'\n]{0,256}'|\"[^\"\n]{0,256}\.\.\.[^\"\n]{0,256}\"|[^\s'\"]{1,256}\.\.\.[^\s'\"]{1,256}"
)
"""A repr shortened to ``'head...tail'`` (pytest's saferepr keeps well under 256 characters of each end), or a bare
``head...tail``; bounded, so a long line is read in linear time."""
_TRUNCATED_NOTE = "'[shortened text not shown: this report holds a secret]'"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
"""A terminal colour code (pytest colours its diffs): no bracket of the text."""
_E_PREFIX = re.compile(r"\s*(?:E|>)(?=\s)")
"""pytest's ``E`` and ``>`` line markers, before the text's own indentation."""


@cache
def process_sanitizer() -> Sanitizer:
    """The sanitizer this process's free text goes through (captured logs, failure reports): one memory, so a secret
    seen in one record is scrubbed from the next."""
    return default_sanitizer().fresh()


def sanitize_free_text(sanitizer: Sanitizer, text: str, *, withhold: bool = True) -> str:
    """``text`` with every secret the rules know removed; a line that names a secret property and cannot be
    sanitized with certainty is replaced by a note naming the property (never its value), and so are the lines of
    a value it opens. ``withhold`` False: such lines are kept (the text is a message of this package's own)."""
    if not text:
        return text
    out = []
    block: _Block | None = None
    for line in text.splitlines(keepends=True):
        if block is not None:
            if block.holds(line):
                body = line.rstrip("\r\n")
                indent = body[: len(body) - len(body.lstrip())]
                out.append(f"{indent}[not shown: part of the value of {block.name}]{line[len(body) :]}")
                continue
            block = None
        cleaned = _line(sanitizer, line, withhold)
        if withhold and cleaned != line:
            block = _Block.opened_by(line)
        out.append(cleaned)
    return "".join(out)


def mask_truncated_reprs(text: str) -> str:
    """``text`` with each shortened repr (``'head...tail'``) replaced by a note: in a report that holds a secret, such
    a repr may keep a secret's head or tail with the key that marked it cut off."""
    return _TRUNCATED_REPR.sub(_TRUNCATED_NOTE, text) if "..." in text else text


class _Block:
    """The value of a secret property that a line opened and did not close: its lines, up to its end."""

    __slots__ = ("depth", "indent", "name")

    def __init__(self, name: str, depth: int, indent: int) -> None:
        self.name = name
        self.depth = depth
        """Brackets still open (a JSON or Python display); 0 for a YAML value, which ends with its indentation."""
        self.indent = indent

    @classmethod
    def opened_by(cls, line: str) -> _Block | None:
        """The block ``line`` opens: the first secret property it names, followed by an unclosed bracket or, as a
        YAML key, by nothing; None when it opens none."""
        lowered = line.lower()
        found = [(lowered.find(name.lower()), name) for name in secret_names_in(line)]
        if not found:
            return None
        at, name = min(found)
        after = line[at + len(name) :]
        if after[:1] in ("'", '"'):
            after = after[1:]
        rest = _QUOTED.sub("", _ANSI.sub("", after).rstrip())
        depth = sum(rest.count(c) for c in "[{(") - sum(rest.count(c) for c in "]})")
        if depth > 0:
            return cls(name, depth, 0)
        if rest.strip() == ":":
            return cls(name, 0, _indent(line))
        return None

    def holds(self, line: str) -> bool:
        """Whether ``line`` is part of the value (a bracketed value's closing line included)."""
        if self.depth > 0:
            rest = _QUOTED.sub("", _ANSI.sub("", line))
            self.depth += sum(rest.count(c) for c in "[{(") - sum(rest.count(c) for c in "]})")
            return True
        if not line.strip():
            return True
        indent = _indent(line)
        return indent > self.indent or (indent == self.indent and _marked(line).lstrip().startswith("- "))


def _marked(line: str) -> str:
    """``line`` without pytest's ``E`` / ``>`` marker."""
    match = _E_PREFIX.match(line)
    return line[match.end() :] if match else line


def _indent(line: str) -> int:
    text = _marked(_ANSI.sub("", line))
    return len(text) - len(text.lstrip())


def _line(sanitizer: Sanitizer, line: str, withhold: bool) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    cleaned = _document_line(sanitizer, body)
    if cleaned is None:
        header = _header_line(body)
        if header is not None:
            start, name, value_quote, value, tail = header
            cleaned = f"{start}{value_quote}{sanitizer.header(name, value)}{value_quote}{tail}"
        else:
            cleaned = sanitizer.text(body)
        named = secret_names_in(cleaned) if withhold and not _VIOLATION_LINE.match(cleaned) else None
        if named:
            indent = body[: len(body) - len(body.lstrip())]
            return (
                f"{indent}[a line naming {', '.join(named)} not shown: it cannot be sanitized with certainty]{ending}"
            )
    if withhold and not _VIOLATION_LINE.match(cleaned):
        lowered = cleaned.lower()
        if any(word in lowered for word in _SECRET_KEY_WORDS):
            cleaned = _KEY_VALUE_SECRET.sub(_key_value_masked, cleaned)
    return _mask_shaped_tokens(cleaned) + ending


def _key_value_masked(match: re.Match[str]) -> str:
    quote = match.group(2) or ""
    return f"{match.group(1)}{quote}{REDACTED}{quote}"


def _header_line(line: str) -> tuple[str, str, str, str, str] | None:
    """``line`` read as ``name: value``: the text up to the value, the name, the value's quote (if it is quoted),
    the value, and its tail (blanks and one comma, as a dict display ends a line); None when it is no header line."""
    match = _HEADER_NAME.match(line)
    if match is None:
        return None
    rest = line[match.end() :]
    body = rest.rstrip()
    if body.endswith(","):
        body = body[:-1].rstrip()
    quote = body[:1] if len(body) >= 2 and body[0] in "'\"" and body[-1] == body[0] else ""
    value = body[1:-1] if quote else body
    return line[: match.end()], match[3], quote, value, rest[len(body) :]


def _document_line(sanitizer: Sanitizer, line: str) -> str | None:
    """The line with the JSON document it ends with sanitized (the text before it through the text rules), or None
    when it ends with no document."""
    start = _DOCUMENT_START.search(line)
    if start is None:
        return None
    try:
        document = parse_json(line[start.start() :])
    except Undecodable:
        return None
    if document is NOT_JSON or not isinstance(document, dict | list):
        return None
    cleaned = sanitizer.json(document)
    prefix = sanitizer.text(line[: start.start()])
    if cleaned == document and prefix == line[: start.start()]:
        return line
    return prefix + dump_json(cleaned)


def _mask_shaped_tokens(text: str) -> str:
    for pattern in _SHAPED_TOKENS:
        if pattern.search(text):
            text = pattern.sub(_masked, text)
    return text


def _masked(match: re.Match[str]) -> str:
    if not match.lastindex:
        return REDACTED
    start, end = match.span(1)
    whole = match.group(0)
    offset = match.start(0)
    return whole[: start - offset] + REDACTED + whole[end - offset :]
