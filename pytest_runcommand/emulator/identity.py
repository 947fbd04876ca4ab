"""What the Azure CLI needs from a cloud besides run commands: sign-in, subscriptions, resource groups, metadata.

:class:`ArmIdentityLayer` is an ASGI app that wraps the :class:`~pytest_runcommand.emulator.app.EmulatorApp`:
it answers its own paths and hands every other request to the emulator unchanged.

- ``GET /{tenant}/v2.0/.well-known/openid-configuration`` and ``POST /{tenant}/oauth2/v2.0/token``: a tiny
  Microsoft Entra ID (Azure AD) for the client-credentials grant. Tokens are opaque bearer strings in the
  emulator's unsigned-JWT shape, which the emulator accepts. A wrong secret, client id or tenant gets the
  ``AADSTS`` error Azure AD gives.
- ``GET /metadata/endpoints`` (``az cloud register`` endpoint discovery).
- ``GET /subscriptions``, ``/subscriptions/{sub}``, ``/tenants``, ``/subscriptions/{sub}/resourcegroups[/{rg}]``:
  a resource group exists where the backend has a VM in it, or anywhere while VMs are auto-created; its
  location is its first VM's, else the backend's default location.
- Every other request goes to the emulator, except one bearing an emulator-shaped token that has expired
  (401 ``ExpiredAuthenticationToken``) or was issued for another resource (401
  ``InvalidAuthenticationTokenAudience``), as ARM answers. Tokens of other shapes are the emulator's call.

Secrets (client secrets, tokens) are never logged nor echoed in an answer.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

from pytest_runcommand.emulator import errors
from pytest_runcommand.emulator.asgi import base_url, read_body
from pytest_runcommand.emulator.routing import Router

if TYPE_CHECKING:
    from pytest_runcommand.emulator.app import EmulatorApp
    from pytest_runcommand.emulator.backend import Backend

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_TENANT",
    "MANAGEMENT_AUDIENCES",
    "ArmIdentityLayer",
    "Directory",
    "ServicePrincipal",
]

Scope = Any
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]

DEFAULT_TENANT = "11111111-1111-4111-8111-111111111111"
"""The emulator directory's tenant id (obviously fake)."""
DEFAULT_CLIENT_ID = "22222222-2222-4222-8222-222222222222"
"""The application (client) id of the emulator's service principal."""
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
MANAGEMENT_AUDIENCES = ("https://management.core.windows.net/", "https://management.azure.com/")
"""Resources a token can be asked for (the CLI asks for the first), besides the emulator's own URL."""
TOKEN_LIFETIME = 3599
MAX_FORM_BYTES = 64 * 1024
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_JSON = (b"content-type", b"application/json; charset=utf-8")
_CLAIMS_CACHE_SIZE = 1024
_MAX_OWN_DEPTH = 5
"""Slashes in the deepest path this layer serves (``/{tenant}/oauth2/v2.0/token``, resource groups: 4)."""


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


# -- Azure AD answers -------------------------------------------------------------------------------


class AadError(Exception):
    """An Azure AD (STS) error answer: ``{"error", "error_description", "error_codes", ...}``."""

    def __init__(self, status: int, error: str, code: int, message: str) -> None:
        super().__init__(f"{status} {error}: AADSTS{code}: {message}")
        self.status, self.error, self.code, self.message = status, error, code, message

    def to_wire(self, correlation_id: str | None = None) -> dict[str, Any]:
        trace_id, correlation = str(uuid.uuid4()), correlation_id or str(uuid.uuid4())
        now = datetime.now(UTC)
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
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


def tenant_not_found(tenant: str, *, discovery: bool = False) -> AadError:
    return AadError(
        400,
        "invalid_tenant" if discovery else "invalid_request",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into "
        "the correct cloud. Check with your subscription administrator, this may happen if there are no active "
        "subscriptions for the tenant.",
    )


def _aad_missing(parameter: str) -> AadError:
    return AadError(
        400, "invalid_request", 900144, f"The request body must contain the following parameter: '{parameter}'."
    )


# -- the layer --------------------------------------------------------------------------------------


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    base_url: str
    params: Mapping[str, str]
    body: bytes = b""


@dataclass
class _Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


