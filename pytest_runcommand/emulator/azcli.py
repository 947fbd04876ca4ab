"""Moved to :mod:`pytest_runcommand.azcli`; kept only for ``emulator/command.py`` until its import is updated."""

from pytest_runcommand.azcli import served_cli_snippet as served_cli_snippet
from pytest_runcommand.azcli import write_cli_snippet as write_cli_snippet
