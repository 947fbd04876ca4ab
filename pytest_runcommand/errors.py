"""The toolkit's exceptions, in one tree (the subclasses live beside the code that raises them)::

    RunCommandError                     base of everything raised on purpose
    ├── UsageError                      a wrong flag, option, marker argument or missing file
    │   └── UnknownApiVersion           contract.versioned, also a ValueError: a version no contract speaks
    ├── InputError                      unreadable input: malformed JSON, a corrupt cassette (names file and place)
    │   ├── Undecodable                 cassettes.decode, also a ValueError: a body that cannot be decoded with certainty
    │   └── ScenarioError               emulator.scenario, also a ValueError: a scenario file that cannot be used (file, fault, field)
    ├── ContractViolationError          also an AssertionError: traffic broke the contract (a test failure)
    │   └── FuzzFailure                 fuzz.findings: the target broke checks (the report, a curl line each)
    ├── SecretFoundError                cassettes.persister, also an AssertionError: a secret would reach a cassette
    ├── MessageRefusedError             cassettes.hooks, also an AssertionError: a message that cannot be sanitized
    ├── CassetteMismatchError           cassettes.playback, also vcrpy's CannotOverwriteExistingCassetteException
    ├── IncompatibleLibraryError        cassettes.patches: a vcrpy / azure-core version the patches were not checked on
    ├── ConnectionDropped               emulator.faults: a scripted ``drop`` (the app ends the exchange; never reaches a caller)
    └── AzureCliError                   azcli.runner: ``az`` failed, hung or could not start (secrets masked)

The toolkit's warnings, beside it::

    RunCommandWarning                   also a UserWarning: base of every warning given on purpose (a cassette's
                                        sanitizer notes: a secret redacted in place but not learned)

Filter them by class: ``-W error::pytest_runcommand.errors.RunCommandWarning`` or, in pytest's ``filterwarnings``,
``ignore::pytest_runcommand.errors.RunCommandWarning``.

Outside the tree on purpose: the emulator's ``ServiceError`` family (``ArmError``, ``AadError``) never reaches a
caller, it becomes the HTTP answer Azure would give. Messages never carry secret values: violations and the
CLI harness mask them before they are formatted.
"""

from __future__ import annotations

__all__ = ["ContractViolationError", "InputError", "RunCommandError", "RunCommandWarning", "UsageError"]


class RunCommandError(Exception):
    """Base class of the errors pytest-runcommand raises on purpose."""


class UsageError(RunCommandError):
    """The toolkit was called wrongly (a flag, an option, a marker argument, a path)."""


class InputError(RunCommandError):
    """Input could not be read: it names the file (and the place in it) and what is wrong."""


class ContractViolationError(RunCommandError, AssertionError):
    """Recorded, replayed or live traffic does not conform to the run-command contract."""


class RunCommandWarning(UserWarning):
    """Base class of the warnings pytest-runcommand gives on purpose; each starts ``pytest-runcommand:``."""
