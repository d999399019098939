"""The Binder spec (binder/): a fast check of the files, and (slow) a fresh virtual environment
built the way repo2docker builds it, running postBuild and the notebooks with nbval."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def test_binder_spec_files():
    reqs = [ln.strip() for ln in (BINDER / "requirements.txt").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert reqs == ["-e .[app]"]  # relative to the repository root, as repo2docker runs pip
    assert (BINDER / "runtime.txt").read_text().strip() == f"python-{sys.version_info.major}.{sys.version_info.minor}" == "python-3.11"
    for script in ("postBuild", "start"):
        p = BINDER / script
        assert os.access(p, os.X_OK), f"binder/{script} must be executable"
        assert p.read_text().startswith("#!/usr/bin/env bash")
        assert "NUMBA_CACHE_DIR" in p.read_text()
    assert 'exec "$@"' in (BINDER / "start").read_text()
    # postBuild compiles kernels through the public API only
    assert "from dplm_explore import" in (BINDER / "postBuild").read_text()


def test_binder_links_are_made_for_the_repository_at_hand():
    """No placeholder: the link comes from the git remote, for the upstream or any fork."""
    from dplm_explore.cli_binder import NOTEBOOK, binder_url

    readme = (ROOT / "README.md").read_text()
    assert "OWNER" not in readme and "dplm-explore binder-url" in readme
    assert (ROOT / NOTEBOOK).exists()
    want = "https://mybinder.org/v2/gh/alice/dplm-explore/main?urlpath=lab/tree/notebooks/00_explorer.ipynb"
    for remote in ("https://github.com/alice/dplm-explore", "https://github.com/alice/dplm-explore.git", "git@github.com:alice/dplm-explore.git",
                   "ssh://git@github.com/alice/dplm-explore.git"):
        assert binder_url(remote) == want
    assert binder_url("git@github.com:bob/fork.git", "dev").startswith("https://mybinder.org/v2/gh/bob/fork/dev?")
    for bad in ("https://gitlab.com/a/b", "not a url", "https://github.com/onlyowner"):
        with pytest.raises(ValueError, match="--remote must be a GitHub repository URL"):
            binder_url(bad)


@pytest.mark.slow
def test_binder_environment_runs_the_notebooks(tmp_path):
    """Fresh venv -> pip install -r binder/requirements.txt (from the repo root) -> postBuild ->
    pytest --nbval-lax notebooks/ with that venv's Python. Needs the package index (PyPI)."""
    venv = tmp_path / "venv"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update({"PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "VIRTUAL_ENV": str(venv), "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
                "HOME": str(tmp_path / "home"), "DPLM_QUICK": "1", "JUPYTER_PLATFORM_DIRS": "1"})
    (tmp_path / "home").mkdir()
    run = dict(cwd=ROOT, env=env, check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"], **run)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt", "pytest>=8", "nbval>=0.11"], **run)
    t_install = time.perf_counter() - t0
    subprocess.run(["bash", "binder/postBuild"], **run)
    assert any(Path(tmp_path / "numba").rglob("*.nbi")), "postBuild left no Numba cache"
    t_post = time.perf_counter() - t0 - t_install
    # the kernels import the venv's editable install, not this interpreter's
    out = subprocess.run([str(py), "-c", "import dplm_explore, sys; print(dplm_explore.__file__, sys.prefix)"], capture_output=True, text=True, **run).stdout
    assert str(venv) in out and str(ROOT) in out
    res = subprocess.run([str(py), "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-o", "testpaths=", "-W", "ignore::DeprecationWarning",
                          "--nbval-lax", "--nbval-sanitize-with", "notebooks/nbval_sanitize.cfg", "notebooks/", "-q"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    t_nb = time.perf_counter() - t0 - t_install - t_post
    print(f"binder test: install {t_install:.0f} s, postBuild {t_post:.0f} s, notebooks {t_nb:.0f} s")
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    shutil.rmtree(venv, ignore_errors=True)
