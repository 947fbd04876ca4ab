"""The toolkit's exceptions, in one tree::

    RunCommandError                 base of everything raised on purpose
    ├── UsageError                  a wrong flag, option, marker argument or missing file
    ├── InputError                  unreadable input: malformed JSON, a corrupt cassette (names file and place)
    └── ContractViolationError      also an AssertionError: traffic broke the contract (pytest shows it as a failure)

Messages never carry secret values: violations mask them before they are formatted.
"""

from __future__ import annotations

__all__ = ["ContractViolationError", "InputError", "RunCommandError", "UsageError"]


class RunCommandError(Exception):
    """Base class of the errors pytest-runcommand raises on purpose."""


class UsageError(RunCommandError):
    """The toolkit was called wrongly (a flag, an option, a marker argument, a path)."""


class InputError(RunCommandError):
    """Input could not be read: it names the file (and the place in it) and what is wrong."""


class ContractViolationError(RunCommandError, AssertionError):
    """Recorded, replayed or live traffic does not conform to the run-command contract."""
