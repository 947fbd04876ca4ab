"""Log records that carry traffic reach pytest's captured logs sanitized.

vcrpy logs each interaction it appends as recorded, before it is sanitized (``Appending request ... and response``,
the response's body included), httpx and urllib3 log each request's URL (a SAS signature in its query), azure-core
logs headers: with ``--log-level=INFO`` or a live log, a failing test's report would show them. A filter on the
handlers of pytest's logging plugin (captured logs, the report's sections, ``--log-file``, the live log) rewrites
those records: vcrpy's interaction lines say only what happened, and every other record of a traffic logger is
sanitized line by line by :func:`~pytest_runcommand.cassettes.free_text.sanitize_free_text` (headers by the header
rules, a JSON document by the body rules, the rest by the text rules; JWTs and bearer credentials masked; a line
naming a secret property that cannot be cleaned is withheld). One sanitizer serves the whole run (the failure reports' too), so a secret seen in
one record is scrubbed from later ones (a script echoing a password). The sanitizer is imported with the first such
record, so a run that logs none pays nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

__all__ = ["TRAFFIC_LOGGERS", "TrafficLogFilter", "install_traffic_log_filter"]

TRAFFIC_LOGGERS = frozenset(
    {"vcr", "httpx", "httpcore", "urllib3", "requests", "azure", "uvicorn", "pytest_runcommand"}
)
"""The top-level loggers whose records may carry a request or an answer."""

_APPENDING = "Appending request"
"""vcrpy's line showing an interaction as recorded, its answer's body included: replaced by what happened."""

_HANDLERS = ("caplog_handler", "report_handler", "log_file_handler", "log_cli_handler")


class TrafficLogFilter(logging.Filter):
    """Rewrites the records of :data:`TRAFFIC_LOGGERS` so that no secret they carry is shown (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.partition(".")[0] not in TRAFFIC_LOGGERS or getattr(record, "_runcommand_clean", False):
            return True
        message = record.getMessage()
        if record.name.startswith("vcr") and message.startswith(_APPENDING):
            message = "Appending request and response (not shown: the cassette holds them sanitized)"
        else:
            message = self._text(message)
        record.msg, record.args = message, None
        if record.exc_info and not record.exc_text:  # the traceback, as a handler's formatter would write it
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._text(record.exc_text)
        if record.stack_info:
            record.stack_info = self._text(record.stack_info)
        record._runcommand_clean = True  # every handler sees the same record: rewritten once
        return True

    @staticmethod
    def _text(message: str) -> str:
        from pytest_runcommand.cassettes.free_text import process_sanitizer, sanitize_free_text

        return sanitize_free_text(process_sanitizer(), message)


def install_traffic_log_filter(config: pytest.Config) -> None:
    """Put one :class:`TrafficLogFilter` on each handler of pytest's logging plugin (when it is loaded)."""
    plugin = config.pluginmanager.get_plugin("logging-plugin")
    if plugin is None:
        return
    log_filter = TrafficLogFilter()
    for name in _HANDLERS:
        handler = getattr(plugin, name, None)
        if isinstance(handler, logging.Handler):
            handler.addFilter(log_filter)
