"""Which optional install (extra) brings a module, and the ``pip install`` line that adds it.

The default install covers validation, the pytest plugin, the emulator and cassettes; fuzzing and real Azure
credentials come as extras (see ``[project.optional-dependencies]``). Code that imports one of their modules
and gets ``ModuleNotFoundError`` asks :func:`missing_extra` what to tell the user.
"""

from __future__ import annotations

__all__ = ["DISTRIBUTION", "EXTRA_MODULES", "NAMESPACE_PACKAGES", "install_line", "missing_extra"]

DISTRIBUTION = "pytest-runcommand"

EXTRA_MODULES: dict[str, str] = {
    "schemathesis": "fuzz",
    "hypothesis": "fuzz",
    "requests": "fuzz",
    "azure": "azure",
    "azure.identity": "azure",
    "azure.core": "azure",
}
"""Top-level (or dotted) module name -> the extra that installs it; the longest matching name wins."""

NAMESPACE_PACKAGES = frozenset({"azure"})
"""Shared by many distributions: only the namespace's own absence points at an extra (not ``azure.mgmt``)."""


def install_line(extra: str) -> str:
    """The exact command that adds ``extra``, quoted for any shell."""
    return f'pip install "{DISTRIBUTION}[{extra}]"'


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """The extra whose absence caused ``error``, or None when the missing module is no extra's."""
    name = error.name or ""
    candidates = [
        module
        for module in EXTRA_MODULES
        if name == module or (module not in NAMESPACE_PACKAGES and name.startswith(module + "."))
    ]
    return EXTRA_MODULES[max(candidates, key=len)] if candidates else None
