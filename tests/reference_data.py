"""Paths of the reference files carried into tests/data (each folder has a SOURCES.md); importable from any test."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
SPECS = DATA / "azure-rest-api-specs" / "specification" / "compute" / "resource-manager" / "Microsoft.Compute"
OFFICIAL_RUNCOMMAND = SPECS / "ComputeRP" / "stable" / "2024-07-01" / "runCommand.json"
EXAMPLES = sorted(SPECS.glob("ComputeRP/stable/*/examples/runCommandExamples/*.json"))
REFERENCE_DOC = DATA / "reference" / "runcommands-update-api-doc.txt"
