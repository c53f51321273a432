"""Serve the HCC Cohort Explorer as several Streamlit processes behind nginx.

One Streamlit process runs one script at a time per core at best (Python's GIL), so the app
scales out by processes: ``WORKERS`` Streamlit workers on loopback ports, and nginx on
``ADDRESS:PORT`` in front of them with sticky sessions (a cookie), WebSocket upgrade headers and
long read timeouts. nginx answers ``/healthz`` itself (liveness, fast while workers are busy) and
``/readyz`` from a worker's ``/_stcore/health`` (readiness). A worker that exits is restarted; if
nginx exits, everything stops (the container or service manager restarts the whole).

Standard library only: it runs in the production image (``python3 /app/scripts/deploy/serve.py``) and
from ``scripts/run.sh`` (``.venv/bin/python scripts/deploy/serve.py``). Arguments after ``--`` go to
every ``streamlit run``.

Environment: ``PORT`` (8501), ``ADDRESS`` (0.0.0.0), ``WORKERS`` (default: the CPUs this process
may use, container CPU quota included), ``WORKER_PORT`` (first worker port, default PORT + 1),
``NGINX`` (path of the nginx binary), ``MAX_BODY`` (nginx client_max_body_size, default 52m).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP_DIR = HERE.parents[1]  # the repository root: scripts/deploy/serve.py
TEMPLATE = HERE / "nginx.conf.template"
RESTART_DELAY_S = 2.0
STOP_GRACE_S = 10.0


def cpu_count() -> int:
    """CPUs this process may use: the affinity mask, capped by a cgroup v2 CPU quota.

    In a container with ``limits.cpu: 2`` on a 32-core node, ``os.cpu_count()`` says 32; the
    quota in ``/sys/fs/cgroup/cpu.max`` says 2, and 2 workers is what the pod can run at once.
    """
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            n = min(n, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


# Streamlit's front end under /static/ (JavaScript, CSS, fonts, images; every name carries a
# content hash), served by nginx from the installed package with Streamlit's own cache header.
# A browser without it cached fetches ~60 files (2.3 MB) on its first page; from a worker that
# was ~0.2 s of its CPU per new visitor, taken from every other user's clicks. A file nginx does
# not have (another Streamlit version) is still asked of a worker. Module scripts need their MIME
# type, so the types are listed here rather than read from the system's mime.types.
STATIC_LOCATION = """        location ^~ /static/ {
            root @STATIC_ROOT@;
            types {
                application/javascript js;
                text/css css;
                font/woff2 woff2;
                image/png png;
                image/gif gif;
                image/svg+xml svg;
                application/json json;
            }
            default_type application/octet-stream;
            add_header Cache-Control "public, immutable, max-age=31536000";
            try_files $uri @hcc_worker;
        }

        location @hcc_worker {
            proxy_pass http://hcc_workers;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
        }
