"""Known failures, keyed by stable hashes, so that CI fails on new failures only.

A failure's key hashes what identifies it and not what varies between runs: the operation id, the check, the kind
of failure (schemathesis's failure class and title, or the contract's violation codes). The file is JSON::

    {"version": 1, "failures": {"<key>": {"operation": "...", "check": "...", "title": "..."}}}

The descriptions are for people reading the file; only the keys are compared.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_runcommand.errors import InputError

__all__ = ["Baseline", "failure_key"]

VERSION = 1


def failure_key(operation_id: str, check: str, kind: str) -> str:
    """The stable key of a failure (16 hex digits of a SHA-256)."""
    raw = "\x1f".join((operation_id, check, kind)).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass
class Baseline:
    """Known failures: key -> description."""

    entries: dict[str, dict[str, str]]

    @classmethod
    def empty(cls) -> Baseline:
        return cls({})

    @classmethod
    def load(cls, path: str | Path) -> Baseline:
        """Read a baseline file; a missing or malformed one is an :class:`InputError` naming the file."""
        file = Path(path)
        try:
            data: Any = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{file}: no such baseline file (write one with --update-baseline)") from None
        except (OSError, ValueError, RecursionError) as error:  # ValueError: also an integer Python will not read
            raise InputError(f"{file}: not a readable baseline file ({type(error).__name__}: {error})") from None
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("failures"), dict):
            raise InputError(f'{file}: a baseline is {{"version": {VERSION}, "failures": {{key: description}}}}')
        entries: dict[str, dict[str, str]] = {}
        for key, value in data["failures"].items():
            if not isinstance(value, dict):
                raise InputError(f"{file}: failures[{key!r}] must be an object")
            entries[str(key)] = {str(k): str(v) for k, v in value.items()}
        return cls(entries)

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def stale(self, seen: Iterable[str]) -> list[str]:
        """Known keys that this run did not see (fixed, or not reached)."""
        found = set(seen)
        return sorted(key for key in self.entries if key not in found)

    @staticmethod
    def write(path: str | Path, failures: Mapping[str, Mapping[str, str]]) -> None:
        """Write ``failures`` (key -> description) as a baseline file, keys sorted for stable diffs."""
        file = Path(path)
        payload = {"version": VERSION, "failures": {key: dict(failures[key]) for key in sorted(failures)}}
        from pytest_runcommand.report_file import write_report

        write_report(file, json.dumps(payload, indent=2, sort_keys=True) + "\n")
