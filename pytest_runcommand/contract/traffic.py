"""The one traffic check: interactions in, one verdict per interaction out; and the one error built from verdicts.

Every carrier (the pytest marker, the cassette layer, ``cassettes check``) hands its interactions to
:func:`check_interactions` and, to fail, raises what :func:`contract_failure` builds. Each interaction is checked at
its own api-version (an unsupported one is an ``UNKNOWN_API_VERSION`` violation, like any other); interactions that
reach no run-command operation get a verdict with ``matched=False`` and are never violations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from pytest_runcommand.contract.document import Contract, OperationMatch, get_contract, query_api_version, split_url
from pytest_runcommand.contract.rules import RULE_CODES
from pytest_runcommand.contract.validate import SCHEMA_CODES, validate_interaction
from pytest_runcommand.contract.violations import (
    MAX_LISTED,
    TOO_MANY_VIOLATIONS,
    Violation,
    format_violations,
    mask_text,
    split_violations,
)
from pytest_runcommand.errors import ContractViolationError
from pytest_runcommand.interactions import Interaction

__all__ = ["InteractionVerdict", "check_interactions", "contract_failure", "ignore_problem", "interaction_label"]


@dataclass(frozen=True, slots=True)
class InteractionVerdict:
    """What the contract says about one interaction.

    ``matched``: its method and path reached a run-command operation (only those are checked);
    ``violations``: what it breaks, after ``ignore``; ``ignored``: the violations left out by ``ignore``.
    """

    interaction: Interaction
    matched: bool
    operation_id: str | None = None
    api_version: str | None = None
    violations: tuple[Violation, ...] = ()
    ignored: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def label(self) -> str:
        return interaction_label(self.interaction)

    @property
    def all_violations(self) -> tuple[Violation, ...]:
        """Kept and ignored violations together (for coverage reports)."""
        return self.violations + self.ignored


def interaction_label(interaction: Interaction) -> str:
    """The one masked label of an interaction: ``PATCH https://host/path?query -> 200 (source)``.

    No user name or password, no fragment; SAS signatures, bearer tokens and JWTs in the URL read ``***``.
    """
    if not isinstance(interaction, Interaction):
        return f"<not an Interaction: {type(interaction).__name__}>"
    origin, path, query = split_url(str(interaction.url))
    text = f"{str(interaction.method)[:20]} {mask_text(origin + path + ('?' + query if query else ''))}"
    if len(text) > 400:
        text = text[:397] + "..."
    if interaction.status is not None:
        text += f" -> {interaction.status}"
    if interaction.source:
        text += f" ({mask_text(str(interaction.source))})"
    return text


def _operation(base: Contract, interaction: Interaction, version: str | None) -> OperationMatch | None:
    """The operation an interaction's method and path reach at its api-version, or None."""
    return base.for_version(version).match(interaction.method, interaction.url)


def reaches_operation(interaction: Interaction, contract: Contract | None = None) -> bool:
    """Whether an interaction's method and path reach a run-command operation, as :func:`check_interactions` matches
    them (nothing validated)."""
    base = contract if contract is not None else get_contract()
    return _operation(base, interaction, query_api_version(interaction.url)) is not None


def check_interactions(
    interactions: Iterable[Interaction], *, ignore: Iterable[str] = (), contract: Contract | None = None
) -> list[InteractionVerdict]:
    """One verdict per interaction, in order: each run-command interaction checked at its own api-version.

    ``ignore`` names violation codes to leave out (the marker's ``ignore=``), and the request side of an interaction
    sent invalid on purpose (``request_invalid_on_purpose``) is left out too; ``contract`` a loaded document to use
    instead of the bundled per-version contracts. An interaction whose method, URL, status or headers are not of
    HTTP's types, or an item that is not an :class:`Interaction`, is an ``INVALID_INTERACTION`` violation (never an
    exception).
    """
    skipped = frozenset(ignore)
    base = contract if contract is not None else get_contract()
    verdicts = []
    for interaction in interactions:
        try:
            if not isinstance(interaction, Interaction):
                raise TypeError(f"not an Interaction: a {type(interaction).__name__}")
            if not isinstance(interaction.method, str) or not isinstance(interaction.url, str):
                raise TypeError("an interaction's method and url must be str")
            version = query_api_version(interaction.url)
            match = _operation(base, interaction, version)
            if match is None:
                verdicts.append(InteractionVerdict(interaction, matched=False, api_version=version))
                continue
            found = validate_interaction(interaction, contract=contract)
        except TypeError as error:
            found = [Violation("INVALID_INTERACTION", "", mask_text(str(error))[:200])]
            version, match = None, None
        # a request sent invalid on purpose (a negative fuzz case): only its answer is held to the contract
        on_purpose = getattr(interaction, "request_invalid_on_purpose", None) is True
        kept, left_out = split_violations(found, partial(_left_out, skipped, on_purpose))
        verdicts.append(
            InteractionVerdict(
                interaction,
                matched=True,
                operation_id=match.operation_id if match is not None else None,
                api_version=version,
                violations=tuple(kept),
                ignored=tuple(left_out),
            )
        )
    return verdicts


def _left_out(skipped: frozenset[str], on_purpose: bool, violation: Violation) -> bool:
    """Whether ``ignore`` (``skipped``) leaves a violation out, or it is of a request sent invalid on purpose."""
    return violation.code in skipped or (on_purpose and violation.side == "request")


def ignore_problem(codes: Iterable[str]) -> str | None:
    """What is wrong with the codes an ``ignore=`` names (None: nothing): each must be a rule's or a schema check's
    code; ``TOO_MANY_VIOLATIONS`` is not one to name, as it counts violations of other codes (ignoring those leaves
    none of them counted)."""
    named = set(codes)
    if TOO_MANY_VIOLATIONS in named:
        return (
            f"{TOO_MANY_VIOLATIONS} cannot be ignored: it counts the violations of other codes past the first "
            f"{MAX_LISTED} listed; name those codes (each is then left out however many there are)"
        )
    strange = sorted(named - RULE_CODES.keys() - SCHEMA_CODES.keys())
    if strange:
        return (
            f"{', '.join(strange)}: not a violation code; the codes are those of the contract's rules and schema "
            "checks (pytest_runcommand.contract.RULE_CODES, SCHEMA_CODES)"
        )
    return None


def contract_failure(
    verdicts: Sequence[InteractionVerdict], *, what: str = "run-command traffic"
) -> ContractViolationError | None:
    """The error to raise when a verdict has violations (None when every one is clean).

    ``run-command traffic broke the contract in 1 of 3 interaction(s):`` then, per failing interaction, its label
    and one line per violation.
    """
    failing = [verdict for verdict in verdicts if verdict.violations]
    if not failing:
        return None
    checked = sum(1 for verdict in verdicts if verdict.matched)
    blocks = [format_violations(verdict.violations, context=verdict.label) for verdict in failing]
    return ContractViolationError(
        f"{what} broke the contract in {len(failing)} of {checked} interaction(s):\n\n" + "\n\n".join(blocks)
    )
