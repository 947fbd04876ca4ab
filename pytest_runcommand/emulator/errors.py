"""The emulator's one error mechanism: every service raises a :class:`ServiceError`, the app answers it.

Two envelopes, one mechanism::

    ServiceError            status, headers, to_wire(request_headers)
    +-- ArmError            Resource Manager: {"error": {"code", "message", "target"?, "details"?}} (CloudError)
    +-- AadError            Entra ID (the token endpoint): {"error", "error_description", "error_codes", ...}

Each has the status, code and wording the real service uses. Messages never carry secret values.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pytest_runcommand.contract.violations import MAX_LISTED, TOO_MANY_VIOLATIONS, more_violations

__all__ = [
    "AadError",
    "ArmError",
    "ErrorDetail",
    "ServiceError",
    "aad_missing_parameter",
    "aad_tenant_not_found",
    "authentication_failed",
    "contract_violation",
    "expired_authentication_token",
    "internal_error",
    "invalid_api_version",
    "invalid_authentication_token",
    "invalid_host",
    "invalid_location",
    "invalid_name",
    "invalid_parameter",
    "invalid_request_content",
    "invalid_token_audience",
    "method_not_allowed",
    "missing_api_version",
    "name_too_long",
    "operation_not_found",
    "parent_resource_not_found",
    "path_not_found",
    "request_too_large",
    "resource_group_not_found",
    "resource_not_found",
    "subscription_not_found",
    "unsupported_content_encoding",
    "unsupported_media_type",
]


class ServiceError(Exception):
    """Base of every error answer: an HTTP status, extra headers and a JSON body."""

    status: int
    headers: dict[str, str]

    def to_wire(self, request_headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The JSON body (``request_headers``: the request's, lower-cased, for ids a service echoes)."""
        raise NotImplementedError


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of ``error.details``."""

    code: str
    message: str
    target: str | None = None

    def to_wire(self) -> dict[str, str]:
        wire = {"code": self.code, "message": self.message}
        if self.target is not None:
            wire["target"] = self.target
        return wire


@dataclass
class ArmError(ServiceError):
    """An ARM error answer: HTTP status, error code, message, optional target, details and headers."""

    status: int
    code: str
    message: str
    target: str | None = None
    details: Sequence[ErrorDetail] = ()
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code}: {self.message}")

    def to_wire(self, request_headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The ``CloudError`` body."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.details:
            error["details"] = [detail.to_wire() for detail in self.details]
        return {"error": error}


_ARM_CODE_OF_RULE = {
    **dict.fromkeys(
        ("INVALID_JSON", "INVALID_TYPE", "INVALID_FORMAT", "OBJECT_ADDITIONAL_PROPERTIES"), "InvalidRequestContent"
    ),
    **dict.fromkeys(
        (
            "ENUM_MISMATCH",
            "OBJECT_MISSING_REQUIRED_PROPERTY",
            "MISSING_REQUIRED_PARAMETER",
            "MISSING_SCRIPT_SOURCE",
            "MULTIPLE_SCRIPT_SOURCES",
            "MANAGED_IDENTITY_CLIENT_AND_OBJECT_ID",
            "READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST",
        ),
        "InvalidParameter",
    ),
}
"""The ARM error code a request breaking a contract rule gets: a body that cannot be read as the model is
``InvalidRequestContent``, a readable one with a wrong value ``InvalidParameter``, anything else ``BadRequest``."""


def contract_violation(violations: Sequence[tuple[str, str, str]]) -> ArmError:
    """400 for a request the contract rejects: ARM's code at the top (what SDK clients branch on), each broken
    rule's own code, message and JSON pointer in ``details`` (what the test author reads). ``violations``:
    ``(code, message, pointer)``, at least one; a contract's ``TOO_MANY_VIOLATIONS`` (the count of those it did not
    list) becomes the last entry, ``TooManyViolations``, as does the count of any past :data:`MAX_DETAILS`."""
    listed = [violation for violation in violations if violation[0] != TOO_MANY_VIOLATIONS]
    code, message, pointer = (listed or violations)[0]
    details = [ErrorDetail(rule, text, target) for rule, text, target in listed[:MAX_DETAILS]]
    if len(listed) > MAX_DETAILS:
        details.append(ErrorDetail("TooManyViolations", more_violations(len(listed) - MAX_DETAILS)))
    details.extend(
        ErrorDetail("TooManyViolations", text) for rule, text, _ in violations if rule == TOO_MANY_VIOLATIONS
    )
    return ArmError(400, _ARM_CODE_OF_RULE.get(code, "BadRequest"), message, target=pointer, details=details)


def lenient_flood(found: int, limit: int, violations: Sequence[tuple[str, str, str]]) -> ArmError:
    """400 for a body with more fields than lenient mode drops (``found``, over ``limit``): refused as sent, the
    first of them listed in ``details`` as :func:`contract_violation` lists them."""
    listed = contract_violation(violations)
    message = (
        f"The request body has {found} properties that lenient mode would drop (unknown or read-only); it drops at "
        f"most {limit} from one body, so the request is refused as sent."
    )
    return ArmError(400, "InvalidRequestContent", message, target=listed.target, details=listed.details)


MAX_DETAILS = MAX_LISTED
"""The most broken rules a 400's ``details`` lists (a 3 MB body of 300,000 made a 36 MB answer); a last entry counts
the rest. The contract's own cut (``contract.violations.MAX_LISTED``): a list it cut fits as it is."""


