"""The curl line that reproduces a case: the request schemathesis would send, masked by this project's rules only.

schemathesis's ``Case.as_curl_command`` sanitizes by key names of its own (any key holding ``password``, ``token``,
``auth``, ``key``...) with ``[Filtered]``: it hid values that are not secret and showed another mask than the
project's ``***``. Here its sanitization is off; what is secret is masked before (the body by
:func:`~pytest_runcommand.fuzz.redact.mask_body`, the token read from ``$TOKEN``) and after
(:func:`~pytest_runcommand.fuzz.redact.redact`).

A body no shell argument can carry as it is (a NUL byte, other control characters, bytes that are not UTF-8) is not
put on the command line (bash's ``$'\\x00'`` ends the string there: the command sent less than the case): it is
written with ``printf``'s octal escapes and piped to ``curl --data-binary @-``, byte for byte.
"""

from __future__ import annotations

import re
from shlex import quote
from typing import Any

from schemathesis.config import SanitizationConfig
from schemathesis.core import curl
from schemathesis.generation.case import Case
from schemathesis.transport.prepare import prepare_request

__all__ = ["curl_line", "printf_argument"]

_NO_SANITIZATION = SanitizationConfig(enabled=False)
_UNCARRIABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Characters a report cannot show on the command line as they are (controls, lone surrogates, non-characters)."""


def curl_line(case: Case[Any], headers: dict[str, str], *, verify: bool, cacert: str | None = None) -> str:
    """``curl`` for ``case`` with ``headers`` on top of its own, unsanitized (mask what is secret before);
    ``cacert``: the CA bundle to trust."""
    request = prepare_request(case, headers, config=_NO_SANITIZATION)
    body = request.body
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    piped = raw is not None and not _carriable(raw)
    result = curl.generate(
        method=str(request.method),
        url=str(request.url),
        body=None if piped else body,
        verify=verify,
        headers=dict(request.headers),
        known_generated_headers=dict(case.headers or {}),
    )
    command = result.command
    if cacert is not None:
        command = command.replace("curl ", f"curl --cacert {quote(cacert)} ", 1)  # the command starts with curl
    if piped and raw is not None:
        command = _pipe(command, raw)
    if result.warnings:
        command += "\n" + "\n".join(result.warnings)
    return command


def _pipe(command: str, raw: bytes) -> str:
    """``printf '<raw>' | <command> --data-binary @-`` (the URL stays the last argument)."""
    head, _, url = command.rpartition(" ")
    return f"printf {printf_argument(raw)} | {head} --data-binary @- {url}"


def _carriable(raw: bytes) -> bool:
    """Whether ``raw`` can be shown as a single-quoted shell argument, as it is."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _UNCARRIABLE.search(text) is None


def printf_argument(raw: bytes) -> str:
    """``raw`` as a single-quoted ``printf`` format that prints exactly those bytes (POSIX ``\\ooo`` escapes for
    every byte but printable ASCII; ``%`` doubled; a quote and a backslash escaped too)."""
    out = []
    for byte in raw:
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif 0x20 <= byte < 0x7F and char not in "\\'":
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "'" + "".join(out) + "'"
