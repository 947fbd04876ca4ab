"""``python -m pytest_runcommand``: the same as the ``pytest-runcommand`` command."""

from pytest_runcommand.cli import main

raise SystemExit(main())