"""


def streamlit_static_root() -> str | None:
    """The folder of the installed Streamlit's front end (``<package>/static``, which holds
    ``static/js/...``), found without importing Streamlit; None when it is not there."""
    import importlib.util

    spec = importlib.util.find_spec("streamlit")
    if spec is None or not spec.origin:
        return None
    root = Path(spec.origin).parent / "static"
    return str(root) if (root / "static").is_dir() else None


def render_nginx_conf(listen: str, worker_ports: list[int], run_dir: str,
                      max_body: str = "52m", static_root: str | None = None) -> str:
    """The nginx configuration for these worker ports, from ``nginx.conf.template``.

    ``static_root``: Streamlit's front-end folder for nginx to serve (default: the installed
    Streamlit's, :func:`streamlit_static_root`); without one, workers serve it.
    """
    servers = "\n".join(
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in worker_ports)
    static_root = static_root or streamlit_static_root()
    static = STATIC_LOCATION.replace("@STATIC_ROOT@", static_root) if static_root else ""
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in (("@STATIC_LOCATION@\n", static), ("@UPSTREAM_SERVERS@", servers),
                       ("@LISTEN@", listen), ("@RUN_DIR@", run_dir), ("@MAX_BODY@", max_body)):
        text = text.replace(key, value)
    return text


def listen_directive(address: str, port: int) -> str:
    if address in ("", "0.0.0.0", "*"):
        return str(port)
    if ":" in address and not address.startswith("["):
        return f"[{address}]:{port}"
    return f"{address}:{port}"


def healthy(port: int, path: str = "/_stcore/health", timeout: float = 2.0) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


class Supervisor:
    """Start the workers and nginx, restart workers that exit, stop everything on a signal."""

    def __init__(self, args: argparse.Namespace, streamlit_args: list[str]) -> None:
        self.args = args
        self.streamlit_args = streamlit_args
        self.ports = [args.worker_port + i for i in range(args.workers)]
        self.workers: dict[int, subprocess.Popen] = {}
        self.nginx: subprocess.Popen | None = None
        self.stopping = False
        self.run_dir = tempfile.mkdtemp(prefix="hcc-serve-")

    def log(self, text: str) -> None:
        print(f"serve: {text}", file=sys.stderr, flush=True)

    def start_worker(self, port: int) -> None:
        cmd = [sys.executable, "-m", "streamlit", "run", str(APP_DIR / "app.py"),
               "--server.port", str(port), "--server.address", "127.0.0.1",
               *self.streamlit_args]
        env = dict(os.environ)
        # glibc gives every thread that allocates its own malloc arena (Streamlit runs each
        # session's script in a thread); memory freed in those arenas rarely returns to the
        # system. Two arenas keep the footprint close to what is live.
        env.setdefault("MALLOC_ARENA_MAX", "2")
        # pages/_ui/reclaim.py: an idle worker drops expired sessions and returns their memory.
        env.setdefault("HCC_MEMORY_RECLAIM", "1")
        self.workers[port] = subprocess.Popen(cmd, cwd=APP_DIR, env=env)

    def start(self) -> None:
        for port in self.ports:
            self.start_worker(port)
        conf = Path(self.run_dir) / "nginx.conf"
        conf.write_text(render_nginx_conf(
            listen_directive(self.args.address, self.args.port), self.ports, self.run_dir,
            self.args.max_body), encoding="utf-8")
        nginx = self.args.nginx
        check = subprocess.run([nginx, "-t", "-q", "-e", "stderr", "-p", self.run_dir,
                                "-c", str(conf)], capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"serve: nginx rejected {conf}:\n{check.stderr}")
        self.nginx = subprocess.Popen([nginx, "-e", "stderr", "-p", self.run_dir, "-c", str(conf),
                                       "-g", "daemon off;"])
        self.log(f"nginx on {self.args.address}:{self.args.port} -> {len(self.ports)} Streamlit "
                 f"workers on 127.0.0.1:{self.ports[0]}-{self.ports[-1]} "
                 f"(liveness /healthz, readiness /readyz)")

    def watch(self) -> int:
        announced = False
        while not self.stopping:
            time.sleep(1.0)
            if self.nginx is not None and self.nginx.poll() is not None:
                self.log(f"nginx exited with code {self.nginx.returncode}; stopping the workers.")
                return 1
            for port, proc in list(self.workers.items()):
                if proc.poll() is None or self.stopping:
                    continue
                # Its sessions are gone either way; the next request reconnects to a fresh one.
                self.log(f"worker on port {port} exited with code {proc.returncode}; "
                         f"restarting it in {RESTART_DELAY_S:.0f}s.")
                time.sleep(RESTART_DELAY_S)
                if not self.stopping:
                    self.start_worker(port)
            if not announced and all(healthy(p, timeout=1.0) for p in self.ports):
                announced = True
                self.log(f"all {len(self.ports)} workers answer /_stcore/health; "
                         f"open http://localhost:{self.args.port}")
        return 0

    def stop(self, *_: object) -> None:
        self.stopping = True

    def shutdown(self) -> None:
        procs = [p for p in [self.nginx, *self.workers.values()] if p is not None]
        for p in procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.run_dir, ignore_errors=True)


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    streamlit_args: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, streamlit_args = argv[:i], argv[i + 1:]
    env = os.environ
    port = int(env.get("PORT") or 8501)
    ap = argparse.ArgumentParser(
        prog="serve.py", description=__doc__.split("\n\n")[0],
        epilog="Arguments after -- are passed to every `streamlit run`.")
    ap.add_argument("--port", type=int, default=port, help="public port (env PORT, 8501)")
    ap.add_argument("--address", default=env.get("ADDRESS") or "0.0.0.0",
                    help="public address (env ADDRESS, 0.0.0.0)")
    ap.add_argument("--workers", type=int, default=int(env.get("WORKERS") or cpu_count()),
                    help="Streamlit processes (env WORKERS, default: usable CPUs)")
    ap.add_argument("--worker-port", type=int, default=int(env.get("WORKER_PORT") or port + 1),
                    help="first worker port on 127.0.0.1 (env WORKER_PORT, default PORT + 1)")
    ap.add_argument("--nginx", default=env.get("NGINX") or shutil.which("nginx")
                    or "/usr/sbin/nginx", help="nginx binary (env NGINX)")
    ap.add_argument("--max-body", default=env.get("MAX_BODY") or "52m",
                    help="nginx client_max_body_size (env MAX_BODY, 52m)")
    args = ap.parse_args(argv)
    if args.workers < 1:
        ap.error("WORKERS must be at least 1.")
    return args, streamlit_args


def main(argv: list[str] | None = None) -> int:
    args, streamlit_args = parse_args(sys.argv[1:] if argv is None else argv)
    if not (os.path.isfile(args.nginx) and os.access(args.nginx, os.X_OK)):
        print(f"serve: nginx was not found ({args.nginx}). Install it (Debian: apt-get install "
              "nginx-light; scripts/run.sh does this when run as root) or set NGINX to its "
              "path.", file=sys.stderr)
        return 2
    sup = Supervisor(args, streamlit_args)
    signal.signal(signal.SIGTERM, sup.stop)
    signal.signal(signal.SIGINT, sup.stop)
    try:
        sup.start()
        return sup.watch()
    finally:
        sup.shutdown()


if __name__ == "__main__":
    sys.exit(main())
