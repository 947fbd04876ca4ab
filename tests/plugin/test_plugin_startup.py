"""The plugin costs nothing when unused: collecting a plain suite imports no heavy library because of it."""

from __future__ import annotations

import json

import pytest

HEAVY = (
    "jsonschema_rs",
    "orjson",
    "pydantic",
    "httpx",
    "requests",
    "uvicorn",
    "starlette",
    "trustme",
    "vcr",
    "yaml",
    "azure",
    "hypothesis",
    "schemathesis",
    "pytest_runcommand.contract",
    "pytest_runcommand.emulator.app",
    "pytest_runcommand.cassettes.vcr",
    "pytest_runcommand.traffic",
    "pytest_runcommand.report",
    "pytest_runcommand.emulator.handles",
)

RECORD_MODULES = """
import json, sys

def pytest_collection_finish(session):
    with open("modules.json", "w") as handle:
        json.dump(sorted(sys.modules), handle)
"""


def loaded_after_collection(pytester: pytest.Pytester, *args: str) -> set[str]:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--co", "-q", *args)
    assert result.ret == 0, result.stdout.str()
    return set(json.loads((pytester.path / "modules.json").read_text()))


def test_collection_imports_nothing_heavy_because_of_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(RECORD_MODULES)
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    with_plugin = loaded_after_collection(pytester)
    without_plugin = loaded_after_collection(pytester, "-p", "no:runcommand")
    assert "pytest_runcommand.pytest.plugin" in with_plugin
    added = with_plugin - without_plugin
    heavy = sorted(name for name in added if name.split(".")[0] in HEAVY or name in HEAVY)
    assert heavy == []


RECORD_MODULES_AFTER_RUN = """
import json, sys

def pytest_sessionfinish(session):
    with open("modules.json", "w") as handle:
        json.dump(sorted(sys.modules), handle)
"""


def test_running_a_plain_suite_imports_nothing_heavy_because_of_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(RECORD_MODULES_AFTER_RUN)
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n\ndef test_y():\n    assert 1\n")
    loaded = {}
    for args in ((), ("-p", "no:runcommand")):
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
        result.assert_outcomes(passed=2)
        loaded[args] = set(json.loads((pytester.path / "modules.json").read_text()))
    added = loaded[()] - loaded[("-p", "no:runcommand")]
    heavy = sorted(name for name in added if name.split(".")[0] in HEAVY or name in HEAVY)
    assert heavy == []
