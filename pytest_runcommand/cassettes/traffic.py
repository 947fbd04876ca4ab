"""The one call site of the contract's traffic check for everything cassettes carry.

``cassettes check`` and the contract check of a vcr test both hand their interactions here and get back the
run-command interactions that break the contract, each validated at its own api-version, ``ignore`` honoured.

ONE TRAFFIC CHECK (issue 13): the contract layer is to offer one function that checks a list of interactions (and one
error builder). Until it lands, this module is the single place that loops over ``validate_interaction``; switch
:func:`violations_per_interaction` to it and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pytest_runcommand.interactions import Interaction

__all__ = ["is_run_command", "violations_per_interaction"]


def is_run_command(interaction: Interaction) -> bool:
    """Whether the contract knows the operation of ``interaction`` (method and URL)."""
    from pytest_runcommand.contract import get_contract

    return get_contract().match(interaction.method, interaction.url) is not None


def violations_per_interaction(
    interactions: Iterable[Interaction], ignore: Iterable[str] = ()
) -> list[tuple[Interaction, list[Any]]]:
    """Each run-command interaction with its violations (non-empty), codes in ``ignore`` left out."""
    from pytest_runcommand.contract import validate_interaction

    tolerated = set(ignore)
    found = []
    for interaction in interactions:
        if not is_run_command(interaction):
            continue
        violations = [v for v in validate_interaction(interaction) if v.code not in tolerated]
        if violations:
            found.append((interaction, violations))
    return found
