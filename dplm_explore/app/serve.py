"""``dplm-explore app``: the explorer served by Voila on localhost.

The numba kernels are compiled (or loaded from their cache) before Voila starts, so the page
appears quickly; Voila runs the explorer notebook shipped in the package with the configuration
passed in the ``DPLM_EXPLORER`` environment variable.

Who can open it: the server listens on 127.0.0.1 and asks for a token (a fresh random one,
printed in the URL, like Jupyter's), so another local user cannot open a page or start a kernel;
listening on another interface needs ``allow_remote=True`` (CLI ``--allow-remote``) and prints a
warning. Visitors never see tracebacks. At most ``max_kernels`` pages run at once (a further page
gets HTTP 503), and kernels idle for ``cull_idle_s`` (a closed or reloaded page) are shut down.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

from ..parallel import die_with_parent

__all__ = ["free_port", "prewarm", "voila_command", "serve", "NOTEBOOK"]

NOTEBOOK = "explorer.ipynb"
#: pages (kernels) served at once; idle kernels shut down after this many seconds, checked this often
MAX_KERNELS = 4
CULL_IDLE_S = 120
CULL_INTERVAL_S = 30
#: environment variable that carries the kernel cap to the pre-launch hook in the Voila process
_CAP_ENV = "DPLM_EXPLORER_MAX_KERNELS"
TEMPLATE = "dplm-offline"  # Voila's lab template without CDN links (app/templates/voila/templates)


def free_port(host: str, start: int, tries: int = 50) -> int:
    """The first port from ``start`` on that can be bound on ``host``."""
    for port in range(start, start + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise ValueError(f"no free port in [{start}, {start + tries}) on host {host!r}")


def prewarm() -> float:
    """Compile (or load from the cache) every kernel the explorer uses; returns seconds."""
    from .runner import ProgramConfig, Runner, SystemConfig

    t0 = time.perf_counter()
    r = Runner.create(SystemConfig(L=8, phi_v=0.1, T_I=0.2), ProgramConfig("hold", 0.2), hops_per_frame=2000, window_hops=1000)
    r.follow([0])
    r.step()
    r.step()
    return time.perf_counter() - t0


def notebook_path() -> Path:
    return Path(str(resources.files("dplm_explore.app").joinpath(NOTEBOOK)))


def template_root() -> Path:
    """Directory to put on ``JUPYTER_PATH`` so Voila finds the offline template."""
    return Path(str(resources.files("dplm_explore.app").joinpath("templates")))


def voila_config_dir() -> Path:
    """Folder holding the ``voila.py`` that installs :func:`prelaunch_hook` (on JUPYTER_CONFIG_PATH)."""
    return Path(str(resources.files("dplm_explore.app").joinpath("voila_config")))


def prelaunch_hook(req, notebook, cwd) -> None:
    """Voila pre-launch hook: refuse a new page (HTTP 503) when ``MAX_KERNELS`` kernels run."""
    from tornado.web import HTTPError

    cap = int(os.environ.get(_CAP_ENV, MAX_KERNELS))
    running = len(req.kernel_manager.list_kernel_ids())
    if running >= cap:
        raise HTTPError(503, f"{running} explorer pages are open (at most {cap}); close one or wait {CULL_IDLE_S} s for an idle one to stop")


def is_local(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def voila_command(port: int, host: str = "127.0.0.1", open_browser: bool = False, token: str = "") -> list[str]:
    cmd = [sys.executable, "-m", "voila", str(notebook_path()), f"--port={port}", f"--Voila.ip={host}", "--show_tracebacks=False",
           f"--template={TEMPLATE}", f"--Voila.token={token}", f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_S}",
           f"--MappingKernelManager.cull_interval={CULL_INTERVAL_S}", "--MappingKernelManager.cull_connected=True"]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def serve(*, host: str = "127.0.0.1", port: int = 8866, config: dict | None = None, open_browser: bool = False, quiet: bool = False,
          token: str | None = None, allow_remote: bool = False, max_kernels: int = MAX_KERNELS) -> int:
    """Run the explorer on ``http://host:port/?token=...`` until interrupted (Ctrl-C); returns
    Voila's exit code. ``token``: None draws a fresh one; '' switches the token off (local use
    only)."""
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    if not is_local(host) and not allow_remote:
        raise ValueError(f"host {host!r} is not a loopback address; pass allow_remote=True (CLI: --allow-remote) to serve other machines")
    if token == "" and not is_local(host):
        raise ValueError("an empty token is allowed on a loopback host only")
    if isinstance(max_kernels, bool) or not isinstance(max_kernels, int) or max_kernels < 1:
        raise ValueError(f"max_kernels must be a positive integer; got {max_kernels!r}")
    token = secrets.token_urlsafe(24) if token is None else token
    if not is_local(host):
        say(f"dplm-explore: WARNING: serving on {host}: anyone who can reach this machine and has the token can run the explorer")
    say("dplm-explore: preparing the kernels (the first run compiles them, about half a minute) ...")
    say(f"dplm-explore: kernels ready in {prewarm():.1f} s")
    port = free_port(host, port)
    env = dict(os.environ)
    env["DPLM_EXPLORER"] = json.dumps(config or {})
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(template_root()), env.get("JUPYTER_PATH", "")) if p)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(p for p in (str(voila_config_dir()), env.get("JUPYTER_CONFIG_PATH", "")) if p)
    env[_CAP_ENV] = str(max_kernels)
    env.setdefault("DPLM_EXPORT_ROOT", os.getcwd())  # exports land where the app was started, never elsewhere
    url = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
    proc = subprocess.Popen(voila_command(port, host, open_browser, token), env=env, preexec_fn=die_with_parent)
    say(f"dplm-explore: the explorer is at {url}  (Ctrl-C stops it)")

    def on_term(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)  # stopping us stops Voila and its kernels
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
