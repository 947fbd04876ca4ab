"""The pytest side, fenced: the plugin, its settings, and each capability's fixtures and hooks.

Nothing outside this subpackage imports pytest, and nothing imports it back: the capabilities (contract, emulator,
cassettes, fuzz) are plain Python that these modules wire into pytest.
"""
