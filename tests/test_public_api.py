"""The public face: one table of exported names, cheap to import, proved equal to what type checkers read.

``tests/typing/public_api_usage.py`` (typical use of the API) is type-checked by the one mypy run of
``tests/test_code_quality.py``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import pytest_runcommand
from pytest_runcommand import errors

INIT = Path(pytest_runcommand.__file__)


def _type_checking_imports() -> dict[str, str]:
    """name -> module of every import in ``__init__``'s ``if TYPE_CHECKING:`` block."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    found: dict[str, str] = {}
    for node in ast.walk(block):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                assert alias.asname in (None, alias.name), f"{alias.name} re-exported under another name"
                assert alias.asname == alias.name, f"{alias.name}: write `import {alias.name} as {alias.name}`"
                found[alias.name] = str(node.module)
    return found


def test_all_is_the_table() -> None:
    assert pytest_runcommand.__all__ == ["__version__", *pytest_runcommand.PUBLIC]
    assert len(set(pytest_runcommand.__all__)) == len(pytest_runcommand.__all__)
    assert sorted(dir(pytest_runcommand)) == sorted(pytest_runcommand.__all__)


def test_what_type_checkers_read_is_the_table() -> None:
    assert _type_checking_imports() == pytest_runcommand.PUBLIC


@pytest.mark.parametrize("name", sorted(pytest_runcommand.PUBLIC))
def test_each_name_is_its_home_modules_public_object(name: str) -> None:
    home = importlib.import_module(pytest_runcommand.PUBLIC[name])
    assert name in getattr(home, "__all__", ()), f"{name} is not public in {home.__name__}"
    # while a test runs, the plugin observes direct validation calls through a wrapper of the same function
    assert inspect.unwrap(getattr(pytest_runcommand, name)) is inspect.unwrap(getattr(home, name))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'validate'"):
        pytest_runcommand.validate  # noqa: B018


def test_importing_the_package_loads_no_validator() -> None:
    heavy = ("jsonschema_rs", "orjson", "pydantic", "httpx", "pytest_runcommand.contract")
    code = f"import sys, pytest_runcommand; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _package_exceptions() -> set[type[BaseException]]:
    for module in pkgutil.walk_packages(pytest_runcommand.__path__, "pytest_runcommand."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: set[type[BaseException]] = set()
    stack: list[type[BaseException]] = [Exception]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("pytest_runcommand.") and not sub.__name__.startswith("_") and _current(sub):
                found.add(sub)
    return found


def _current(cls: type[BaseException]) -> bool:
    """Whether ``cls`` is its module's class now, not a stale copy.

    An in-process ``pytester`` run drops the modules it imported when it ends, so a module first imported there is
    imported again later, and the classes of its first copy live on as subclasses.
    """
    found: object = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is cls


def test_the_exception_tree_is_drawn_whole_in_errors_py() -> None:
    drawing = errors.__doc__ or ""
    tree = {cls for cls in _package_exceptions() if issubclass(cls, errors.RunCommandError | errors.RunCommandWarning)}
    assert len(tree) >= 4
    for cls in tree:
        line = next((text for text in drawing.splitlines() if f" {cls.__name__} " in f" {text.strip()} "), None)
        assert line is not None, f"{cls.__module__}.{cls.__name__} is not drawn in errors.py"
        home = cls.__module__.removeprefix("pytest_runcommand.")
        assert cls.__module__ == "pytest_runcommand.errors" or home in line, f"{cls.__name__}: name {home}"


def test_every_exception_a_caller_can_meet_is_in_the_tree() -> None:
    from pytest_runcommand.emulator.errors import ServiceError

    outside = {
        f"{cls.__module__}.{cls.__name__}"
        for cls in _package_exceptions()
        if not issubclass(
            cls, errors.RunCommandError | errors.RunCommandWarning | ServiceError
        )  # ServiceError: an HTTP answer
    }
    assert outside <= KNOWN_OUTSIDE, f"join the tree in errors.py (or say why not): {sorted(outside - KNOWN_OUTSIDE)}"


KNOWN_OUTSIDE = {
    # Listed so that a new exception outside the tree fails here.
    # schemathesis check failures: they belong to schemathesis's own tree and end up in a FuzzFailure report
    "pytest_runcommand.fuzz.checks.ContractFailure",
    "pytest_runcommand.fuzz.checks.ResourceUnavailable",
    # control flow of a live fuzz run, caught by the runner (never reach a caller)
    "pytest_runcommand.fuzz.live.BudgetExhausted",
    "pytest_runcommand.fuzz.live.GuardRefusal",
    # a requests error of a URL target's session (an answer past the bound), which the runner turns into a
    # target_answers finding like a timeout (never reaches a caller)
    "pytest_runcommand.fuzz.unanswered.AnswerTooLarge",
    # a requests ConnectionError (an http target closed the connection before the run's first answer): the network
    # errors of the setup are requests' own, as for a target where nothing listens; both routes say it in one line
    "pytest_runcommand.fuzz.unanswered.NoFirstAnswer",
    # its kind: the TLS emulator's answer to http:// as the run's first answer, said in one line the same way
    "pytest_runcommand.fuzz.unanswered.SpeaksTls",
    # raised into hypothesis so a recorded failure is saved and shrunk; hypothesis catches it
    "pytest_runcommand.fuzz.replay.FindingRaised",
    # the emulator's control flow: a client gone before its body was whole; the app catches it and answers no one
    "pytest_runcommand.emulator.asgi.ClientGone",
}


def _lazy_packages() -> list[str]:
    """Every subpackage whose ``__init__`` builds its face with ``lazy_exports``."""
    found = []
    for module in pkgutil.walk_packages(pytest_runcommand.__path__, "pytest_runcommand."):
        spec = importlib.util.find_spec(module.name)
        if module.ispkg and spec is not None and spec.origin and "lazy_exports" in Path(spec.origin).read_text():
            found.append(module.name)
    return sorted(found)


LAZY_PACKAGES = _lazy_packages()


@pytest.mark.parametrize("package", ["pytest_runcommand", *LAZY_PACKAGES])
def test_every_lazily_exported_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__, package
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"
    assert sorted(dir(module)) == sorted(module.__all__)
