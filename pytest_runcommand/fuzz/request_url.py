"""The URL schemathesis sends a case to, computed without ``urljoin`` for the plain paths a fuzz run draws.

schemathesis's ``BaseSchema.build_request_url`` fills the path template, quotes the result, joins it to the base URL
with ``urljoin`` and unquotes the whole: a sixth of the cost of sending a case to the in-process emulator. For a
base URL of the plain form (http or https, a host of letters, digits, dots, dashes or a bracketed IPv6 address, an
optional port, path segments of unreserved characters, none of them a dot segment) and an ASCII path with no empty
segment (``//``) and no dot segment (``.`` or ``..``), that join and unquote give back the base URL followed by the
path without its leading slashes: ``quote`` escapes every character ``urljoin`` could read as a scheme, query,
fragment or parameters, and ``unquote`` undoes exactly what ``quote`` did. Anything else goes to schemathesis's own.

(Its literals do not reach the draws: hypothesis's pool of local literals is held empty during runs, see
constants_pool.py.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["install_request_url_without_join", "request_url_without_join"]  # names past 20 characters: not drawn from

_PLAIN_BASE = re.compile(
    r"https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"  # scheme, host, port
    r"(?:/(?!\.\.?/)[A-Za-z0-9_.~-]+)*+/"  # segments of unreserved characters, no dot segment; one trailing slash
)
_NOT_PLAIN = re.compile(r"(?:^|/)\.{0,2}/|(?:^|/)\.\.?$")
"""An empty segment (``//``) or a dot segment, in a path without its leading slashes."""

BuildRequestURL = Callable[[Any, str], str]


def request_url_without_join(base_url: str, path: str) -> str | None:
    """``build_request_url``'s result for the filled ``path`` and ``base_url``, or None where it does not apply."""
    if not base_url.endswith("/"):
        base_url += "/"
    relative = path.lstrip("/")
    if not relative.isascii() or _NOT_PLAIN.search(relative):
        return None
    if _PLAIN_BASE.fullmatch(base_url) is None:
        return None
    return base_url + relative


def install_request_url_without_join(schema: Any) -> None:
    """Make ``schema.build_request_url`` take :func:`request_url_without_join` where it applies (the same URLs)."""
    from schemathesis.transport.prepare import prepare_path

    original: BuildRequestURL = schema.build_request_url

    def build_request_url(case: Any, base_url: str) -> str:
        url = request_url_without_join(base_url, prepare_path(case.path, case.path_parameters))
        return original(case, base_url) if url is None else url

    setattr(schema, original.__name__, build_request_url)  # a method: mypy refuses an assignment
