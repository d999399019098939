"""``dplm-explore app``: the explorer served by Voila on localhost.

The numba kernels are compiled (or loaded from their cache) before Voila starts, so the page
appears quickly; Voila runs the explorer notebook shipped in the package with the configuration
passed in the ``DPLM_EXPLORER`` environment variable.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

__all__ = ["free_port", "prewarm", "voila_command", "serve", "NOTEBOOK"]

NOTEBOOK = "explorer.ipynb"
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


def voila_command(port: int, host: str = "127.0.0.1", open_browser: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "voila", str(notebook_path()), f"--port={port}", f"--Voila.ip={host}", "--show_tracebacks=True",
           f"--template={TEMPLATE}"]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def serve(*, host: str = "127.0.0.1", port: int = 8866, config: dict | None = None, open_browser: bool = False, quiet: bool = False) -> int:
    """Run the explorer on ``http://host:port/`` until interrupted (Ctrl-C); returns Voila's
    exit code."""
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    say("dplm-explore: preparing the kernels (the first run compiles them, about half a minute) ...")
    say(f"dplm-explore: kernels ready in {prewarm():.1f} s")
    port = free_port(host, port)
    env = dict(os.environ)
    env["DPLM_EXPLORER"] = json.dumps(config or {})
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(template_root()), env.get("JUPYTER_PATH", "")) if p)
    url = f"http://{host}:{port}/"
    proc = subprocess.Popen(voila_command(port, host, open_browser), env=env)
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
