"""Load harness: many simulated users over Streamlit's WebSocket protocol (issue 18).

Starts the production topology (``scripts/deploy/serve.py``: nginx + WORKERS Streamlit processes) on free
ports, and for each number of processes and users runs users that load the demo cohort, then
every 1-3 s change a sidebar filter or switch pages, as a clinician clicking through the app
does. Each action is a real script run; its latency is the time from the rerun request to the
server's ``script_finished`` (what the browser waits for). Reports p50/p95 latency, throughput
(script runs per second), the server's CPU (cores busy) and memory (PSS of all its processes:
nginx, workers, upload parsers), writes
``bench/out/load.json`` and the load section of ``bench/RESULTS.md``.

Also: a browser calibration (one real chromium session and the harness doing the same actions,
to show the harness's latency is what a browser sees) and a memory run (a 100,000-row cohort
uploaded and loaded, the session closed, the idle server's memory watched until the
disconnected-session TTL has passed).

    .venv/bin/python -m bench.load                 # everything, about 7-8 minutes
    .venv/bin/python -m bench.load --quick         # 1 and 10 users, 1 and 2 processes
    .venv/bin/python -m bench.load --only memory   # or: sweep, calibration
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench.load_client import AppClient

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN, END = "<!-- BEGIN LOAD (bench/load.py) -->", "<!-- END LOAD -->"
PAGES = ["", "survival", "cox", "adjusted", "baseline", "response", "safety"]
FILTERS = ["f_child_pugh", "f_bclc", "f_modality"]
TICK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

sys.path.insert(0, str(ROOT / "scripts" / "deploy"))
import serve  # noqa: E402  (scripts/deploy/ ships as plain files, not a package)


# -- the server under test ----------------------------------------------------------------------
def _free_port(avoid: set[int] = frozenset()) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in avoid:
            return port


def _children(pid: int) -> list[int]:
    """All descendants of ``pid`` (workers, nginx and its worker), from /proc."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def _memory_bytes(pid: int) -> int:
    """Proportional set size (shared pages split between their processes), else RSS.

    The workers' upload parser forks children from a forkserver that shares their pages, so the
    sum of PSS over all of the server's processes is what it holds, without double counting.
    """
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def _is_worker(pid: int) -> bool:
    try:
        return b"streamlit" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class Server:
    """``scripts/deploy/serve.py`` with ``workers`` Streamlit processes on free ports, for one run."""

    def __init__(self, workers: int, streamlit_args: list[str] | None = None,
                 log_name: str = "server") -> None:
        self.workers = workers
        self.streamlit_args = streamlit_args or []
        self.port = _free_port()
        self.worker_port = _free_port({self.port})
        while any(p == self.port for p in range(self.worker_port, self.worker_port + workers)):
            self.worker_port = _free_port({self.port})
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = OUT / f"{log_name}.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        OUT.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        env = {**os.environ, "PORT": str(self.port), "ADDRESS": "127.0.0.1",
               "WORKERS": str(self.workers), "WORKER_PORT": str(self.worker_port),
               "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "deploy" / "serve.py"), "--", *self.streamlit_args],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        ports = range(self.worker_port, self.worker_port + self.workers)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if all(serve.healthy(p) for p in ports):
                return self
            time.sleep(0.5)
        self.__exit__()
        raise RuntimeError(f"the server did not start; see {self.log_path}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

    def pids(self) -> list[int]:
        return _children(self.proc.pid) if self.proc else []

    def worker_pids(self) -> list[int]:
        return [p for p in self.pids() if _is_worker(p)]


class Sampler:
    """Samples the server's CPU seconds and memory (PSS, all its processes) in a thread."""

    def __init__(self, server: Server, interval: float = 0.5) -> None:
        self.server, self.interval = server, interval
        self.samples: list[tuple[float, float, int]] = []  # (time, cpu seconds, rss bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> tuple[float, float, int]:
        pids = self.server.pids()
        s = (time.perf_counter(), sum(_cpu_seconds(p) for p in pids),
             sum(_memory_bytes(p) for p in pids))
        self.samples.append(s)
        return s

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def window(self, t0: float, t1: float) -> dict:
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        if len(inside) < 2:
            return {"cpu_cores": None, "mem_mib_peak": None, "mem_mib_end": None}
        (ta, ca, _), (tb, cb, _) = inside[0], inside[-1]
        return {"cpu_cores": round((cb - ca) / (tb - ta), 2),
                "mem_mib_peak": round(max(s[2] for s in inside) / 2**20),
                "mem_mib_end": round(inside[-1][2] / 2**20)}


# -- users ----------------------------------------------------------------------------------------
def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[max(0, math.ceil(q / 100 * len(v)) - 1)]  # nearest rank


async def _user(i: int, url: str, rng: random.Random, think: tuple[float, float],
                stagger: float, state: dict) -> None:
    client = AppClient(url, timeout=state["timeout"])
    await asyncio.sleep(stagger * i)
    try:
        await client.connect()
        first = await client.rerun()  # opens the app: the demo cohort on the Overview page
        state["first"].append(first.seconds)
        state["ready"] += 1
        if state["ready"] == state["n"]:
            state["all_ready"].set()
        page = ""
        while not state["stop"].is_set():
            await asyncio.sleep(rng.uniform(*think))
            if state["stop"].is_set():
                break
            if rng.random() < 0.5:
                page = rng.choice([p for p in PAGES if p != page])
                kind, coro = f"page {page or 'overview'}", client.rerun(page=page)
            else:
                key = rng.choice(FILTERS)
                options = list(client.widget(key).options)
                values = rng.choice([[], [rng.choice(options)]])
                kind = "filter"
                coro = client.rerun(changes=[client.multiselect(key, values)])
            t = time.perf_counter()
            state["current"][i] = (t, kind)
            try:
                r = await coro
                state["records"].append((t, r.seconds, kind, len(r.exceptions)))
            except (TimeoutError, ConnectionError) as e:
                state["failures"].append(f"user {i}, {kind}: {type(e).__name__} {e}")
            finally:
                state["current"].pop(i, None)
    except Exception as e:  # a user that cannot even connect is reported, not fatal
        state["failures"].append(f"user {i}: {type(e).__name__}: {e}")
        state["ready"] += 1
        if state["ready"] == state["n"]:
            state["all_ready"].set()
    finally:
        await client.close()


async def run_level(url: str, users: int, duration: float, think: tuple[float, float],
                    seed: int, sampler: Sampler | None, timeout: float,
                    drain: float = 30.0) -> dict:
    """``users`` simultaneous users for ``duration`` seconds after all have opened the app."""
    state = {"n": users, "ready": 0, "all_ready": asyncio.Event(), "stop": asyncio.Event(),
             "records": [], "first": [], "failures": [], "current": {}, "timeout": timeout}
    rng = random.Random(seed * 1000 + users)
    tasks = [asyncio.create_task(_user(i, url, random.Random(rng.random()), think,
                                       min(0.1, 2.0 / users), state))
             for i in range(users)]
    try:
        await asyncio.wait_for(state["all_ready"].wait(), timeout)
    except TimeoutError:
        state["failures"].append(f"only {state['ready']} of {users} users opened the app "
                                 f"within {timeout:.0f} s")
    t0 = time.perf_counter()
    await asyncio.sleep(duration)
    t1 = time.perf_counter()
    state["stop"].set()
    done, pending = await asyncio.wait(tasks, timeout=drain)
    # Runs still going after the drain count with the time they had taken so far: a lower
    # bound, so p95 is then "at least" (marked in the report).
    t_end = time.perf_counter()
    unfinished = [(t, t_end - t, kind, 0) for t, kind in state["current"].values()]
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    started = [r for r in state["records"] + unfinished if t0 <= r[0] <= t1]
    lat = [r[1] for r in started]
    finished_in_window = sum(1 for r in state["records"] if t0 <= r[0] + r[1] <= t1)
    result = {
        "users": users, "duration_s": round(t1 - t0, 1), "actions": len(lat),
        "p50_s": _pct(lat, 50), "p95_s": _pct(lat, 95), "max_s": max(lat) if lat else None,
        "runs_per_s": round(finished_in_window / (t1 - t0), 2),
        "first_load_p50_s": _pct(state["first"], 50),
        "unfinished": len(unfinished), "failures": state["failures"][:10],
        "n_failures": len(state["failures"]),
        "exceptions_shown": sum(r[3] for r in started),
        "by_kind_p50_s": {k: _pct([r[1] for r in started if r[2] == k], 50)
                          for k in sorted({r[2] for r in started})},
    }
    if sampler is not None:
        result.update(sampler.window(t0, t1))
    return result


def sweep(processes: list[int], users: list[int], duration: float,
          think: tuple[float, float], seed: int, timeout: float, url: str | None,
          calibrate: int = 0) -> tuple[list[dict], dict | None]:
    """Every number of users on every number of processes; with ``calibrate`` rounds, the
    browser calibration too, on the one-process server once its levels are done (idle)."""
    rows, cal = [], None
    for workers in ([0] if url else processes):
        server = None if url else Server(workers, log_name=f"load_server_{workers}")
        with (server or _null()) as srv:
            target = url or srv.url
            with (Sampler(srv) if srv else _null()) as sampler:
                if srv:
                    _warm(target)
                for n in users:
                    t = time.perf_counter()
                    row = asyncio.run(run_level(target, n, duration, think, seed, sampler,
                                                timeout))
                    row["processes"] = workers or None
                    row["wall_s"] = round(time.perf_counter() - t, 1)
                    rows.append(row)
                    print(_row_line(row), flush=True)
                if srv and workers == 1 and calibrate:
                    try:
                        cal = calibration(calibrate, srv.url)
                    except Exception as e:  # the sweep's numbers are kept; main() retries
                        print(f"calibration failed: {type(e).__name__}: {e}", flush=True)
    return rows, cal


@contextmanager
def _null():
    yield None


def _warm(url: str, sessions: int = 2) -> None:
    """Sessions over every page first, so imports and shared caches are not measured."""
    async def go() -> None:
        c = AppClient(url, timeout=300)
        await c.connect()
        await c.rerun()
        for p in PAGES:
            await c.rerun(page=p)
        await c.close()
    for _ in range(sessions):  # nginx spreads the sessions over the workers
        asyncio.run(go())


def _fmt(x: float | None, unit: str = " s") -> str:
    return "-" if x is None else f"{x:.2f}{unit}"


def _cpu_per_run(r: dict) -> str:
    """Server CPU seconds per script run at this level (all of the server's processes)."""
    if not r.get("cpu_cores") or not r.get("runs_per_s"):
        return "-"
    return f"{r['cpu_cores'] / r['runs_per_s']:.3f}"


def _row_line(r: dict) -> str:
    return (f"processes {r['processes']}, users {r['users']:>2}: p50 {_fmt(r['p50_s'])}, "
            f"p95 {_fmt(r['p95_s'])}, {r['runs_per_s']:.2f} runs/s, "
            f"CPU {_fmt(r.get('cpu_cores'), ' cores')} ({_cpu_per_run(r)} CPU-s per run), "
            f"memory {r.get('mem_mib_end')} MiB, "
            f"{r['actions']} actions, {r['n_failures']} failures, {r['unfinished']} unfinished "
            f"({r['wall_s']} s)")


# -- memory: a 100,000-row upload, then an idle server -----------------------------------------
async def _upload_session(url: str, path: Path) -> tuple[AppClient, dict]:
    c = AppClient(url, timeout=600)
    await c.connect()
    await c.rerun()
    await c.rerun(page="upload")
    t = time.perf_counter()
    state = await c.upload("upload_file", path.name, path.read_bytes())
    r = await c.rerun(changes=[state])
    r2 = await c.rerun(changes=[c.button("upload_load")])
    loaded = c.widget("source").options
    r3 = await c.rerun(page="survival")
    return c, {"upload_and_load_s": round(time.perf_counter() - t, 1),
               "steps_s": [round(x.seconds, 2) for x in (r, r2, r3)],
               "sources": list(loaded),
               "exceptions": r.exceptions + r2.exceptions + r3.exceptions}


async def _close_after(session) -> None:
    client, _ = await session
    await client.close()


def memory_run(rows: int, ttl: int, watch_extra: float, demo_users: int = 5) -> dict:
    """Memory per session for sizing, then whether an idle server gives it back.

    One worker with ``server.disconnectedSessionTTL = ttl``: ``demo_users`` demo sessions open
    (Overview, Survival, Cox) and closed, then one session uploads and loads a ``rows``-row
    cohort, opens Survival on it and closes. Nothing else happens while the memory is watched for
    ``ttl + watch_extra`` seconds.
    """
    from bench.make_cohorts import write_cohort

    path = write_cohort(rows)
    args = ["--server.disconnectedSessionTTL", str(ttl)]
    with Server(1, args, log_name="load_memory_server") as srv, Sampler(srv, 1.0) as sampler:
        async def go() -> dict:
            cs = [AppClient(srv.url, timeout=300) for _ in range(demo_users)]
            for c in cs:
                await c.connect()
                await c.rerun()
                for p in ("survival", "cox"):
                    await c.rerun(page=p)
            out = {"demo": sampler.sample()}
            for c in cs:
                await c.close()
            client, out["info"] = await _upload_session(srv.url, path)
            out["loaded"] = sampler.sample()
            await client.close()
            return out

        _warm(srv.url, sessions=1)
        # The upload path's own imports are loaded once per process, not per session: warm them
        # with the 95-row demo file, so the baseline holds them.
        asyncio.run(_close_after(_upload_session(srv.url, ROOT / "data" / "demo_cohort.csv")))
        time.sleep(3)
        base = sampler.sample()
        got = asyncio.run(go())
        demo_rss, info, loaded = got["demo"][2], got["info"], got["loaded"]
        t_close = time.perf_counter()
        released_at = None
        while time.perf_counter() < t_close + ttl + watch_extra:
            time.sleep(1.0)
            s = sampler.sample()
            if released_at is None and s[2] - base[2] < 0.25 * (loaded[2] - base[2]):
                released_at = s[0] - t_close
        end = sampler.sample()
        peak = max(s[2] for s in sampler.samples)
        curve = [(round(s[0] - t_close), round(s[2] / 2**20)) for s in sampler.samples
                 if s[0] >= t_close][::5]
    return {
        "rows": rows, "file_mib": round(path.stat().st_size / 2**20, 1), "ttl_s": ttl,
        "watched_s": round(ttl + watch_extra), **info, "demo_users": demo_users,
        "demo_mib_per_user": round((demo_rss - base[2]) / 2**20 / demo_users, 1),
        "mem_mib_before": round(base[2] / 2**20), "mem_mib_demo": round(demo_rss / 2**20),
        "mem_mib_loaded": round(loaded[2] / 2**20),
        "mem_mib_peak": round(peak / 2**20), "mem_mib_end": round(end[2] / 2**20),
        "released_after_s": None if released_at is None else round(released_at),
        "mem_curve_after_close": curve,
    }


# -- browser calibration ------------------------------------------------------------------------
CALIBRATION = [("page", "survival"), ("filter", "f_child_pugh", "B"), ("page", "cox"),
               ("filter", "f_bclc", "C"), ("page", "baseline"), ("filter", "f_child_pugh", "A"),
               ("page", ""), ("filter", "f_bclc", "B")]
_FRAME_LOG = """
(() => {
  const log = window.__hccFrames = [];
  const b64 = (buf) => { let s = "";
    const a = ArrayBuffer.isView(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
                                      : new Uint8Array(buf);
    for (let i = 0; i < a.length; i += 8192) s += String.fromCharCode(...a.subarray(i, i + 8192));
    return btoa(s); };
  const Orig = window.WebSocket;
  const send = Orig.prototype.send;
  Orig.prototype.send = function (data) {
    if (data instanceof ArrayBuffer || ArrayBuffer.isView(data))
      log.push(["s", performance.now(), b64(data)]);
    return send.call(this, data);
  };
  window.WebSocket = function (...args) {
    const ws = new Orig(...args);
    ws.addEventListener("message", (ev) => {
      const t = performance.now();
      if (ev.data instanceof ArrayBuffer) log.push(["r", t, b64(ev.data)]);
      else if (ev.data instanceof Blob) ev.data.arrayBuffer().then((b) => log.push(["r", t, b64(b)]));
    });
    return ws;
  };
  window.WebSocket.prototype = Orig.prototype;
  Object.assign(window.WebSocket, Orig);
})();
"""


def _browser_latencies(frames: list) -> list[float]:
    """Rerun request -> script_finished, from the frames the page itself sent and received."""
    import base64

    from google.protobuf.message import DecodeError
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    out, t0 = [], None
    for direction, t, data in sorted(frames, key=lambda f: f[1]):
        m = BackMsg() if direction == "s" else ForwardMsg()
        try:
            m.ParseFromString(base64.b64decode(data))
        except DecodeError:
            continue  # not a Streamlit message
        if direction == "s":
            if m.WhichOneof("type") == "rerun_script":
                t0 = t
        else:
            if (m.WhichOneof("type") == "script_finished" and t0 is not None
                    and m.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN):
                out.append((t - t0) / 1000)
                t0 = None
    return out


def _browser_round(url: str, shots: Path | None = None) -> list[float]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.add_init_script(_FRAME_LOG)
        page.goto(url)
        _browser_idle(page)
        n0 = len(_browser_latencies(page.evaluate("window.__hccFrames")))
        for step in CALIBRATION:
            before = len(_browser_latencies(page.evaluate("window.__hccFrames")))
            if step[0] == "page":
                title = {"": "Overview", "survival": "Survival", "cox": "Cox regression",
                         "baseline": "Baseline (Table 1)"}[step[1]]
                page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
            else:
                nth = {"f_modality": 0, "f_child_pugh": 1, "f_bclc": 2}[step[1]]
                box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]')
                for attempt in range(3):  # the dropdown may not open while the page redraws
                    box.nth(nth).locator("input").click()
                    page.keyboard.type(step[2])
                    try:
                        page.get_by_role("option", name=step[2], exact=True).click(
                            timeout=10_000)
                        break
                    except PlaywrightTimeout:
                        page.keyboard.press("Escape")
                        if attempt == 2:
                            page.screenshot(path=str(OUT / "calibration_failed.png"))
                            raise
                page.keyboard.press("Escape")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if len(_browser_latencies(page.evaluate("window.__hccFrames"))) > before:
                    break
                page.wait_for_timeout(50)
            _browser_idle(page)
        if shots is not None:
            page.screenshot(path=str(shots))
        lat = _browser_latencies(page.evaluate("window.__hccFrames"))[n0:]
        browser.close()
    return lat


