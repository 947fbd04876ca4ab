"""Live clean-up: no redirect followed, each delete polled to its end on the target's own origin, what remains said.

A small ARM-like service on loopback answers each run command's DELETE its own way.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pytest_runcommand.fuzz.cleanup import clean_up
from pytest_runcommand.fuzz.findings import FuzzReport
from pytest_runcommand.fuzz.live import LiveScope
from pytest_runcommand.fuzz.targets import url_target

SUB = "11111111-2222-3333-4444-555555555555"
SCOPE = LiveScope(subscription=SUB, resource_group="rg1", vm="vm1", name_prefix="fuzz-")
PARENT = SCOPE.parent_path + "/runCommands"
OPERATIONS = f"/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westus/operations"


class Service:
    """Run commands that each delete differently; ``other_origin`` is where a stray operation URL points."""

    def __init__(self, other_origin: str) -> None:
        self.alive = {"fuzz-gone", "fuzz-slow", "fuzz-redirect", "fuzz-failing", "fuzz-away", "fuzz-silent"}
        self.polls: dict[str, int] = {}
        self.other_origin = other_origin
        self.requests: list[str] = []

    def app(self) -> Starlette:
        async def run_command(request: Request) -> Response:
            name = request.path_params["name"]
            self.requests.append(f"{request.method} {name}")
            if request.method == "GET":
                status = 200 if name in self.alive else 404
                return JSONResponse({"name": name} if status == 200 else {"error": {"code": "NotFound"}}, status)
            origin = f"{request.url.scheme}://{request.url.netloc}"
            monitor = {"Azure-AsyncOperation": f"{origin}{OPERATIONS}/{name}", "Retry-After": "0"}
            if name == "fuzz-gone":
                self.alive.discard(name)
                return Response(status_code=204)
            if name == "fuzz-redirect":
                return Response(status_code=302, headers={"Location": f"{origin}/elsewhere"})
            if name == "fuzz-away":
                return Response(status_code=202, headers={**monitor, "Azure-AsyncOperation": self.other_origin})
            if name == "fuzz-silent":
                return Response(status_code=202)
            return Response(status_code=202, headers=monitor)

        async def operation(request: Request) -> Response:
            name = request.path_params["name"]
            self.polls[name] = self.polls.get(name, 0) + 1
            if self.polls[name] < 3:
                return JSONResponse({"status": "InProgress"})
            if name == "fuzz-failing":
                return JSONResponse({"status": "Failed", "error": {"code": "Conflict"}})
            self.alive.discard(name)
            return JSONResponse({"status": "Succeeded"})

        async def elsewhere(request: Request) -> Response:
            return Response(status_code=200)

        return Starlette(
            routes=[
                Route(PARENT + "/{name}", run_command, methods=["GET", "DELETE"]),
                Route(OPERATIONS + "/{name}", operation, methods=["GET"]),
                Route("/elsewhere", elsewhere, methods=["GET", "DELETE"]),
            ]
        )


@pytest.fixture
def cleaned(serve_app: Any, listener: Any) -> tuple[FuzzReport, Service, Any]:
    service = Service(other_origin=f"{listener.url}{OPERATIONS}/x")
    url = serve_app(service.app())
    target = url_target(url, token="t", scope=SCOPE)
    for name in sorted(service.alive):
        target.guard.note_response("PUT", f"{url}{PARENT}/{name}?api-version=2024-07-01", 201)
    report = FuzzReport("service")
    with target.open_session() as session:
        clean_up(target, session, "2024-07-01", report, sleep=lambda seconds: None)
    return report, service, target


def _line(report: FuzzReport, name: str) -> str:
    return next(line for line in report.cleanup if f"/{name}" in line)


def test_a_finished_delete_is_confirmed_gone(cleaned: tuple[FuzzReport, Service, Any]) -> None:
    report, service, target = cleaned
    assert _line(report, "fuzz-gone").endswith(": 204, gone")
    assert _line(report, "fuzz-slow").endswith(": 202, operation succeeded after 3 polls, gone")
    assert service.polls["fuzz-slow"] == 3
    left = {path.rsplit("/", 1)[1] for path in target.guard.created()}
    assert left == {"fuzz-redirect", "fuzz-failing", "fuzz-away", "fuzz-silent"}


def test_a_redirect_is_not_done(cleaned: tuple[FuzzReport, Service, Any]) -> None:
    report, service, _ = cleaned
    assert "302 (redirects are not followed)" in _line(report, "fuzz-redirect")
    assert not any("elsewhere" in request for request in service.requests)


def test_what_remains_is_reported_and_fails_the_run(cleaned: tuple[FuzzReport, Service, Any]) -> None:
    report, _, _ = cleaned
    assert "remains: DELETE" in _line(report, "fuzz-failing")
    assert "operation failed after 3 polls; a GET still answers 200" in _line(report, "fuzz-failing")
    assert "answered 202 with no operation to poll" in _line(report, "fuzz-silent")
    assert sorted(path.rsplit("/", 1)[1] for path in report.remaining) == [
        "fuzz-away",
        "fuzz-failing",
        "fuzz-redirect",
        "fuzz-silent",
    ]
    assert report.failed()
    assert "clean-up left 4 run command(s)" in report.render()


def test_an_operation_url_off_the_target_is_not_polled(cleaned: tuple[FuzzReport, Service, Any], listener: Any) -> None:
    report, _, _ = cleaned
    assert "not on the target's origin (not polled)" in _line(report, "fuzz-away")
    assert listener.seen == []
