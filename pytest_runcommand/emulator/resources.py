"""The resources service: what a client needs from Resource Manager besides run commands.

- ``GET /subscriptions``, ``/subscriptions/{sub}``;
- ``GET|HEAD /subscriptions/{sub}/resourcegroups[/{rg}]``: a resource group exists where the backend has a VM in it,
  or anywhere while VMs are auto-created; its location is its first VM's, else the backend's default location.

Served only while the app has a :class:`~pytest_runcommand.emulator.identity.Directory` (404 otherwise).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from pytest_runcommand.emulator import errors
from pytest_runcommand.emulator.asgi import Handler, Request, Response
from pytest_runcommand.emulator.backend import Backend
from pytest_runcommand.emulator.identity import Directory, directory_of
from pytest_runcommand.emulator.routing import Router

__all__ = ["ResourceService"]

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SUBSCRIPTION = "/subscriptions/{subscriptionId}"
GROUPS = SUBSCRIPTION + "/resourcegroups"


class _Owner(Protocol):
    directory: Directory | None
    backend: Backend


class ResourceService:
    """Subscriptions, tenants, resource groups and cloud metadata, derived from the backend's VMs."""

    def __init__(self, owner: _Owner) -> None:
        self.owner = owner

    def register(self, router: Router[Handler]) -> None:
        """Add this service's routes (a token and an api-version needed)."""
        router.add("subscriptions", "/subscriptions", {"GET": self._subscriptions}, api_version="any")
        router.add("subscription", SUBSCRIPTION, {"GET": self._subscription}, api_version="any")
        router.add("resource_groups", GROUPS, {"GET": self._groups}, api_version="any")
        router.add(
            "resource_group",
            GROUPS + "/{resourceGroupName}",
            {"GET": self._group, "HEAD": self._group_exists},
            api_version="any",
        )

    @property
    def backend(self) -> Backend:
        return self.owner.backend

    def _subscriptions(self, request: Request) -> Response:
        directory = directory_of(self.owner, request)
        value = [_subscription_wire(directory, sub) for sub in self._known_subscriptions(directory)]
        return Response(200, {"value": value, "count": {"type": "Total", "value": len(value)}})

    def _subscription(self, request: Request) -> Response:
        directory = directory_of(self.owner, request)
        subscription = self._find_subscription(directory, request.params["subscriptionId"])
        return Response(200, _subscription_wire(directory, subscription))

    def _groups(self, request: Request) -> Response:
        directory = directory_of(self.owner, request)
        subscription = self._find_subscription(directory, request.params["subscriptionId"])
        names: dict[str, tuple[str, str]] = {}
        for vm in self.backend.vms:
            if vm.ref.subscription.lower() == subscription.lower():
                names.setdefault(vm.ref.resource_group.lower(), (vm.ref.resource_group, vm.location))
        return Response(200, {"value": [_group_wire(subscription, name, loc) for name, loc in names.values()]})

    def _group(self, request: Request) -> Response:
        directory = directory_of(self.owner, request)
        subscription = self._find_subscription(directory, request.params["subscriptionId"])
        name, location = self._find_group(subscription, request.params["resourceGroupName"])
        return Response(200, _group_wire(subscription, name, location))

    def _group_exists(self, request: Request) -> Response:
        directory = directory_of(self.owner, request)
        subscription = self._find_subscription(directory, request.params["subscriptionId"])
        try:
            self._find_group(subscription, request.params["resourceGroupName"])
        except errors.ArmError:
            return Response(404)
        return Response(204)

    def _known_subscriptions(self, directory: Directory) -> list[str]:
        known = dict.fromkeys(directory.subscriptions)
        known.update(dict.fromkeys(vm.ref.subscription for vm in self.backend.vms))
        return list(known)

    def _find_subscription(self, directory: Directory, subscription: str) -> str:
        for known in self._known_subscriptions(directory):
            if known.lower() == subscription.lower():
                return known
        if not _GUID.fullmatch(subscription):
            raise errors.ArmError(
                400,
                "InvalidSubscriptionId",
                f"The provided subscription identifier '{subscription}' is malformed or invalid.",
            )
        if self.backend.settings.auto_create_vms:
            return subscription
        raise errors.subscription_not_found(subscription)

    def _find_group(self, subscription: str, group: str) -> tuple[str, str]:
        for vm in self.backend.vms:
            if vm.ref.subscription.lower() == subscription.lower() and vm.ref.resource_group.lower() == group.lower():
                return vm.ref.resource_group, vm.location
        if self.backend.settings.auto_create_vms:
            return group, self.backend.settings.default_location
        raise errors.resource_group_not_found(group)


def _subscription_wire(directory: Directory, subscription: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{subscription}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": subscription,
        "tenantId": directory.first_tenant(),
        "displayName": directory.subscriptions.get(subscription, "pytest-runcommand emulator"),
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def _group_wire(subscription: str, name: str, location: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{subscription}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }
