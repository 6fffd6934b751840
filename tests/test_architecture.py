"""The package's layers hold, and the check that says so can fail.

pyproject.toml's `[tool.importlinter]` states the layer order once; scripts/test.sh (so `.ci/run`) runs
`lint-imports` on it after ruff. Here the same command runs on this tree, which must keep every contract,
and on a copy of the package with deliberate defects, each of which must break its contract by name: an
upward import (a tt module importing the pipeline), a top-level module placed in no layer, an import cycle
through a package's `__init__` (which the built-in `acyclic_siblings` cannot see), the product
importing harness code from scripts/, and Ray (an optional extra) imported outside batch/ray_workers.py.
To see a failure by hand, add `import openvoice_tt.pipeline` to any file in openvoice_tt/tt/ and run
`lint-imports` from the repository root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")  # the dev extra installs it beside python


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` as scripts/test.sh runs it, on the `openvoice_tt` and pyproject.toml under `root`."""
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "1000"}  # no line wrapped inside a message
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def test_this_tree_keeps_every_contract() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_each_deliberate_defect_breaks_its_contract_by_name(tmp_path: Path) -> None:
    shutil.copytree(REPO / "openvoice_tt", tmp_path / "openvoice_tt", ignore=_not_python)
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "import_contracts.py", tmp_path / "scripts")
    shutil.copy(REPO / "pyproject.toml", tmp_path)

    take = tmp_path / "openvoice_tt" / "tt" / "take.py"
    lines = take.read_text().count("\n")
    with take.open("a") as f:
        f.write("import openvoice_tt.pipeline  # upward: tt may not know the pipeline\n")
        f.write("import scripts.tt_harness  # the product importing harness code\n")
    (tmp_path / "openvoice_tt" / "unplaced.py").write_text('"""A new module that no layer names."""\n')
    workers = tmp_path / "openvoice_tt" / "batch" / "workers.py"
    workers.write_text(workers.read_text() + "import ray  # the optional extra, outside batch/ray_workers.py\n")
    g2p = tmp_path / "openvoice_tt" / "text" / "g2p.py"
    g2p.write_text(g2p.read_text() + "from openvoice_tt.text import normalize_text  # text/__init__ imports g2p\n")
    result = lint_imports(tmp_path)
    out = result.stdout

    assert result.returncode == 1, out + result.stderr
    assert "openvoice_tt.tt is not allowed to import openvoice_tt.pipeline" in out
    assert f"openvoice_tt.tt.take -> openvoice_tt.pipeline (l.{lines + 1})" in out
    assert "not listed as layers:\n\n- openvoice_tt.unplaced" in out
    assert "Import cycle among openvoice_tt.text, openvoice_tt.text.frontend, openvoice_tt.text.g2p" in out
    assert "openvoice_tt.text.g2p -> openvoice_tt.text (l." in out
    assert "openvoice_tt.tt.take -> scripts" in out
    assert "openvoice_tt is not allowed to import ray" in out and "openvoice_tt.batch.workers -> ray (l." in out
    assert "Contracts: 1 kept, 4 broken." in out  # broken: layers, acyclic-modules, no-harness, ray; the copy is sound


def _not_python(folder: str, names: list[str]) -> list[str]:
    """What the import graph does not need (data files, caches): copying the package stays fast."""
    return [n for n in names if n == "__pycache__" or not (n.endswith(".py") or (Path(folder) / n).is_dir())]
