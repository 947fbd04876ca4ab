"""The pytest side, fenced: the plugin, its settings, and each capability's fixtures and hooks.

Nothing outside this subpackage imports pytest, and nothing imports the plugin back: the capabilities (contract,
emulator, cassettes, fuzz, the Azure CLI) are plain Python that these modules wire into pytest. Each capability
module declares its own markers, fixtures and the fixtures that carry traffic
(:func:`pytest_runcommand.pytest.settings.observe_traffic`); the plugin loads the modules listed here.
"""

from __future__ import annotations

__all__ = ["CAPABILITY_MODULES"]

CAPABILITY_MODULES: tuple[str, ...] = (
    "pytest_runcommand.pytest.cassettes",
    "pytest_runcommand.pytest.emulator",
    "pytest_runcommand.pytest.azcli",
    "pytest_runcommand.pytest.fuzz",
    "pytest_runcommand.pytest.coverage",
)
"""The capability modules the plugin loads (each one a pytest plugin of its own)."""
