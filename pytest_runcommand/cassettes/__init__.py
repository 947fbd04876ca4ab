"""Cassettes: read recorded traffic, keep secrets out of it, check it, and glue it into vcrpy.

Modules: ``readers`` (vcrpy YAML/JSON, Azure PowerShell records -> Interaction), ``sanitize`` (rules with
stable IDs), ``scan`` (secret scan), ``check`` (offline contract + secret check), ``vcr`` (vcrpy /
pytest-recording glue), ``fixtures`` (the pytest side), ``command`` (``pytest-runcommand cassettes check``).

The names below are imported on first use, so importing this package stays cheap (the pytest plugin
imports ``fixtures`` at start-up).
"""

from __future__ import annotations

from pytest_runcommand._lazy import lazy_exports

__all__ = [
    "REDACTED",
    "Rule",
    "Sanitizer",
    "cassette_interactions",
    "check_files",
    "configure_vcr",
    "default_sanitizer",
    "read_cassette",
    "scan_file",
]

_HOMES = {
    "REDACTED": "sanitize",
    "Rule": "sanitize",
    "Sanitizer": "sanitize",
    "default_sanitizer": "sanitize",
    "read_cassette": "readers",
    "scan_file": "scan",
    "check_files": "check",
    "configure_vcr": "vcr",
    "cassette_interactions": "vcr",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
