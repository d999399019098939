"""Re-run the teaching notebooks and store the outputs of their checked cells (nbval).

Only cells tagged ``nbval-check-output`` keep their outputs (the tables of docs/reproduction.md,
theory checks); every other cell is stored without outputs. Run after the shipped data change:

    DPLM_QUICK=1 python scripts/refresh_notebook_outputs.py notebooks/0[1-6]*.ipynb
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def refresh(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        if "nbval-check-output" not in cell.metadata.get("tags", []):
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(nb, path)
    print(f"refreshed {path}")


if __name__ == "__main__":
    os.environ.setdefault("DPLM_QUICK", "1")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    for arg in sys.argv[1:]:
        refresh(Path(arg))
