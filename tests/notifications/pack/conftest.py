"""The `breach` command runner, and a Python with only `cryptography`, for the evidence-pack
tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.cli_support import breach  # noqa: F401  (fixture)

NEEDED = ("cryptography", "cffi", "_cffi_backend", "pycparser")
"""What `cryptography` needs at run time, copied from this environment into the fresh one."""


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with `cryptography` (and what it needs) and nothing else:
    not Breachdesk, not its other dependencies."""
    folder = tmp_path_factory.mktemp("bare-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    site = Path(sysconfig.get_paths()["purelib"])
    target = next((folder / "lib").glob("python3*/site-packages"))
    for path in site.iterdir():
        if path.name.split("-")[0].split(".")[0] in NEEDED:
            copy = shutil.copytree if path.is_dir() else shutil.copy2
            copy(path, target / path.name)
    python = folder / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import incident"], capture_output=True,
                           cwd=folder)
    assert probe.returncode != 0  # Breachdesk is not there
    return python
