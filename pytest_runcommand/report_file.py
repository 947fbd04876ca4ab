"""Writing a file the way a user means the path they give: the one writer of the package's reports (``--json``,
``--junit-xml``, ``--update-baseline``, ``--runcommand-report``, ``report merge -o``) and of its cassettes.

* A regular file, or a path that does not exist yet: written whole to a temporary file beside it, flushed to disk
  and moved onto it, so a reader (or a crash) never sees half a file. An existing file keeps its permissions, a new
  one gets the umask's (as ``>`` gives). A symlink is followed: its target is written so, the link stays.
* A path that names a descriptor of this process (``-`` or ``/dev/stdout``, ``/dev/fd/1``, ``/proc/self/fd/2``, or a
  link to one): written to that descriptor, after the process's own streams are flushed, so the report and the lines printed
  around it keep their order whatever stdout is (a pipe, a terminal, a file).
* Anything else that is not a regular file (a character device, a FIFO): opened and written through, as a shell's
  ``>`` does; never replaced.

A write error (``ENOSPC`` on ``/dev/full``, a closed descriptor) is an :class:`OSError` for the caller to report.
Before any work, :func:`file_problem` and :func:`folder_problem` say why a path could not be written (a file where a
folder must be, a name too long, no permission), for the caller's usage error. Light module: the standard library
only.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
import tempfile
from pathlib import Path

__all__ = ["descriptor", "file_problem", "folder_problem", "write_report", "written_through"]

_FD_FOLDER = re.compile(r"/proc/(?:self|thread-self|([0-9]+))(?:/task/[0-9]+)?/fd")
_MAX_LINKS = 40  # as the kernel's limit on a path's symlinks


def descriptor(path: str | Path) -> int | None:
    """The descriptor of this process that ``path`` names, directly or through links (``/dev/stdout`` ->
    ``/proc/self/fd/1``; ``-`` is standard output, as for any command-line tool), or None."""
    if str(path) == "-":
        return 1
    current = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        match = _FD_FOLDER.fullmatch(os.path.realpath(os.path.dirname(current)))
        name = os.path.basename(current)
        if match and name.isascii() and name.isdecimal() and match[1] in (None, str(os.getpid())):
            return int(name)
        try:
            following = os.readlink(current)
        except OSError:  # not a link (or not ours to read: writing it will say so)
            return None
        current = os.path.normpath(os.path.join(os.path.dirname(current), following))
    return None


def written_through(path: str | Path) -> bool:
    """Whether :func:`write_report` writes ``path`` through (a descriptor, or an existing file that is not a regular
    one) rather than replacing a regular file (or creating one) at ``os.path.realpath(path)``."""
    if descriptor(path) is not None:
        return True
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:  # not there (or not reachable: writing it will say why)
        return False


def _reason(error: OSError) -> str:
    return f"cannot write there ({error.strerror or type(error).__name__})"


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest of ``folder`` and its parents that exists, when it is not a folder."""
    current = folder
    while True:
        try:
            status = os.stat(current)
        except (FileNotFoundError, NotADirectoryError):
            if current.parent == current:
                return None
            current = current.parent
            continue
        except OSError:  # no permission, a loop: the write probe says so
            return None
        return None if stat.S_ISDIR(status.st_mode) else current


def folder_problem(folder: Path, *, create: bool = True) -> str | None:
    """Why files cannot be written in ``folder``, or None: made when missing (unless ``create`` is False: then its
    nearest existing parent is tried) and probed with a file. ``not a folder`` when it is a file, ``<parent> is not
    a folder`` when a parent is."""
    if folder.is_symlink() and not folder.exists():  # a link to nothing, or a loop
        return f"cannot write there (a link to {os.readlink(folder)}, which is no folder)"
    blocker = _file_in_the_way(folder)
    if blocker is not None:
        return "not a folder" if blocker == folder else f"{blocker} is not a folder"
    probed, made = folder, []
    try:
        if create:
            missing = folder
            while not missing.exists() and missing.parent != missing:
                made.append(missing)
                missing = missing.parent
            folder.mkdir(parents=True, exist_ok=True)
        else:
            while not probed.exists() and probed.parent != probed:
                probed = probed.parent
        handle, probe = tempfile.mkstemp(dir=probed, prefix=".write-probe-")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        for created in made:  # a refusal leaves nothing behind: the folders made for it go again, deepest first
            with contextlib.suppress(OSError):
                created.rmdir()
        return _reason(error)
    return None


def file_problem(path: Path) -> str | None:
    """Why :func:`write_report` could not write ``path``, or None: a folder there, a name too long, a descriptor or
    device not writable, or the folder it goes in (made when missing; a link's target's folder)."""
    try:
        status: os.stat_result | None = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):  # a new file; a file where a folder must be is named below
        status = None
    except OSError as error:  # a name too long, a link loop, no permission
        return _reason(error)
    if status is not None and stat.S_ISDIR(status.st_mode):
        return "is a folder; give the path of the file to write"
    if descriptor(path) is not None:
        return None  # this process's own stream: a write error is reported when it happens
    if written_through(path):
        return None if os.access(path, os.W_OK) else "cannot write there (not writable)"
    if path.is_symlink():  # its target is written: in a folder that is there (none is made at the link's word)
        folder = Path(os.path.realpath(path)).parent
        if not folder.is_dir():
            return f"a link to {os.path.realpath(path)}, whose folder {folder} is not there"
    else:
        folder = path.parent
    problem = folder_problem(folder)
    return f"{folder} is not a folder" if problem == "not a folder" else problem


def write_report(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` as the module docstring says; an :class:`OSError` when that fails (a
    temporary file is removed)."""
    data = text.encode("utf-8")
    number = descriptor(path)
    if number is not None:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        _write_all(number, data)
        return
    try:
        status: os.stat_result | None = os.stat(path)
    except FileNotFoundError:  # a new file, or a link to one
        status = None
    if status is not None and not stat.S_ISREG(status.st_mode):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)  # a FIFO waits for its reader, as `>` does
        try:
            _write_all(handle, data)
        finally:
            os.close(handle)
        return
    _replace(Path(os.path.realpath(path)), data, status)


def _replace(file: Path, data: bytes, status: os.stat_result | None) -> None:
    """Write ``data`` to a temporary file beside ``file`` and move it onto ``file`` (keeping its permissions)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            if status is not None:
                os.fchmod(handle, stat.S_IMODE(status.st_mode))
            _write_all(handle, data)
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(tmp, file)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_all(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(handle, view)
        if not written:  # never for a file, a device or a pipe; no endless loop if it were
            raise OSError(5, "nothing written")
        view = view[written:]
