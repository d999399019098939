"""nbval runs of the teaching notebooks: quick parameters, this checkout's package.

* ``DPLM_QUICK=1`` (unless already set) selects the notebooks' quick parameters.
* The repository root goes first on ``PYTHONPATH``, so the kernels import the package from this
  checkout (the same code the Python tests import) whatever the notebook's working directory.
* ``00_explorer.ipynb`` runs only when ``dplm_explore.app`` provides ``Explorer``.
"""

import os
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])
os.environ.setdefault("DPLM_QUICK", "1")
os.environ["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != ROOT])
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")  # silences jupyter_core's path-migration warning

collect_ignore = []
try:
    from dplm_explore.app import Explorer  # noqa: F401
except Exception:  # the explorer is not available (or not importable) in this checkout
    collect_ignore.append("00_explorer.ipynb")