_Handler = Callable[[_Request], _Answer]


class ArmIdentityLayer:
    """ASGI: the sign-in and subscription endpoints the Azure CLI calls, in front of the run-command emulator."""

    def __init__(self, app: EmulatorApp, directory: Directory | None = None) -> None:
        self.app = app
        self.directory = directory or Directory.default()
        self.tokens_issued = 0
        """How many access tokens the token endpoint has handed out."""
        self._claims: dict[bytes, dict[str, Any] | None] = {}
        self._router: Router[_Handler] = Router()
        self._router.add("openid", "/{tenant}/v2.0/.well-known/openid-configuration", {"GET": self._openid})
        self._router.add("token", "/{tenant}/oauth2/v2.0/token", {"POST": self._token})
        self._router.add("metadata", "/metadata/endpoints", {"GET": self._metadata})
        self._router.add("tenants", "/tenants", {"GET": self._tenants})
        self._router.add("subscriptions", "/subscriptions", {"GET": self._subscriptions})
        self._router.add("subscription", "/subscriptions/{subscriptionId}", {"GET": self._subscription})
        self._router.add("resource_groups", "/subscriptions/{subscriptionId}/resourcegroups", {"GET": self._groups})
        self._router.add(
            "resource_group",
            "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}",
            {"GET": self._group, "HEAD": self._group_exists},
        )

    @property
    def backend(self) -> Backend:
        return self.app.backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = str(scope["method"]).upper(), str(scope.get("path", "/"))
        if "//" in path:  # `az cloud register --endpoint-resource-manager URL/` asks for URL//metadata/...
            path = re.sub("/{2,}", "/", path)
        match = None
        if path.count("/") <= _MAX_OWN_DEPTH:  # run-command paths are deeper: no routing cost for them
            try:
                match = self._router.resolve(method, path)
            except errors.ArmError as error:
                if error.status != 404:
                    await _send(send, _Answer(error.status, error.to_wire(), dict(error.headers)), method)
                    return
        if match is None:
            problem = _token_problem(scope, self._claims)
            if problem is not None:
                await _send(send, _Answer(problem.status, problem.to_wire(), dict(problem.headers)), method)
                return
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", ())}
        raw_query = scope.get("query_string", b"").decode("latin-1")
        request = _Request(
            method=method,
            path=path,
            query={name.lower(): value for name, value in reversed(parse_qsl(raw_query, keep_blank_values=True))},
            headers=headers,
            base_url=base_url(scope, headers),
            params=match.params,
        )
        try:
            request.body = await read_body(receive, MAX_FORM_BYTES)
            answer = match.handler(request)
        except AadError as error:
            answer = _Answer(error.status, error.to_wire(headers.get("client-request-id")))
        except errors.ArmError as error:
            answer = _Answer(error.status, error.to_wire(), dict(error.headers))
        await _send(send, answer, method)

    # -- Azure AD -----------------------------------------------------------------------------------

    def _authority(self, request: _Request, tenant: str) -> str:
        return f"{request.base_url}/{tenant}"

    def _openid(self, request: _Request) -> _Answer:
        tenant = self.directory.find_tenant(request.params["tenant"])
        if tenant is None:
            raise tenant_not_found(request.params["tenant"], discovery=True)
        authority = self._authority(request, tenant)
        return _Answer(
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

    def _token(self, request: _Request) -> _Answer:
        tenant = self.directory.find_tenant(request.params["tenant"])
        if tenant is None:
            raise tenant_not_found(request.params["tenant"])
        form = _form(request)
        grant = form.get("grant_type")
        if not grant:
            raise _aad_missing("grant_type")
        if grant != "client_credentials":
            raise AadError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        client_id, secret = _client_credentials(request, form)
        principal = next(
            (
                p
                for p in self.directory.principals
                if p.tenant_id == tenant and p.client_id.lower() == client_id.lower()
            ),
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
        resource = self._resource(request, form.get("scope"))
        now = int(time.time())
        token = _access_token(
            {
                "aud": resource,
                "iss": f"{self._authority(request, tenant)}/",
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
        )
        self.tokens_issued += 1
        return _Answer(
            200,
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "ext_expires_in": TOKEN_LIFETIME,
                "access_token": token,
            },
        )

    def _resource(self, request: _Request, scope: str | None) -> str:
        if not scope:
            raise _aad_missing("scope")
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

    # -- Resource Manager ---------------------------------------------------------------------------

    def _metadata(self, request: _Request) -> _Answer:
        _require_api_version(request)
        base = request.base_url
        return _Answer(
            200,
            {
                "name": "RunCommandEmulator",
                "resourceManager": f"{base}/",
                "portal": f"{base}/",
                "authentication": {
                    "loginEndpoint": base,
                    "audiences": list(MANAGEMENT_AUDIENCES),
                    "tenant": self.directory.first_tenant(),
                    "identityProvider": "AAD",
                },
                "suffixes": {},
            },
        )

    def _tenants(self, request: _Request) -> _Answer:
        self._arm_checks(request)
        value = [
            {"id": f"/tenants/{tenant}", "tenantId": tenant, "tenantCategory": "Home", "displayName": "Emulator"}
            for tenant in self.directory.tenants()
        ]
        return _Answer(200, {"value": value})

    def _subscriptions(self, request: _Request) -> _Answer:
        self._arm_checks(request)
        value = [self._subscription_wire(sub) for sub in self._known_subscriptions()]
        return _Answer(200, {"value": value, "count": {"type": "Total", "value": len(value)}})

    def _subscription(self, request: _Request) -> _Answer:
        self._arm_checks(request)
        return _Answer(200, self._subscription_wire(self._find_subscription(request.params["subscriptionId"])))

    def _groups(self, request: _Request) -> _Answer:
        self._arm_checks(request)
        subscription = self._find_subscription(request.params["subscriptionId"])
        names: dict[str, tuple[str, str]] = {}
        for vm in self.backend.vms:
            if vm.ref.subscription.lower() == subscription.lower():
                names.setdefault(vm.ref.resource_group.lower(), (vm.ref.resource_group, vm.location))
        return _Answer(200, {"value": [_group_wire(subscription, name, loc) for name, loc in names.values()]})

    def _group(self, request: _Request) -> _Answer:
        self._arm_checks(request)
        subscription = self._find_subscription(request.params["subscriptionId"])
        name, location = self._find_group(subscription, request.params["resourceGroupName"])
        return _Answer(200, _group_wire(subscription, name, location))

    def _group_exists(self, request: _Request) -> _Answer:
        self._arm_checks(request)
        subscription = self._find_subscription(request.params["subscriptionId"])
        try:
            self._find_group(subscription, request.params["resourceGroupName"])
        except errors.ArmError:
            return _Answer(404)
        return _Answer(204)

    def _arm_checks(self, request: _Request) -> None:
        _authenticate(request.headers.get("authorization"))
        _require_api_version(request)

    def _known_subscriptions(self) -> list[str]:
        known = dict.fromkeys(self.directory.subscriptions)
        known.update(dict.fromkeys(vm.ref.subscription for vm in self.backend.vms))
        return list(known)

    def _find_subscription(self, subscription: str) -> str:
        for known in self._known_subscriptions():
            if known.lower() == subscription.lower():
                return known
        if not _GUID.match(subscription):
            raise errors.ArmError(
                400,
                "InvalidSubscriptionId",
                f"The provided subscription identifier '{subscription}' is malformed or invalid.",
            )
        if self.backend.settings.auto_create_vms:
            return subscription
        raise errors.ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")

    def _find_group(self, subscription: str, group: str) -> tuple[str, str]:
        for vm in self.backend.vms:
            if vm.ref.subscription.lower() == subscription.lower() and vm.ref.resource_group.lower() == group.lower():
                return vm.ref.resource_group, vm.location
        if self.backend.settings.auto_create_vms:
            return group, self.backend.settings.default_location
        raise errors.ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")

    def _subscription_wire(self, subscription: str) -> dict[str, Any]:
        return {
            "id": f"/subscriptions/{subscription}",
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": subscription,
            "tenantId": self.directory.first_tenant(),
            "displayName": self.directory.subscriptions.get(subscription, "pytest-runcommand emulator"),
            "state": "Enabled",
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "PayAsYouGo_2014-09-01",
                "spendingLimit": "Off",
            },
        }


# -- helpers ----------------------------------------------------------------------------------------


def _group_wire(subscription: str, name: str, location: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{subscription}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }


def _segment(data: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def _access_token(claims: Mapping[str, Any]) -> str:
    """An opaque bearer token in the emulator's unsigned-JWT shape (a random ``jti`` makes each unique)."""
    header = {"alg": "none", "typ": "JWT"}
    return f"{_segment(header)}.{_segment({**claims, 'jti': secrets.token_urlsafe(12)})}.emulator"


def _form(request: _Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise AadError(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        )
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise AadError(400, "invalid_request", 90014, "The request body is not valid UTF-8.") from None
    return dict(reversed(parse_qsl(text, keep_blank_values=True)))


def _client_credentials(request: _Request, form: Mapping[str, str]) -> tuple[str, str | None]:
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
        raise _aad_missing("client_id")
    return client_id, secret or None


def _token_claims(token: bytes) -> dict[str, Any] | None:
    """The claims of an emulator-shaped token (``header.claims.emulator``), or None for any other token."""
    parts = token.split(b".")
    if len(parts) != 3 or parts[2] != b"emulator":
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + b"=" * (-len(parts[1]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _arm_time(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return f"{moment.month}/{moment.day}/{moment.year} {moment.strftime('%I:%M:%S %p').lstrip('0')}"


_MANAGEMENT = frozenset(audience.rstrip("/") for audience in MANAGEMENT_AUDIENCES)


def _token_problem(scope: Scope, cache: dict[bytes, dict[str, Any] | None]) -> errors.ArmError | None:
    """401 for an emulator token that has expired or was issued for another resource; None otherwise.

    Tokens of any other shape are left to the emulator (which accepts any bearer token). ``cache`` keeps
    the decoded claims by token (clients reuse a token for many requests).
    """
    value = next((value for name, value in scope.get("headers", ()) if name.lower() == b"authorization"), None)
    if value is None or not bytes(value).endswith(b".emulator"):
        return None
    token = bytes(value)
    if token in cache:
        claims = cache[token]
    else:
        scheme, _, raw = token.strip().partition(b" ")
        claims = _token_claims(raw.strip()) if scheme.lower() == b"bearer" else None
        if len(cache) >= _CLAIMS_CACHE_SIZE:
            cache.clear()
        cache[token] = claims
    if claims is None:
        return None
    now = time.time()
    expires = claims.get("exp")
    if isinstance(expires, int | float) and expires < now:
        return errors.ArmError(
            401,
            "ExpiredAuthenticationToken",
            f"The access token expiry UTC time '{_arm_time(expires)}' is earlier than current UTC time "
            f"'{_arm_time(now)}'.",
        )
    audience = claims.get("aud")
    if not isinstance(audience, str) or audience.rstrip("/") in _MANAGEMENT:
        return None
    host = next((value for name, value in scope.get("headers", ()) if name.lower() == b"host"), None)
    own = base_url(scope, {"host": bytes(host).decode("latin-1")} if host else {})
    if audience.rstrip("/") == own:
        return None
    allowed = [*MANAGEMENT_AUDIENCES, f"{own}/"]
    return errors.ArmError(
        401,
        "InvalidAuthenticationTokenAudience",
        f"The access token has been obtained for wrong audience or resource '{audience}'. It should exactly "
        f"match with one of the allowed audiences {','.join(repr(item) for item in allowed)}.",
    )


def _authenticate(value: str | None) -> None:
    if value is None or not value.strip():
        raise errors.authentication_failed()
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or any(char.isspace() for char in token.strip()):
        raise errors.invalid_authentication_token()


def _require_api_version(request: _Request) -> None:
    if not request.query.get("api-version"):
        raise errors.missing_api_version()


async def _send(send: Send, answer: _Answer, method: str) -> None:
    body = b"" if answer.body is None else orjson.dumps(answer.body)
    headers: list[tuple[bytes, bytes]] = [
        (b"cache-control", b"no-store, no-cache"),
        (b"pragma", b"no-cache"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-ms-request-id", str(uuid.uuid4()).encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if answer.body is not None:
        headers.append(_JSON)
    headers.extend(
        (name.lower().encode(), value.encode("latin-1", "replace")) for name, value in answer.headers.items()
    )
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
