"""The fuzz schema's request URL without ``urljoin`` (:mod:`pytest_runcommand.fuzz.request_url`) is schemathesis's own,
for any path and base URL, and for every case of a campaign."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from schemathesis.generation.case import Case
from schemathesis.schemas import BaseSchema

from pytest_runcommand.fuzz.request_url import request_url_without_join
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.schema import build_schema
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import emulator_target

BASES = (
    "http://testserver",
    "http://testserver/",
    "https://management.azure.com",
    "http://127.0.0.1:8080/base/path",
    "http://[::1]:443/v1/",
    "http://h/a/../b/",
    "http://h/./",
    "http://h//x/",
    "http://h/%41/",
    "http://user@h/",
    "http://h/a;p/",
    "http://h?q=1",
    "HTTP://H/",
    "ftp://h/",
)


def _schemathesis_url(base_url: str, path: str) -> str:
    case = SimpleNamespace(path=path, path_parameters={})
    return BaseSchema.build_request_url(None, case, base_url)  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(
    base=st.sampled_from(BASES),
    path=st.text(alphabet=st.sampled_from("/.%?#;:@a2F é\\\t~+-_"), max_size=12),
)
@example(base="http://testserver", path="/a//b")
@example(base="http://testserver", path="/a/./b")
@example(base="http://testserver", path="/a/..")
@example(base="http://testserver", path="..")
@example(base="http://testserver", path="/a/")
@example(base="http://testserver", path="")
@example(base="http://testserver", path="/a%2Fb?c#d")
@example(base="http://testserver", path="/\udc80")
def test_the_url_is_schemathesis_own(base: str, path: str) -> None:
    fast = request_url_without_join(base, path)
    try:
        expected = _schemathesis_url(base, path)
    except UnicodeEncodeError:
        assert fast is None
        return
    assert fast is None or fast == expected


def test_plain_paths_take_the_shortcut() -> None:
    assert request_url_without_join("http://testserver", "/subscriptions/0/x%20y?/z") == (
        "http://testserver/subscriptions/0/x%20y?/z"
    )
    assert request_url_without_join("http://testserver", "/a//b") is None
    assert request_url_without_join("http://h/a/../", "/b") is None
    assert request_url_without_join("http://testserver", "/é") is None


def test_every_case_of_a_campaign_gets_schemathesis_own_url() -> None:
    seen: list[tuple[str, str]] = []

    class Looking(FuzzRunner):
        def send(self, case: Case[Any], **kwargs: Any) -> Any:
            base = self.schema.config.base_url or ""
            seen.append(
                (self.schema.build_request_url(case, base), BaseSchema.build_request_url(self.schema, case, base))
            )
            return super().send(case, **kwargs)

    Looking(emulator_target(), FuzzSettings(max_examples=5, stateful=False)).run()
    assert len(seen) > 100
    assert all(ours == theirs for ours, theirs in seen)


def test_the_fuzz_schema_has_it() -> None:
    schema = build_schema(base_url="http://testserver")
    assert "build_request_url" in vars(schema)
