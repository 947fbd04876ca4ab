"""The ``runcommand_fuzz`` marker's arguments: checked at collection, at the run's api-version, one line each; a
stateful part only where the chosen operations link."""

from __future__ import annotations

import pytest

MODULE = """
import pytest

@pytest.mark.runcommand_fuzz({arguments})
def test_fuzz(runcommand_schema):
    runcommand_schema.fuzz()

def test_other():
    pass
"""


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('operations=["Bogus_Op"]', "unknown operation(s) Bogus_Op at api-version 2024-07-01; the operations are *"),
        ("foo=1", "takes only the keywords *; got foo"),
        ('max_examples="x"', "max_examples='x'): expected a whole number of at least 1"),
        ("max_examples=0", "max_examples=0): expected a whole number of at least 1"),
        ('modes=("bogus",)', "unknown generation mode(s) bogus; the modes are positive, negative"),
        ('modes="positive"', "modes='positive'): expected a non-empty tuple of *"),
        ('stateful="no"', "stateful='no'): expected True or False"),
        ('seed="1"', "seed='1'): expected a whole number or None"),
        ('operations="VirtualMachineRunCommands_Get"', "expected a list of operation ids"),
    ],
)
def test_a_wrong_argument_is_one_error_line_and_the_module_still_runs(
    pytester: pytest.Pytester, arguments: str, message: str
) -> None:
    pytester.makepyfile(test_marked=MODULE.format(arguments=arguments))
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)  # test_other runs; one error, not one per operation
    result.stdout.fnmatch_lines([f"*test_marked.py::test_fuzz?wrong-marker?: *{message}*"])
    output = result.stdout.str()
    assert "Traceback" not in output
    assert "PluggyTeardownRaisedWarning" not in output


def test_operations_are_those_of_the_runs_api_version(pytester: pytest.Pytester) -> None:
    diagnostic = "VirtualMachineDiagnosticRunCommands_CreateOrUpdate"
    pytester.makepyfile(test_marked=MODULE.format(arguments=f'operations=["{diagnostic}"], stateful=False'))
    newest = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider", "--runcommand-api-version=2026-04-01")
    newest.stdout.fnmatch_lines([f"*test_fuzz?{diagnostic}?*"])
    default = pytester.runpytest("-q", "-p", "no:cacheprovider")
    default.assert_outcomes(passed=1, errors=1)
    default.stdout.fnmatch_lines([f"*unknown operation(s) {diagnostic} at api-version 2024-07-01*"])


def test_all_operations_of_the_newest_version_are_fuzzed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marked=MODULE.format(arguments="max_examples=1"))
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider", "--runcommand-api-version=2026-04-01")
    result.stdout.fnmatch_lines(["*test_fuzz?VirtualMachineScaleSetVMDiagnosticRunCommands_Update?*", "*stateful*"])


@pytest.mark.parametrize(
    ("operations", "stateful"),
    [
        (["VirtualMachineRunCommands_Update", "VirtualMachines_RunCommand"], False),
        (["VirtualMachineRunCommands_CreateOrUpdate", "VirtualMachineRunCommands_Update"], True),
        (["VirtualMachineRunCommands_Delete", "VirtualMachineRunCommands_GetByVirtualMachine"], True),
        (["VirtualMachineRunCommands_CreateOrUpdate", "VirtualMachineScaleSetVMRunCommands_Get"], False),
    ],
)
def test_a_stateful_part_only_where_the_chosen_operations_link(
    pytester: pytest.Pytester, operations: list[str], stateful: bool
) -> None:
    pytester.makepyfile(test_marked=MODULE.format(arguments=f"max_examples=1, operations={operations!r}"))
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider")
    assert ("test_fuzz[stateful]" in result.stdout.str()) is stateful


def test_a_stateful_part_with_links_fails_against_a_dead_target(pytester: pytest.Pytester) -> None:
    operations = ["VirtualMachineRunCommands_CreateOrUpdate", "VirtualMachineRunCommands_Update"]
    pytester.makepyfile(test_marked=MODULE.format(arguments=f"max_examples=1, operations={operations!r}"))
    result = pytester.runpytest(
        "-q", "-p", "no:cacheprovider", "-k", "stateful", "--runcommand-target=http://127.0.0.1:1"
    )
    result.assert_outcomes(failed=1, deselected=3)


def test_the_marker_needs_neither_schemathesiss_nor_hypothesiss_pytest_plugin(pytester: pytest.Pytester) -> None:
    """The README's advice for suites that only use this plugin's fuzz marker: both dependencies' plugins off."""
    arguments = 'max_examples=3, operations=["VirtualMachineRunCommands_Update"], stateful=False'
    plugins_off = """
import sys

def test_plugins_are_off():
    assert "schemathesis.pytest.plugin" not in sys.modules
    assert "_hypothesis_pytestplugin" not in sys.modules
"""
    pytester.makepyfile(test_marked=MODULE.format(arguments=arguments) + plugins_off)
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:schemathesis", "-p", "no:hypothesispytest"
    )
    result.assert_outcomes(passed=3)  # the fuzz test, test_other and the plugins' check
