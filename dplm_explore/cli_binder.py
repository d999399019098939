"""``dplm-explore binder-url``: the Binder link of this checkout's GitHub repository.

A fork gets its own link: the owner and name come from the git remote (``origin`` by default),
the branch from ``--branch``; the link opens the explorer notebook in JupyterLab."""

from __future__ import annotations

import re
import subprocess

__all__ = ["binder_url", "register"]

NOTEBOOK = "notebooks/00_explorer.ipynb"
_GITHUB = re.compile(r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")


def binder_url(remote: str, branch: str = "main", notebook: str = NOTEBOOK) -> str:
    """The mybinder.org link of a GitHub ``remote`` (https or ssh form)."""
    m = _GITHUB.match(remote.strip())
    if not m:
        raise ValueError(f"--remote must be a GitHub repository URL (https://github.com/OWNER/REPO or git@github.com:OWNER/REPO.git); got {remote!r}")
    if not re.fullmatch(r"[\w./-]+", branch):
        raise ValueError(f"--branch must be a branch name; got {branch!r}")
    return f"https://mybinder.org/v2/gh/{m.group(1)}/{m.group(2)}/{branch}?urlpath=lab/tree/{notebook}"


def _cmd(args) -> int:
    remote = args.remote
    if remote is None:
        r = subprocess.run(["git", "remote", "get-url", args.name], capture_output=True, text=True)
        if r.returncode != 0:
            raise ValueError(f"no git remote {args.name!r} here (give --remote https://github.com/OWNER/REPO)")
        remote = r.stdout.strip()
    print(binder_url(remote, args.branch))
    return 0


def register(sub) -> None:
    p = sub.add_parser("binder-url", help="print the Binder link of this checkout's GitHub repository (works for forks)")
    p.add_argument("--remote", default=None, help="GitHub URL (default: the URL of git remote --name)")
    p.add_argument("--name", default="origin", help="git remote to read (default origin)")
    p.add_argument("--branch", default="main", help="branch to launch (default main)")
    p.set_defaults(func=_cmd)