def authentication_failed() -> ArmError:
    """401: no ``Authorization`` header at all."""
    return ArmError(
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing.",
        headers={
            "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
            'error="invalid_token", '
            "error_description=\"The authentication failed because of missing 'Authorization' header.\""
        },
    )


def invalid_authentication_token() -> ArmError:
    """401: an ``Authorization`` header that is not a usable bearer token."""
    return ArmError(
        401,
        "InvalidAuthenticationToken",
        "The access token is invalid.",
        headers={
            "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
            'error="invalid_token", error_description="The access token is invalid."'
        },
    )


def missing_api_version() -> ArmError:
    """400: no ``api-version`` query parameter."""
    return ArmError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )


def invalid_api_version(given: str, supported: Iterable[str]) -> ArmError:
    """400: an ``api-version`` this resource type does not serve; lists the supported ones."""
    versions = ", ".join(sorted(supported, reverse=True))
    return ArmError(
        400,
        "InvalidApiVersionParameter",
        f"The api-version '{given}' is invalid. The supported versions are '{versions}'.",
    )


def invalid_request_content(reason: str) -> ArmError:
    """400: a body that is not JSON (or not a JSON object)."""
    return ArmError(
        400,
        "InvalidRequestContent",
        f"The request content was invalid and could not be deserialized: '{reason}'.",
    )


def invalid_parameter(message: str, target: str) -> ArmError:
    """400: a query or path parameter with a value the service does not accept."""
    return ArmError(400, "InvalidParameter", message, target=target)


def request_too_large(limit: int) -> ArmError:
    """413: the body is larger than the service accepts."""
    return ArmError(
        413,
        "RequestEntityTooLarge",
        f"The request content size exceeds the maximum size of {limit} bytes.",
    )


def unsupported_media_type(content_type: str) -> ArmError:
    """415: a body sent with a content type other than JSON."""
    shown = content_type or "(none)"
    return ArmError(
        415,
        "UnsupportedMediaType",
        f"The content media type '{shown}' is not supported. Only 'application/json' is supported.",
    )


def unsupported_content_encoding(coding: str) -> ArmError:
    """415: a body sent with a ``Content-Encoding`` (gzip, ...): it is not read as JSON it may not be."""
    return ArmError(
        415,
        "UnsupportedMediaType",
        f"The content encoding '{coding}' is not supported. Send the body unencoded (no Content-Encoding header).",
    )


def path_not_found(path: str, resource_type: str | None = None) -> ArmError:
    """404: nothing is served at this path."""
    if resource_type is not None:
        return ArmError(
            404,
            "InvalidResourceType",
            f"The resource type '{resource_type}' could not be found in the namespace 'Microsoft.Compute'.",
        )
    return ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{path}'.")


def method_not_allowed(method: str, allowed: Iterable[str]) -> ArmError:
    """405: the path exists but not for this HTTP method."""
    return ArmError(
        405,
        "MethodNotAllowed",
        f"The requested resource does not support http method '{method}'.",
        headers={"Allow": ", ".join(allowed)},
    )


def resource_not_found(resource_type: str, name: str, resource_group: str) -> ArmError:
    """404: the run command does not exist."""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def parent_resource_not_found(parent: str) -> ArmError:
    """404: the virtual machine (or scale-set VM) the run command belongs to does not exist."""
    return ArmError(
        404,
        "ParentResourceNotFound",
        f"Can not perform requested operation on nested resource. Parent resource '{parent}' not found.",
    )


def being_deleted(resource_type: str, name: str) -> ArmError:
    """409: a write to a run command whose deletion has been accepted and is still running."""
    return ArmError(
        409,
        "Conflict",
        f"The resource '{resource_type}/{name}' is being deleted; it cannot be changed until the deletion completes.",
    )


def operation_not_found(operation_id: str, location: str) -> ArmError:
    """404: no asynchronous operation with this id in this location."""
    return ArmError(
        404,
        "NotFound",
        f"The operation '{operation_id}' was not found in location '{location}'.",
    )


def internal_error() -> ArmError:
    """500: a bug in the emulator (never caused by what a client sends)."""
    return ArmError(
        500,
        "InternalServerError",
        "The emulator hit an unexpected error; this is a bug in pytest-runcommand.",
    )


