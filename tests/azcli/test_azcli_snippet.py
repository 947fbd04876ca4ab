"""The shell snippet that points a person's own ``az`` at a served emulator."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_runcommand.azcli import CliLogin, render_cli_snippet, served_cli_snippet, write_cli_snippet
from pytest_runcommand.emulator.identity import Directory


def test_snippet_quotes_paths_and_lists_every_step() -> None:
    login = CliLogin("t-1", "c-1", "se cret")
    snippet = render_cli_snippet("https://127.0.0.1:8443", "/tmp/my ca.pem", login)
    assert "export REQUESTS_CA_BUNDLE='/tmp/my ca.pem'" in snippet
    assert 'export AZURE_CONFIG_DIR="$(mktemp -d)"' in snippet
    assert "AZURE_CORE_INSTANCE_DISCOVERY=false" in snippet
    assert (
        "--endpoint-resource-manager https://127.0.0.1:8443/ --endpoint-active-directory https://127.0.0.1:8443 "
        in snippet
    )
    assert "az cloud set --name RunCommandEmulator" in snippet
    assert "az login --service-principal --username c-1 '--password=se cret' --tenant t-1" in snippet


text = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1)


@pytest.mark.skipif(not Path("/bin/sh").exists(), reason="needs a POSIX shell")
@given(ca=text, config=text, secret=text)
def test_the_shell_reads_back_exactly_what_was_given(ca: str, config: str, secret: str) -> None:
    """Any CA path, config dir or secret survives the shell's quoting (no word splitting, no expansion)."""
    snippet = render_cli_snippet("https://127.0.0.1:1", ca, CliLogin("t", "c", secret), config_dir=config)
    probe = snippet.replace("az login ", "printf '%s\\n' ")
    script = f'az() {{ :; }}\n{probe}printf "%s\\n" "$REQUESTS_CA_BUNDLE" "$AZURE_CONFIG_DIR"\n'
    done = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    assert f"--password={secret}" in lines
    assert lines[-3:-1] == [ca, config]
    assert shlex.split(snippet.splitlines()[1])[1] == f"AZURE_CONFIG_DIR={config}"


def test_served_snippet_signs_in_as_the_directory_principal() -> None:
    directory = Directory.default("chosen-secret")
    snippet = served_cli_snippet("https://127.0.0.1:1", "/ca.pem", directory)
    principal = directory.principal
    assert f"--username {principal.client_id} --password=chosen-secret --tenant {principal.tenant_id}" in snippet


def test_written_snippet_is_private(tmp_path: Path) -> None:
    target = tmp_path / "deeper" / "emulator.env"
    target.parent.mkdir()
    target.write_text("old and longer\n" * 10, encoding="utf-8")
    target.chmod(0o644)
    write_cli_snippet(target, "export X=1\n")
    assert target.read_text(encoding="utf-8") == "export X=1\n"
    assert target.stat().st_mode & 0o777 == 0o600
    write_cli_snippet(tmp_path / "new" / "dir" / "az.env", "y\n")
    assert (tmp_path / "new" / "dir" / "az.env").stat().st_mode & 0o777 == 0o600
