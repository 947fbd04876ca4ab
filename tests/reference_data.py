"""Paths of the reference files carried into tests/data (each folder has a SOURCES.md); importable from any test."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
SPECS_ROOT = DATA / "azure-rest-api-specs"
SPECS = SPECS_ROOT / "specification" / "compute" / "resource-manager" / "Microsoft.Compute"
OFFICIAL_RUNCOMMAND = SPECS / "ComputeRP" / "stable" / "2024-07-01" / "runCommand.json"
ALL_EXAMPLES = sorted(SPECS.glob("*/stable/*/examples/*/*.json"))
"""Every stored x-ms-example (managed run commands, the action, the catalogue, diagnostic run commands)."""
EXAMPLES = [path for path in ALL_EXAMPLES if path.stem.startswith("VirtualMachineRunCommand_")]
"""The x-ms-examples of the managed run commands (PUT, PATCH, GET, LIST, DELETE on a VM), every stored version."""
REFERENCE_DOC = DATA / "reference" / "runcommands-update-api-doc.txt"


def example_api_version(path: Path) -> str:
    """The api-version folder an example is stored under."""
    return path.parent.parent.parent.name