def _browser_idle(page, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = (page.locator('[data-testid="stStatusWidget"]').count() > 0
                or page.locator('[data-testid="stMain"] h1').count() == 0)
        if not busy:
            return
        page.wait_for_timeout(100)


def _harness_round(url: str) -> list[float]:
    async def go() -> list[float]:
        c = AppClient(url, timeout=120)
        await c.connect()
        await c.rerun()
        chosen: dict[str, list[str]] = {}
        out = []
        for step in CALIBRATION:
            if step[0] == "page":
                r = await c.rerun(page=step[1])
            else:
                chosen.setdefault(step[1], []).append(step[2])
                r = await c.rerun(changes=[c.multiselect(step[1], chosen[step[1]])])
            out.append(r.seconds)
        await c.close()
        return out
    return asyncio.run(go())


def calibration(rounds: int = 2, url: str | None = None) -> dict:
    """The same actions from chromium and from the harness, alternating, on one idle worker
    (``url``: a one-worker server already warmed, else one is started)."""
    OUT.mkdir(parents=True, exist_ok=True)
    browser, harness = [], []
    with (_null() if url else Server(1, log_name="load_calibration_server")) as srv:
        if srv is not None:
            url = srv.url
            _warm(url)
        for i in range(rounds):
            harness.append(_harness_round(url))
            browser.append(_browser_round(url, OUT / f"calibration_browser_{i}.png"))
    steps = []
    for j, step in enumerate(CALIBRATION):
        b = [r[j] for r in browser if len(r) > j]
        h = [r[j] for r in harness if len(r) > j]
        steps.append({"action": " ".join(s or "overview" for s in step),
                      "browser_s": round(statistics.mean(b), 3) if b else None,
                      "harness_s": round(statistics.mean(h), 3) if h else None})
    b_all = [x for r in browser for x in r]
    h_all = [x for r in harness for x in r]
    return {"rounds": rounds, "steps": steps,
            "browser_median_s": round(statistics.median(b_all), 3) if b_all else None,
            "harness_median_s": round(statistics.median(h_all), 3) if h_all else None,
            "browser_runs": len(b_all), "harness_runs": len(h_all)}


# -- report ---------------------------------------------------------------------------------------
def machine() -> dict:
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    import streamlit
    return {"cores": os.cpu_count(), "memory_gib": round(mem / 2**20, 1),
            "load_average_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "streamlit": streamlit.__version__}


def render(res: dict) -> str:
    m = res["machine"]
    lines = [BEGIN, f"Run {res['started']} · `python -m bench.load {res['argv']}` · "
             f"{res['wall_s']:.0f} s", "",
             f"Machine: {m['cores']} cores, {m['memory_gib']} GiB; load average at start "
             f"{m['load_average_start']}; Python {m['python']}, Streamlit {m['streamlit']}.", ""]
    if res.get("sweep"):
        lines += ["### Users and processes (demo cohort; actions every "
                  f"{res['think'][0]:g}-{res['think'][1]:g} s, {res['duration']:g} s per level)",
                  "", "| processes | users | actions | p50 | p95 | max | runs/s | server CPU "
                  "(cores) | CPU-s per run | server memory (PSS) | failed / unfinished |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in res["sweep"]:
            lines.append(
                f"| {r['processes'] or '-'} | {r['users']} | {r['actions']} | {_fmt(r['p50_s'])} "
                f"| {'>= ' if r['unfinished'] else ''}{_fmt(r['p95_s'])} "
                f"| {'>= ' if r['unfinished'] else ''}{_fmt(r['max_s'])} | {r['runs_per_s']:.2f} | "
                f"{_fmt(r.get('cpu_cores'), '')} | {_cpu_per_run(r)} | "
                f"{r.get('mem_mib_end') or '-'} MiB | "
                f"{r['n_failures']} / {r['unfinished']} |")
        by = {(r["processes"], r["users"]): r for r in res["sweep"]}
        top = max(r["users"] for r in res["sweep"])
        if (1, top) in by and (2, top) in by and by[(1, top)]["runs_per_s"]:
            lines += ["", f"Throughput at {top} users: 2 processes / 1 process = "
                      f"{by[(2, top)]['runs_per_s'] / by[(1, top)]['runs_per_s']:.2f}x."]
        peak = {p: max(r["runs_per_s"] for r in res["sweep"] if r["processes"] == p)
                for p in (1, 2) if any(r["processes"] == p for r in res["sweep"])}
        if peak.get(1) and peak.get(2):
            # A level that one process serves without queueing shows no gain from a second;
            # the capacity is the most runs per second either served at any level.
            lines += [f"Peak throughput over all levels: 1 process {peak[1]:.2f} runs/s, "
                      f"2 processes {peak[2]:.2f} runs/s ({peak[2] / peak[1]:.2f}x)."]
        if (2, 20) in by:
            lines += [f"20 users on 2 processes: p95 {_fmt(by[(2, 20)]['p95_s'])} "
                      "(target <= 1.5 s)."]
    if res.get("calibration"):
        c = res["calibration"]
        lines += ["", "### Browser calibration (one idle worker; chromium vs the harness, same "
                  f"actions, {c['rounds']} rounds each, mean seconds)", "",
                  "| action | chromium | harness |", "|---|---:|---:|"]
        lines += [f"| {s['action']} | {_fmt(s['browser_s'])} | {_fmt(s['harness_s'])} |"
                  for s in c["steps"]]
        lines += ["", f"Median over all actions: chromium {_fmt(c['browser_median_s'])}, "
                  f"harness {_fmt(c['harness_median_s'])} (chromium timed in the page: from the "
                  "rerun frame it sends to the script_finished frame it receives)."]
    if res.get("memory"):
        mm = res["memory"]
        lines += ["", f"### Memory: a {mm['rows']:,}-row upload ({mm['file_mib']} MiB CSV), then "
                  "an idle server", "",
                  f"One worker, `server.disconnectedSessionTTL = {mm['ttl_s']}`. memory (PSS, all processes) before "
                  f"{mm['mem_mib_before']} MiB; loaded and analysed {mm['mem_mib_loaded']} MiB "
                  f"(peak {mm['mem_mib_peak']}); the session was closed and nothing else "
                  f"happened; after {mm['watched_s']} s: {mm['mem_mib_end']} MiB. Released "
                  "(back within a quarter of the growth) after "
                  f"{mm['released_after_s'] if mm['released_after_s'] is not None else 'never'}"
                  f" s. Upload and load took {mm['upload_and_load_s']} s.", "",
                  "Memory (MiB) every 5 s after the session closed: "
                  + ", ".join(f"{t} s: {r}" for t, r in mm["mem_curve_after_close"])]
        lines += ["", f"Sizing: {mm['demo_users']} demo-cohort sessions (Overview, Survival, "
                  f"Cox) took {mm['demo_mib_per_user']} MiB each; the {mm['rows']:,}-row "
                  f"session {mm['mem_mib_loaded'] - mm['mem_mib_demo']} MiB more (peak "
                  f"{mm['mem_mib_peak'] - mm['mem_mib_demo']})."]
    if res.get("errors"):
        lines += ["", "Errors: " + "; ".join(res["errors"])]
    lines.append(END)
    return "\n".join(lines)


def update_results(section: str) -> None:
    text = RESULTS.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Load test (issue 18)\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--only", choices=["sweep", "calibration", "memory"], action="append",
                    help="run only these parts (repeatable); default: all three")
    ap.add_argument("--users", type=int, nargs="+", default=[1, 5, 10, 20, 40])
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--duration", type=float, default=12.0,
                    help="seconds measured per level, after every user has opened the app")
    ap.add_argument("--think", type=float, nargs=2, default=[1.0, 3.0],
                    help="seconds a user waits between actions (uniform)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds a run may take")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--url", help="measure a running server instead (no CPU or memory)")
    ap.add_argument("--quick", action="store_true",
                    help="1 and 10 users, 10 s per level, no memory run")
    ap.add_argument("--memory-rows", type=int, default=100_000)
    ap.add_argument("--ttl", type=int, default=30,
                    help="server.disconnectedSessionTTL for the memory run (app default 120)")
    ap.add_argument("--watch", type=float, default=25.0,
                    help="seconds to keep watching memory after the TTL has passed")
    ap.add_argument("--calibration-rounds", type=int, default=2)
    ap.add_argument("--no-update-results", action="store_true",
                    help="do not rewrite the load section of bench/RESULTS.md")
    args = ap.parse_args(argv)
    parts = set(args.only or ["sweep", "calibration", "memory"])
    if args.quick:
        args.users, args.duration = [1, 10], 10.0
        parts.discard("memory")
    if args.url:
        parts &= {"sweep"}
    t0 = time.perf_counter()
    res: dict = {"started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                 "argv": " ".join(argv), "machine": machine(), "think": args.think,
                 "duration": args.duration}
    if "sweep" in parts:
        res["sweep"], res["calibration"] = sweep(
            args.processes, args.users, args.duration, tuple(args.think), args.seed,
            args.timeout, args.url, args.calibration_rounds if "calibration" in parts else 0)
    if "calibration" in parts and not res.get("calibration"):
        try:
            res["calibration"] = calibration(args.calibration_rounds)
        except Exception as e:
            res["errors"] = res.get("errors", []) + [f"calibration: {type(e).__name__}: {e}"]
    if res.get("calibration"):
        print("calibration:", json.dumps(res["calibration"]), flush=True)
    if "memory" in parts:
        try:
            res["memory"] = memory_run(args.memory_rows, args.ttl, args.watch)
            print("memory:", json.dumps(res["memory"]), flush=True)
        except Exception as e:  # keep what the other parts measured
            res["errors"] = res.get("errors", []) + [f"memory: {type(e).__name__}: {e}"]
    res["wall_s"] = time.perf_counter() - t0
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "load.json").write_text(json.dumps(res, indent=1), encoding="utf-8")
    section = render(res)
    print(section)
    if not args.no_update_results and not args.url:
        update_results(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
