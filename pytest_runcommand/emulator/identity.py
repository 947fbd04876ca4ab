"""The identity service: a tiny Microsoft Entra ID (Azure AD) for the client-credentials grant, and the cloud's
description of it.

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: discovery, pointing at this emulator;
- ``POST /{tenant}/oauth2/v2.0/token``: a token for a service principal of the :class:`Directory` (form or HTTP
  Basic credentials). A wrong secret, client id, tenant, grant or scope gets the ``AADSTS`` error Entra ID gives
  (:class:`~pytest_runcommand.emulator.errors.AadError`);
- ``GET /metadata/endpoints``: the cloud's endpoints (``az cloud register``; no token needed);
- ``GET /tenants``: the directory's tenants (a token needed).

Tokens come from :mod:`pytest_runcommand.emulator.tokens`, which also checks them on every ARM request. Secrets
(client secrets, tokens) are never logged nor echoed in an answer.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl

from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID
from pytest_runcommand.emulator import errors
from pytest_runcommand.emulator.asgi import Handler, Request, Response
from pytest_runcommand.emulator.errors import AadError
from pytest_runcommand.emulator.routing import Router, not_found
from pytest_runcommand.emulator.tokens import MANAGEMENT_AUDIENCES, mint

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_SUBSCRIPTION",
    "DEFAULT_TENANT",
    "MANAGEMENT_AUDIENCES",
    "Directory",
    "DirectoryOwner",
    "IdentityService",
    "ServicePrincipal",
]

DEFAULT_TENANT = "11111111-1111-4111-8111-111111111111"
"""The emulator directory's tenant id (obviously fake)."""
DEFAULT_CLIENT_ID = "22222222-2222-4222-8222-222222222222"
"""The application (client) id of the emulator's service principal."""
DEFAULT_SUBSCRIPTION = ZERO_SUBSCRIPTION_ID
"""The subscription the directory's principals see."""
TOKEN_LIFETIME = 3599


@dataclass(frozen=True)
class ServicePrincipal:
    """An application that may sign in with the client-credentials grant."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)


@dataclass
class Directory:
    """Who can sign in, and which subscriptions they see."""

    principals: list[ServicePrincipal] = field(default_factory=list)
    subscriptions: dict[str, str] = field(default_factory=lambda: {DEFAULT_SUBSCRIPTION: "pytest-runcommand emulator"})
    """Subscription id -> display name."""

    @classmethod
    def default(cls, client_secret: str | None = None) -> Directory:
        """One tenant, one service principal (a fresh random secret unless given), one subscription."""
        secret = client_secret if client_secret is not None else "emu" + secrets.token_urlsafe(24)
        return cls([ServicePrincipal(DEFAULT_TENANT, DEFAULT_CLIENT_ID, secret)])

    @property
    def principal(self) -> ServicePrincipal:
        """The first service principal (what the CLI helpers sign in with)."""
        if not self.principals:
            raise LookupError("the emulator directory has no service principal")
        return self.principals[0]

    def tenants(self) -> list[str]:
        """Known tenant ids, in order, without repeats."""
        return list(dict.fromkeys(principal.tenant_id for principal in self.principals))

    def find_tenant(self, tenant: str) -> str | None:
        """The tenant id ``tenant`` names (case-insensitive), or None."""
        return next((known for known in self.tenants() if known.lower() == tenant.lower()), None)

    def first_tenant(self) -> str:
        tenants = self.tenants()
        return tenants[0] if tenants else DEFAULT_TENANT


class DirectoryOwner(Protocol):
    """What holds the directory the identity and resource services read (the app)."""

    directory: Directory | None


def directory_of(owner: DirectoryOwner, request: Request) -> Directory:
    """The owner's directory; the 404 of an unserved path when it has none (``azure_cli=False``)."""
    if owner.directory is None:
        raise not_found(request.path)
    return owner.directory


