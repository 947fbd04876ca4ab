"""ARM error envelopes: one exception per answer the emulator gives to bad input.

Every error the emulator sends is a ``CloudError`` body ``{"error": {"code", "message", "target"?, "details"?}}``
with the status, code and wording Azure Resource Manager uses. The backend and the HTTP layer raise
:class:`ArmError`; the app turns it into a response. Messages never carry secret values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ArmError",
    "ErrorDetail",
    "authentication_failed",
    "internal_error",
    "invalid_api_version",
    "invalid_authentication_token",
    "invalid_parameter",
    "invalid_request_content",
    "method_not_allowed",
    "missing_api_version",
    "operation_not_found",
    "parent_resource_not_found",
    "path_not_found",
    "request_too_large",
    "resource_not_found",
    "unsupported_media_type",
]


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
class ArmError(Exception):
    """An ARM error answer: HTTP status, error code, message, optional target, details and headers."""

    status: int
    code: str
    message: str
    target: str | None = None
    details: Sequence[ErrorDetail] = ()
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code}: {self.message}")

    def to_wire(self) -> dict[str, Any]:
        """The ``CloudError`` body."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.details:
            error["details"] = [detail.to_wire() for detail in self.details]
        return {"error": error}


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
