"""This API's checks for schemathesis, and the set of checks a fuzz run applies.

``runcommand_contract`` runs the contract engine (:func:`pytest_runcommand.contract.validate_response`) over every
answer: the schema read strictly, and the prose rules (secrets echoed back, CloudError shape, documented status
codes, long-running-operation headers). Three of schemathesis's own checks are narrowed by the same engine:

- ``runcommand_negative_data_rejection``: a "negative" case is held to rejection only when the contract agrees the
  request is invalid (the generation overlay is stricter than the contract, e.g. it never sends ``source: {}``);
- ``runcommand_positive_data_acceptance``: a positive case must be accepted only when the contract finds it valid;
  (both ask the contract only when schemathesis's check fails: the outcome is the same, the usual case cheaper)
- ``runcommand_content_type_conformance``: an empty body needs no media type (Azure answers DELETE 202 so);
- ``runcommand_use_after_free``: after a DELETE answered 202 (accepted, still running), the resource may read
  as ``provisioningState: Deleting`` until the operation ends; anything else is still a use after free.

``runcommand_resource_availability`` is ensure_resource_availability for ARM, where PUT (not POST) creates: a
run command a PUT just created must not be 404 to the GET/PATCH/DELETE linked to it.

Importing this module registers the checks with ``schemathesis.check``, so they can also be named in a schemathesis
config or passed to ``case.call_and_validate(checks=...)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import schemathesis
from schemathesis import CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, Severity
from schemathesis.generation.case import Case
from schemathesis.openapi.checks import UseAfterFree
from schemathesis.specs.openapi import checks as builtin

from pytest_runcommand.contract import Violation, format_violations, validate_request, validate_response

__all__ = [
    "RUNCOMMAND_CHECKS",
    "ContractFailure",
    "request_violations",
    "runcommand_content_type_conformance",
    "runcommand_contract",
    "runcommand_negative_data_rejection",
    "runcommand_positive_data_acceptance",
    "runcommand_resource_availability",
    "runcommand_use_after_free",
]


class ContractFailure(Failure):
    """An answer broke the run-command contract; ``violations`` hold the details (secrets masked)."""

    code = "RC001"
    kind_title = "Run-command contract violated"

    def __init__(self, *, operation: str | None, violations: list[Violation], case_id: str | None = None) -> None:
        codes = sorted({violation.code for violation in violations})
        severity = Severity.CRITICAL if "SECRET_PROPERTY" in codes else Severity.HIGH
        super().__init__(
            operation=operation,
            title=f"Run-command contract violated: {', '.join(codes)}",
            message=format_violations(violations),
            case_id=case_id,
            severity=severity,
        )
        self.violations = violations
        self.codes = tuple(codes)

    @property
    def _unique_key(self) -> str:
        return ",".join(self.codes)


def _headers(raw: Mapping[str, Any]) -> dict[str, str]:
    return {name: ", ".join(value) if isinstance(value, list) else str(value) for name, value in raw.items()}


def request_violations(response: Response) -> list[Violation]:
    """What the contract says about the request that was actually sent (as it went on the wire)."""
    request = response.request
    body = request.body
    return validate_request(str(request.method), str(request.url), body if body else None, _headers(request.headers))


@schemathesis.check
def runcommand_contract(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """The answer conforms to the run-command contract (schema, prose rules, status codes, LRO headers)."""
    request = response.request
    violations = validate_response(
        str(request.method),
        str(request.url),
        response.status_code,
        response.content if response.content else None,
        _headers(response.headers),
    )
    if violations:
        raise ContractFailure(operation=case.operation.label, violations=violations, case_id=case.id)
    return None


class ResourceUnavailable(Failure):
    """A run command a PUT had just created answered 404."""

    code = "RC002"
    kind_title = "Created run command not found"


def _provisioning_state(response: Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    properties = body.get("properties") if isinstance(body, dict) else None
    state = properties.get("provisioningState") if isinstance(properties, dict) else None
    return state.lower() if isinstance(state, str) else None


@schemathesis.check
def runcommand_use_after_free(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """schemathesis's use_after_free, knowing that an accepted (202) DELETE ends later."""
    try:
        return builtin.use_after_free(ctx, response, case)
    except UseAfterFree as failure:
        deleted_id = failure.deleted_case_id
        deleted = ctx.internals.find_response(case_id=deleted_id) if deleted_id else None
        if deleted is not None and deleted.status_code == 202 and _provisioning_state(response) == "deleting":
            return None
        raise


@schemathesis.check
def runcommand_resource_availability(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A run command a PUT just created (200/201) is found by the request linked to that PUT."""
    if response.status_code != 404:
        return None
    parent = ctx.internals.find_parent(case_id=case.id)
    if parent is None or parent.operation.method.upper() != "PUT":
        return None
    created = ctx.internals.find_response(case_id=parent.id)
    if created is None or created.status_code not in (200, 201):
        return None
    path = case.formatted_path.lower()
    if parent.formatted_path.lower() != path:
        return None
    for other in ctx.internals.find_all_cases():
        if other.method.upper() == "DELETE" and other.formatted_path.lower() == path:
            answer = ctx.internals.find_response(case_id=other.id)
            if answer is not None and 200 <= answer.status_code < 300:
                return None  # deleted in between: 404 is right
    raise ResourceUnavailable(
        operation=case.operation.label,
        message=(
            f"{parent.method.upper()} {parent.formatted_path} answered {created.status_code}, then "
            f"{case.method.upper()} {case.formatted_path} answered 404 with no DELETE in between"
        ),
        case_id=case.id,
    )


@schemathesis.check
def runcommand_negative_data_rejection(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """schemathesis's negative_data_rejection, for requests the contract also finds invalid."""
    if case.meta is None or case.meta.generation.mode.is_positive:
        return None
    try:
        return builtin.negative_data_rejection(ctx, response, case)
    except Failure:
        if not request_violations(response):  # asked only now: most negative cases are rejected
            return None
        raise


@schemathesis.check
def runcommand_positive_data_acceptance(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """schemathesis's positive_data_acceptance, for requests the contract finds valid."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    try:
        return builtin.positive_data_acceptance(ctx, response, case)
    except Failure:
        if request_violations(response):  # asked only now: most positive cases are accepted
            return None
        raise


@schemathesis.check
def runcommand_content_type_conformance(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """schemathesis's content_type_conformance, for answers that carry a body."""
    if not response.content:
        return None
    return builtin.content_type_conformance(ctx, response, case)


RUNCOMMAND_CHECKS = (
    not_a_server_error,
    builtin.status_code_conformance,
    runcommand_content_type_conformance,
    builtin.response_headers_conformance,
    builtin.response_schema_conformance,
    runcommand_negative_data_rejection,
    runcommand_positive_data_acceptance,
    builtin.missing_required_header,
    runcommand_use_after_free,
    runcommand_resource_availability,
    builtin.ensure_resource_availability,
    builtin.ignored_auth,
    runcommand_contract,
)
"""The checks of a fuzz run, in order: schemathesis's own (three narrowed, see above) and the contract's."""