def invalid_location(location: str, resource_type: str) -> ArmError:
    """400: a ``location`` that is no Azure region name (letters and digits; ARM ignores spaces and case)."""
    return ArmError(
        400,
        "LocationNotAvailableForResourceType",
        f"The provided location {_shown(location)} is not available for resource type '{resource_type}'. A location is "
        "a region name such as 'westus' or 'West US 2' (letters, digits and spaces).",
        target="location",
    )


def name_too_long(parameter: str, value: str, limit: int) -> ArmError:
    """400: a path name longer than any Azure resource name."""
    code = "InvalidSubscriptionId" if parameter == "subscriptionId" else "InvalidResourceName"
    return ArmError(
        400,
        code,
        f"The value {_shown(value)} of '{parameter}' is invalid: {len(value)} characters, more than the {limit} "
        "a name in a resource id may have.",
        target=parameter,
    )


def _shown(value: str, limit: int = 80) -> str:
    """``value`` quoted, cut to ``limit`` characters (an error never echoes a huge input whole)."""
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}... ({len(value)} characters)"


def invalid_host(host: str) -> ArmError:
    """400: a ``Host`` header that is not a host and an optional port (RFC 9110 asks for a 400)."""
    return ArmError(
        400,
        "InvalidHostHeader",
        f"The Host header {_shown(host)} is not a host name or address with an optional port.",
    )


def invalid_name(parameter: str, value: str) -> ArmError:
    """400: a path segment (subscription, resource group, VM, run command) holding a character a resource id cannot
    (:data:`~pytest_runcommand.emulator.runcommands.check_names` says which)."""
    code = "InvalidSubscriptionId" if parameter == "subscriptionId" else "InvalidResourceName"
    return ArmError(
        400,
        code,
        f"The value {_shown(value)} of '{parameter}' is invalid: a name in a resource id is printable ASCII "
        "without spaces or the URL delimiters / ? # % \\.",
        target=parameter,
    )


def subscription_not_found(subscription: str) -> ArmError:
    """404: a well-formed subscription id the emulator does not know."""
    return ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")


def resource_group_not_found(group: str) -> ArmError:
    """404: a resource group the emulator does not know."""
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")


_WWW_AUTHENTICATE = 'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"'


def _arm_time(moment: datetime) -> str:
    return f"{moment.month}/{moment.day}/{moment.year} {moment.strftime('%I:%M:%S %p').lstrip('0')}"


def _utc(epoch: float) -> datetime:
    """``epoch`` as a UTC instant, clamped to what ``datetime`` holds (a hostile token may say -1e20)."""
    try:
        return datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.min.replace(tzinfo=UTC) if epoch < 0 else datetime.max.replace(tzinfo=UTC)


def expired_authentication_token(expires: float, now: float) -> ArmError:
    """401: an emulator token whose ``exp`` has passed."""
    return ArmError(
        401,
        "ExpiredAuthenticationToken",
        f"The access token expiry UTC time '{_arm_time(_utc(expires))}' is earlier than current UTC time "
        f"'{_arm_time(_utc(now))}'.",
        headers={"WWW-Authenticate": f'{_WWW_AUTHENTICATE}, error_description="The access token has expired."'},
    )


def invalid_token_audience(audience: str, allowed: Iterable[str]) -> ArmError:
    """401: an emulator token issued for another resource."""
    return ArmError(
        401,
        "InvalidAuthenticationTokenAudience",
        f"The access token has been obtained for wrong audience or resource '{audience}'. It should exactly "
        f"match with one of the allowed audiences {','.join(repr(item) for item in allowed)}.",
    )


class AadError(ServiceError):
    """An Entra ID (Azure AD STS) error: ``{"error", "error_description", "error_codes", ...}``."""

    def __init__(self, status: int, error: str, code: int, message: str) -> None:
        super().__init__(f"{status} {error}: AADSTS{code}: {message}")
        self.status, self.error, self.code, self.message = status, error, code, message
        self.headers = {}

    def to_wire(self, request_headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        trace_id = str(uuid.uuid4())
        correlation = (request_headers or {}).get("client-request-id") or str(uuid.uuid4())
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.message} Trace ID: {trace_id} "
            f"Correlation ID: {correlation} Timestamp: {stamp}",
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }


def aad_tenant_not_found(tenant: str, *, discovery: bool = False) -> AadError:
    """AADSTS90002: no such tenant (``invalid_tenant`` on discovery, ``invalid_request`` on sign-in)."""
    return AadError(
        400,
        "invalid_tenant" if discovery else "invalid_request",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into "
        "the correct cloud. Check with your subscription administrator, this may happen if there are no active "
        "subscriptions for the tenant.",
    )


def aad_missing_parameter(parameter: str) -> AadError:
    """AADSTS900144: a required form parameter is missing."""
    return AadError(
        400, "invalid_request", 900144, f"The request body must contain the following parameter: '{parameter}'."
    )
