"""``--record-mode=rewrite`` without losing the previous cassette.

pytest-recording deletes a test's cassette before the test runs in ``rewrite`` mode, then records afresh. When the new
recording is refused (the secret scan found a value, a message was refused) or the test fails before anything is
written, nothing replaces it: the previous cassette is gone and the next replay fails as "missing cassette". So, just
before pytest-recording's ``vcr`` fixture runs, the file it is about to delete is moved aside (``.NAME.previous``
beside it, one ``os.replace``); after the fixture's teardown (where vcrpy saves), the new cassette takes the previous
one's place if one was written (its permissions, or its symlink, kept), and the previous is put back if none was. A
test that failed keeps its previous cassette too: what it recorded before failing is moved to ``.NAME.failed`` (a
re-recording whose assertions broke is rarely the one to keep). A run that was killed in between leaves
``.NAME.previous``: the next ``rewrite`` of that test puts it back unless it writes a new cassette.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FAILED_SUFFIX",
    "PREVIOUS_SUFFIX",
    "KeptCassette",
    "previous_path",
    "rewrite_cassette_path",
    "set_aside_for_rewrite",
]

PREVIOUS_SUFFIX = ".previous"
FAILED_SUFFIX = ".failed"

try:  # as pytest-recording limits a cassette's file name (checked with pytest-recording 0.15.0)
    _MAX_FILENAME_LEN = os.pathconf(".", "PC_NAME_MAX")
except (AttributeError, ValueError, OSError):  # pragma: no cover - Windows
    _MAX_FILENAME_LEN = 255


def previous_path(path: Path) -> Path:
    """Where the previous cassette waits while ``path`` is recorded again."""
    return path.with_name(f".{path.name}{PREVIOUS_SUFFIX}")


def rewrite_cassette_path(
    *, cassette_dir: str, default_name: str, record_mode: str, config: Mapping[str, Any], markers: Sequence[Any]
) -> Path | None:
    """The file pytest-recording deletes before a test in ``rewrite`` mode, named as it names it (``vcr_config``
    with the ``vcr`` markers' keyword arguments over it, the serializer's suffix, a hash for a name too long); None
    when the test's record mode is not ``rewrite``. Checked with pytest-recording 0.15.0: a name computed otherwise
    only means no file is set aside (a file it does not delete is set aside and put back)."""
    merged = dict(config)
    for marker in reversed(markers):
        merged.update(getattr(marker, "kwargs", {}))
    if merged.get("record_mode", record_mode) != "rewrite":
        return None
    serializer = merged.get("serializer", ".yaml")
    if len(default_name) + len(serializer) > _MAX_FILENAME_LEN:
        import hashlib

        digest = hashlib.md5(default_name.encode(), usedforsecurity=False).hexdigest()  # its naming, not security
        default_name = f"{default_name[: _MAX_FILENAME_LEN - len(serializer) - len(digest) - 3]}...{digest}"
    suffix = f".{merged['serializer']}" if "serializer" in merged else ".yaml"
    path = os.path.join(cassette_dir, default_name)
    return Path(path if path.endswith(suffix) else path + suffix)


@dataclass(frozen=True)
class KeptCassette:
    """A cassette set aside for the time of its re-recording."""

    path: Path

    @property
    def previous(self) -> Path:
        return previous_path(self.path)

    @classmethod
    def set_aside(cls, path: Path) -> KeptCassette:
        """Move ``path`` (if it exists) to :func:`previous_path`; an older file left there by a killed run is
        replaced by it (``path`` is the newer)."""
        with contextlib.suppress(FileNotFoundError):
            os.replace(path, previous_path(path))
        return cls(path)

    @property
    def failed(self) -> Path:
        """Where a failed test's re-recording is kept."""
        return self.path.with_name(f".{self.path.name}{FAILED_SUFFIX}")

    def settle(self, *, test_failed: bool = False) -> str | None:
        """After the test: a new cassette was written -> it takes the previous one's place (a symlinked cassette's
        target is written and the link put back; a file's permissions are kept); none -> the previous is put back.
        When the test failed, the previous is put back either way and a new recording goes to :attr:`failed`; the
        note to show the user is returned."""
        previous = self.previous
        if not os.path.lexists(previous):
            return None
        if test_failed and os.path.lexists(self.path):
            os.replace(self.path, self.failed)
            os.replace(previous, self.path)
            return (
                f"pytest-runcommand: cassette {self.path.name}: the test failed, so its re-recording was not kept: "
                f"the previous cassette is back in place, and what the test recorded is in {self.failed.name}"
            )
        self.failed.unlink(missing_ok=True)  # an earlier failed re-recording's: this one decides now
        if not os.path.lexists(self.path):
            os.replace(previous, self.path)
        elif previous.is_symlink():
            from pytest_runcommand.report_file import write_report

            write_report(previous, self.path.read_text(encoding="utf-8"))
            os.replace(previous, self.path)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(self.path, stat.S_IMODE(os.stat(previous).st_mode))
            previous.unlink(missing_ok=True)
        return None


def set_aside_for_rewrite(request: Any) -> KeptCassette | None:
    """For pytest-recording's ``vcr`` fixture about to run (``request`` is its request): set the test's cassette
    aside when it is about to be recorded again in ``rewrite`` mode; None when it is not."""
    if request.getfixturevalue("disable_recording"):
        return None
    markers = request.getfixturevalue("vcr_markers")
    if not markers:
        return None
    path = rewrite_cassette_path(
        cassette_dir=request.getfixturevalue("vcr_cassette_dir"),
        default_name=request.getfixturevalue("default_cassette_name"),
        record_mode=request.getfixturevalue("record_mode"),
        config=request.getfixturevalue("vcr_config"),
        markers=markers,
    )
    return None if path is None else KeptCassette.set_aside(path)
