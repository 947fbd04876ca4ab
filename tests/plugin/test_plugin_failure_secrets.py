"""A failed test's report shows no secret: the terminal, the short summary, ``-l`` locals, captured output and
``--junitxml``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SENTINEL = "SentinelFail-Q7w6E5"

MODULE = textwrap.dedent(
    f"""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import httpx
    import pytest

    SIG = "{SENTINEL[:6]}" + "{SENTINEL[6:]}"  # the file never holds the sentinel whole


    class Forbidden(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()


    @pytest.fixture
    def server():
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Forbidden)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{{httpd.server_address[1]}}"
        httpd.shutdown()


    @pytest.mark.vcr
    def test_refused_blob(server):
        url = server + "/c/b?sv=2020-01-01&sp=r&sig=" + SIG
        print("calling", url)
        httpx.get(url).raise_for_status()


    def test_assertion_naming_a_password():
        body = {{"properties": {{"runAsPassword": SIG}}}}
        assert body == {{}}


    def test_passes():
        pass
    """
)


def run(tmp_path: Path, *options: str, module: str = MODULE, name: str = "test_failures.py") -> tuple[int, str]:
    (tmp_path / name).write_text(module)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--record-mode=once", *options],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "250"},  # the short summary's lines whole
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("options", [[], ["-l", "-rA", "--tb=long"], ["--tb=short"], ["--tb=line"]])
def test_a_failed_tests_report_holds_no_secret(tmp_path: Path, options: list[str]) -> None:
    code, output = run(tmp_path, "--junitxml=report.xml", *options)
    assert code == 1, output
    assert "2 failed, 1 passed" in output
    assert "sig=REDACTED" in output  # the failure still says what was called
    assert SENTINEL not in output
    report = (tmp_path / "report.xml").read_text()
    assert "sig=REDACTED" in report
    assert SENTINEL not in report


def test_the_short_summary_keeps_the_crash_message(tmp_path: Path) -> None:
    code, output = run(tmp_path, "-rf")
    summary = output.split("short test summary info", 1)[1]
    assert code == 1
    assert "FAILED test_failures.py::test_refused_blob - httpx.HTTPStatusError: Client error '403 Forbidden'" in summary
    assert SENTINEL not in output


def test_under_xdist_the_controllers_report_holds_no_secret(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    code, output = run(tmp_path, "-n", "2", "--junitxml=report.xml")
    assert code == 1, output
    assert SENTINEL not in output
    assert SENTINEL not in (tmp_path / "report.xml").read_text()


def test_a_sanitized_traceback_keeps_its_colours(tmp_path: Path) -> None:
    code, output = run(tmp_path, "--color=yes", "-l")
    assert code == 1
    assert SENTINEL not in output
    assert "sig=REDACTED" in output
    bold_red_path = "\x1b[1m\x1b[31mtest_failures.py\x1b[0m:"
    assert output.count(bold_red_path) == 2  # each failure's crash location, as pytest colours it


CUSTOM_ITEM = textwrap.dedent(
    f"""
    import pytest

    SIG = "{SENTINEL[:6]}" + "{SENTINEL[6:]}"


    class Check(pytest.Item):
        def runtest(self):
            raise RuntimeError("refused")

        def repr_failure(self, excinfo):
            return "GET https://example.blob.core.windows.net/c/b?sv=2020-01-01&sig=" + SIG + " was refused"

        def reportinfo(self):
            return self.path, 0, self.name


    class CheckFile(pytest.File):
        def collect(self):
            yield Check.from_parent(self, name="check")


    def pytest_collect_file(parent, file_path):
        if file_path.suffix == ".check":
            return CheckFile.from_parent(parent, path=file_path)
    """
)


def test_a_failure_of_another_shape_is_shown_as_its_sanitized_text(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CUSTOM_ITEM)
    (tmp_path / "blob.check").write_text("")
    code, output = run(tmp_path, "--junitxml=report.xml", "blob.check")
    assert code == 1, output
    assert "sig=REDACTED was refused" in output
    assert SENTINEL not in output
    assert SENTINEL not in (tmp_path / "report.xml").read_text()


# Review 14, findings 13, 18 and 19: a secret whose key is on another line (pretty-printed JSON, YAML, pprint), a
# secret's head or tail kept by pytest's shortened repr with its key cut off, and free-text ``password=...`` pairs.
SHAPED = {
    "PW": "PrettyPw-1Qz8Vx4K",
    "PROT": "PrettyProt-2Lm7Tc5R",
    "YAMLPROT": "YamlProt-3Hd6Wn2P",
    "SIG": "TruncSigLEAK-4Bf9Js3Yabcdefghijklmnop%3D",
    "TPW": "TruncPw-5Kx2Gv8N-123456789",
    "TPROT": "TruncProt-6Rw4Mq7C-987654321",
    "URLPW": "UrlPw-7Np3Ds6H",
    "KV": "KeyValue-8Vt5Lb9Q",
}
"""Each value unique to its shape; the module below builds each from two halves, so its source never holds one."""

SHAPED_MODULE = "\n".join(
    [
        "import json, pprint",
        "import pytest",
        *(f'{name} = "{value[:5]}" + "{value[5:]}"' for name, value in SHAPED.items()),
        'BODY = {"properties": {"runAsPassword": PW, "protectedParameters": [{"name": "k", "value": PROT}]}}',
        textwrap.dedent(
            """
            def test_pretty_json():
                print(json.dumps(BODY, indent=4))
                assert False, json.dumps(BODY, indent=2)

            def test_yaml():
                print("properties:\\n  protectedParameters:\\n  - name: k\\n    value: " + YAMLPROT + "\\n  timeoutInSeconds: 1")
                assert False

            def test_pprint():
                pprint.pprint(BODY, width=30)
                assert False

            def test_shortened_sas():
                uri = "https://acct.blob.core.windows.net/container/script.sh?sv=2022-11-02&sr=b&sig=" + SIG
                assert uri == "x"

            def test_shortened_body():
                body = json.dumps({"properties": {"runAsPassword": TPW}})
                assert body == "x"

            def test_shortened_protected():
                body = json.dumps({"properties": {"protectedParameters": [{"name": "n", "value": TPROT}]}})
                assert body == "x"

            def test_shortened_url_password():
                assert "https://host.example/callback?password=" + URLPW + "&x=1" == "x"

            @pytest.mark.parametrize("form", ["password={}", "password: {}", "Password = {}", "{{'password': '{}'}}",
                                              "adminPassword={}", "AccountName=a;AccountKey={};EndpointSuffix=x"])
            def test_key_value(form):
                assert form.format(KV) == ""
            """
        ),
    ]
)


@pytest.mark.parametrize("options", [[], ["-l", "-rA", "--tb=long"], ["--color=yes"], ["-vv"]])
def test_secrets_of_other_shapes_appear_nowhere_not_even_in_part(tmp_path: Path, options: list[str]) -> None:
    _, output = run(tmp_path, "--junitxml=report.xml", *options, module=SHAPED_MODULE, name="test_shapes.py")
    shown = output + (tmp_path / "report.xml").read_text()
    assert "13 failed" in output, output[-3000:]
    for name, value in SHAPED.items():
        for part in (value, value[:9], value[-8:]):
            assert part not in shown, f"{name}: {part!r} shown"
