"""The dependency direction between capability packages, checked by import-linter's contracts.

The contracts live in pyproject.toml ([tool.importlinter]): `incident` never imports
`notifications`, nothing imports the composition roots, and inside each package the
capabilities import only those in the layers below them. A forbidden import or a cycle
between capabilities fails this test, naming the import and its line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
