"""Finding ``az`` and seeding its version cache, without the real CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pytest_runcommand.azcli import AZ_ENV_VAR, find_az, seed_version_cache
from pytest_runcommand.errors import RunCommandError


def executable(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


def test_find_az_prefers_the_environment_variable(tmp_path: Path) -> None:
    fake = executable(tmp_path / "az", "#!/bin/sh\n")
    assert find_az({AZ_ENV_VAR: str(fake), "PATH": ""}) == str(fake)
    assert find_az({AZ_ENV_VAR: f"  {fake}  ", "PATH": ""}) == str(fake)
    assert find_az({"PATH": str(tmp_path)}) == str(fake)
    assert find_az({AZ_ENV_VAR: " ", "PATH": str(tmp_path)}) == str(fake)  # blank: as if unset
    assert find_az({"PATH": str(tmp_path / "none")}) is None


@pytest.mark.parametrize("kind", ["missing", "directory", "not executable"])
def test_a_wrong_environment_variable_is_named(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "az"
    if kind == "directory":
        target.mkdir()
    elif kind == "not executable":
        target.write_text("#!/bin/sh\n", encoding="utf-8")
        target.chmod(0o644)
    with pytest.raises(RunCommandError, match=f"\\${AZ_ENV_VAR}=.*is not an executable file") as raised:
        find_az({AZ_ENV_VAR: str(target), "PATH": ""})
    assert str(target) in str(raised.value)


def test_seed_version_cache_records_the_installed_versions(tmp_path: Path) -> None:
    """The cache is what a CLI writes after its own update check: the installed versions, checked now."""
    site = tmp_path / "site"
    for dist, version in (("azure_cli", "2.91.0"), ("azure_cli_core", "2.91.0")):
        info = site / f"{dist}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    python = executable(tmp_path / "python3", f'#!/bin/sh\nPYTHONPATH="{site}" exec "{sys.executable}" "$@"\n')
    az = executable(tmp_path / "az", f"#!{python}\nprint('az')\n")
    config = tmp_path / "config"
    config.mkdir()

    assert seed_version_cache(str(az), config)

    cache = json.loads((config / "versionCheck.json").read_text(encoding="utf-8"))
    assert cache["versions"] == {"azure-cli": {"local": "2.91.0"}, "core": {"local": "2.91.0"}}
    assert cache["update_time"] == cache["check_time"]


@pytest.mark.parametrize("first_line", ["#!/bin/sh", "no shebang", "#!", "#!/nonexistent/python3"])
def test_seed_version_cache_declines_what_it_cannot_read(tmp_path: Path, first_line: str) -> None:
    az = executable(tmp_path / "az", f"{first_line}\n")
    assert not seed_version_cache(str(az), tmp_path)
    assert not (tmp_path / "versionCheck.json").exists()


def test_seed_version_cache_declines_a_python_without_the_cli(tmp_path: Path) -> None:
    python = executable(tmp_path / "python3", f'#!/bin/sh\nexec "{sys.executable}" -I "$@"\n')
    az = executable(tmp_path / "az", f"#!{python}\n")
    assert not seed_version_cache(str(az), tmp_path)
    assert not seed_version_cache(str(tmp_path / "missing"), tmp_path)
