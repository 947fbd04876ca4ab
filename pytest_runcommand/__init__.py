"""pytest-runcommand."""