class IdentityService:
    """Discovery and the token endpoint, for the principals of ``owner.directory`` (None: not served, 404)."""

    def __init__(self, owner: DirectoryOwner) -> None:
        self.owner = owner
        self.tokens_issued = 0
        """How many access tokens the token endpoint has handed out."""

    def register(self, router: Router[Handler]) -> None:
        """Add this service's routes (public: no bearer token)."""
        router.add(
            "openid",
            "/{tenant}/v2.0/.well-known/openid-configuration",
            {"GET": self._openid},
            public=True,
            collapse_slashes=True,
        )
        router.add("token", "/{tenant}/oauth2/v2.0/token", {"POST": self._token}, public=True, collapse_slashes=True)
        router.add(
            "metadata",
            "/metadata/endpoints",
            {"GET": self._metadata},
            public=True,
            api_version="any",
            collapse_slashes=True,
        )
        router.add("tenants", "/tenants", {"GET": self._tenants}, api_version="any")

    def _metadata(self, request: Request) -> Response:
        directory = directory_of(self.owner, request)
        base = request.base_url
        return Response(
            200,
            {
                "name": "RunCommandEmulator",
                "resourceManager": f"{base}/",
                "portal": f"{base}/",
                "authentication": {
                    "loginEndpoint": base,
                    "audiences": list(MANAGEMENT_AUDIENCES),
                    "tenant": directory.first_tenant(),
                    "identityProvider": "AAD",
                },
                "suffixes": {},
            },
        )

    def _tenants(self, request: Request) -> Response:
        tenants = directory_of(self.owner, request).tenants()
        value = [
            {"id": f"/tenants/{tenant}", "tenantId": tenant, "tenantCategory": "Home", "displayName": "Emulator"}
            for tenant in tenants
        ]
        return Response(200, {"value": value})

    def _openid(self, request: Request) -> Response:
        tenant = directory_of(self.owner, request).find_tenant(request.params["tenant"])
        if tenant is None:
            raise errors.aad_tenant_not_found(request.params["tenant"], discovery=True)
        authority = f"{request.base_url}/{tenant}"
        return Response(
            200,
            {
                "token_endpoint": f"{authority}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "jwks_uri": f"{authority}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{authority}/v2.0",
                "request_uri_parameter_supported": False,
                "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{authority}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{authority}/oauth2/v2.0/logout",
                "tenant_region_scope": "NA",
                "cloud_instance_name": "pytest-runcommand.invalid",
            },
        )

    def _token(self, request: Request) -> Response:
        directory = directory_of(self.owner, request)
        tenant = directory.find_tenant(request.params["tenant"])
        if tenant is None:
            raise errors.aad_tenant_not_found(request.params["tenant"])
        form = _form(request)
        grant = form.get("grant_type")
        if not grant:
            raise errors.aad_missing_parameter("grant_type")
        if grant != "client_credentials":
            raise AadError(
                400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'."
            )
        client_id, secret = _client_credentials(request, form)
        principal = next(
            (p for p in directory.principals if p.tenant_id == tenant and p.client_id.lower() == client_id.lower()),
            None,
        )
        if principal is None:
            raise AadError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can "
                "happen if the application has not been installed by the administrator of the tenant or consented "
                "to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
            )
        if secret is None:
            raise AadError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )
        if not hmac.compare_digest(secret.encode(), principal.client_secret.encode()):
            raise AadError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                f"value, not the client secret ID, for a secret added to app '{principal.client_id}'.",
            )
        resource = _resource(request, form.get("scope"))
        now = int(time.time())
        claims = {
            "aud": resource,
            "iss": f"{request.base_url}/{tenant}/",
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME,
            "appid": principal.client_id,
            "idtyp": "app",
            "oid": principal.client_id,
            "sub": principal.client_id,
            "tid": tenant,
            "ver": "1.0",
        }
        self.tokens_issued += 1
        body = {
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "ext_expires_in": TOKEN_LIFETIME,
            "access_token": mint(claims),
        }
        return Response(200, body, {"Cache-Control": "no-store, no-cache"})


def _resource(request: Request, scope: str | None) -> str:
    """The resource a client-credentials ``scope`` names (``{resource}/.default``), if the emulator serves it."""
    if not scope:
        raise errors.aad_missing_parameter("scope")
    scopes = scope.split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise AadError(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must have a scope value "
            "with /.default suffixed to the resource identifier (application ID URI).",
        )
    resource = scopes[0][: -len(".default")]
    known = {audience.rstrip("/") for audience in MANAGEMENT_AUDIENCES} | {request.base_url.rstrip("/")}
    if resource.rstrip("/") not in known:
        raise AadError(
            400,
            "invalid_resource",
            500011,
            f"The resource principal named {resource} was not found in the tenant named "
            f"{request.params['tenant']}. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant. You might have sent your "
            "authentication request to the wrong tenant.",
        )
    return resource


def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise errors.aad_missing_parameter("grant_type")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise AadError(400, "invalid_request", 90014, "The request body is not valid UTF-8.") from None
    return dict(reversed(parse_qsl(text, keep_blank_values=True)))


def _client_credentials(request: Request, form: Mapping[str, str]) -> tuple[str, str | None]:
    """``(client_id, client_secret)`` from the form or from HTTP Basic (``client_secret_basic``)."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise AadError(
                401, "invalid_client", 7000216, "The client credentials in the Authorization header are malformed."
            ) from None
        basic_id, _, basic_secret = decoded.partition(":")
        client_id, secret = client_id or basic_id, secret or basic_secret
    if not client_id:
        raise errors.aad_missing_parameter("client_id")
    return client_id, secret or None
