"""Cassettes: read recorded traffic, keep secrets out of it, check it, and glue it into vcrpy.

Modules, one job each: ``decode`` (content codings, charsets, BOMs, bounded JSON), ``rules`` and ``sanitize`` (the
sanitizer and its rules with stable IDs), ``scan`` (secret scan), ``loading``, ``readers`` and ``records``
(recorded-traffic files -> Interaction), ``check``, ``sarif`` and ``command`` (``pytest-runcommand cassettes
check``), and the vcrpy glue: ``matchers``, ``hooks``, ``persister``, ``playback``, ``patches`` (every private API
of vcrpy and azure-core used) and ``vcr`` (:func:`configure_vcr`). The pytest side is
``pytest_runcommand.pytest.cassettes``.

The names below are imported on first use, so importing this package stays cheap::

    from pytest_runcommand.cassettes import default_sanitizer, json_field_rule

    @pytest.fixture
    def vcr_config():
        rules = default_sanitizer().without("set-cookie").with_rules(json_field_rule("admin-password", "adminPassword"))
        return {"runcommand_sanitizer": rules}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_runcommand._lazy import lazy_exports

_HOMES = {  # the one table of public names: name -> home module; __all__ and the lazy look-up follow
    "REDACTED": "rules",
    "Rule": "rules",
    "form_field_rule": "rules",
    "header_rule": "rules",
    "json_field_rule": "rules",
    "known_values_rule": "rules",
    "Sanitizer": "sanitize",
    "default_sanitizer": "sanitize",
    "CassetteFile": "readers",
    "read_cassette": "readers",
    "Finding": "scan",
    "scan_file": "scan",
    "FileReport": "check",
    "check_file": "check",
    "check_files": "check",
    "MessageRefusedError": "hooks",
    "SecretFoundError": "persister",
    "CassetteMismatchError": "playback",
    "configure_vcr": "vcr",
    "cassette_interactions": "vcr",
}

__all__ = sorted(_HOMES)

if TYPE_CHECKING:
    from pytest_runcommand.cassettes.check import FileReport as FileReport
    from pytest_runcommand.cassettes.check import check_file as check_file
    from pytest_runcommand.cassettes.check import check_files as check_files
    from pytest_runcommand.cassettes.hooks import MessageRefusedError as MessageRefusedError
    from pytest_runcommand.cassettes.persister import SecretFoundError as SecretFoundError
    from pytest_runcommand.cassettes.playback import CassetteMismatchError as CassetteMismatchError
    from pytest_runcommand.cassettes.readers import CassetteFile as CassetteFile
    from pytest_runcommand.cassettes.readers import read_cassette as read_cassette
    from pytest_runcommand.cassettes.rules import REDACTED as REDACTED
    from pytest_runcommand.cassettes.rules import Rule as Rule
    from pytest_runcommand.cassettes.rules import form_field_rule as form_field_rule
    from pytest_runcommand.cassettes.rules import header_rule as header_rule
    from pytest_runcommand.cassettes.rules import json_field_rule as json_field_rule
    from pytest_runcommand.cassettes.rules import known_values_rule as known_values_rule
    from pytest_runcommand.cassettes.sanitize import Sanitizer as Sanitizer
    from pytest_runcommand.cassettes.sanitize import default_sanitizer as default_sanitizer
    from pytest_runcommand.cassettes.scan import Finding as Finding
    from pytest_runcommand.cassettes.scan import scan_file as scan_file
    from pytest_runcommand.cassettes.vcr import cassette_interactions as cassette_interactions
    from pytest_runcommand.cassettes.vcr import configure_vcr as configure_vcr

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
