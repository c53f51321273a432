"""Give the memory of ended sessions back to the system on an idle server (issue 18, item 4).

Streamlit keeps a closed tab's session (its ``session_state``: an uploaded cohort and everything
computed from it) for ``server.disconnectedSessionTTL`` seconds, so a tab that reconnects finds
it. Measured with ``python -m bench.load --only memory``, three things kept that memory after the
TTL on a server nobody was using:

1. Streamlit's store of disconnected sessions drops an expired session only when it is next
   written to, i.e. when another session disconnects: on an idle server, never. And the
   server's message loop holds the last session it sent to until it sends to another one. So
   the reclaimer opens a WebSocket session on its own server, has it answer a heartbeat (the
   loop now holds this empty session) and closes it (storing it drops the expired ones). The
   session runs no script and holds nothing.
2. A session's objects form reference cycles, which only Python's cyclic garbage collector frees,
   and that runs when the program allocates: on an idle server, never. So ``gc.collect()``.
3. glibc keeps freed memory in its malloc arenas; ``malloc_trim(0)`` hands it back to the system
   (``scripts/deploy/serve.py`` also sets ``MALLOC_ARENA_MAX=2``, so there are few arenas to trim).

The reclaimer is one daemon thread per server process. It works only after the process has been
idle (under 2% of a core) for a whole interval and only while a session can still expire (within
the TTL plus two intervals after the last activity), so a busy server never pays for it. It runs
when ``HCC_MEMORY_RECLAIM=1`` (``scripts/deploy/serve.py`` sets it for every worker), never in tests.
Nothing here touches session data: it holds no reference to any session.
"""

from __future__ import annotations

import base64
import ctypes
import gc
import os
import socket
import threading
import time

import streamlit as st
from streamlit.proto.BackMsg_pb2 import BackMsg

__all__ = ["start", "reclaim_once"]

# Seconds between checks (HCC_MEMORY_RECLAIM_INTERVAL_S: tests use a short one).
INTERVAL_S = float(os.environ.get("HCC_MEMORY_RECLAIM_INTERVAL_S") or 15.0)
IDLE_CPU_FRACTION = 0.02
_started = False
_lock = threading.Lock()


def _libc_trim() -> bool:
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):  # not glibc: nothing to trim this way
        return False


def _own_address() -> tuple[str, int, str, str]:
    """(address, port, Host header, path) of this server's WebSocket endpoint."""
    address = st.get_option("server.address") or ""
    if address in ("", "0.0.0.0", "::", "[::]"):
        address = "127.0.0.1"
    port = int(st.get_option("server.port"))
    hosts = [h.strip() for h in (st.get_option("server.allowedHosts") or []) if h.strip()]
    # With server.allowedHosts set, Streamlit refuses any other Host header.
    host = next((h for h in hosts if "*" not in h), None)
    if host is None and hosts and hosts[0].startswith("*."):
        host = "reclaim" + hosts[0][1:]
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    path = f"/{base}/_stcore/stream" if base else "/_stcore/stream"
    return address, port, host or f"127.0.0.1:{port}", path


def _frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (RFC 6455) with a payload under 126 bytes."""
    mask = os.urandom(4)
    return (bytes([0x80 | opcode, 0x80 | len(payload)]) + mask
            + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def _read_frame(s: socket.socket) -> tuple[int, bytes]:
    def exactly(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf

    b0, b1 = exactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(exactly(2), "big")
    elif n == 127:
        n = int.from_bytes(exactly(8), "big")
    return b0 & 0x0F, exactly(n)


def _touch_session_store(where: tuple[str, int, str, str] | None = None,
                         timeout: float = 5.0) -> bool:
    """Open one WebSocket session on this server, have it answer a heartbeat, close it.

    True when the server answered. The close stores the session for the TTL, and storing is what
    drops the expired sessions. The heartbeat makes the server's message loop send to this
    session: that loop keeps a reference to the last session it sent to, until it sends again,
    so on an idle server the last user's session (and their cohort) would stay in memory.
    """
    address, port, host, path = where or _own_address()
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: streamlit\r\n\r\n")
    heartbeat = BackMsg(app_heartbeat=True).SerializeToString()
    try:
        with socket.create_connection((address, port), timeout=timeout) as s:
            s.sendall(request.encode())
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 8192:
                chunk = s.recv(1)  # byte by byte: a frame may follow the headers at once
                if not chunk:
                    return False
                head += chunk
            if not head.startswith(b"HTTP/1.1 101"):
                return False
            s.sendall(_frame(0x2, heartbeat))
            answered = False
            try:
                while True:
                    opcode, _ = _read_frame(s)
                    if opcode == 0x2:  # the heartbeat's acknowledgement
                        answered = True
                        break
                    if opcode == 0x8:
                        break
            except OSError:
                pass
            s.sendall(_frame(0x8, (1000).to_bytes(2, "big")))
            try:
                while s.recv(1024):
                    pass
            except OSError:
                pass
            return answered
    except OSError:
        return False


def reclaim_once() -> None:
    """Drop expired sessions, collect their cycles and return freed memory to the system."""
    _touch_session_store()
    gc.collect()
    _libc_trim()


def _loop() -> None:
    ttl = float(st.get_option("server.disconnectedSessionTTL"))
    last_cpu = time.process_time()
    last_active = time.monotonic()
    while True:
        time.sleep(INTERVAL_S)
        cpu = time.process_time()
        now = time.monotonic()
        if cpu - last_cpu > IDLE_CPU_FRACTION * INTERVAL_S:
            last_active = now
        elif now - last_active <= ttl + 2 * INTERVAL_S:
            reclaim_once()
        # Our own work is not activity: measure the next interval from here.
        last_cpu = time.process_time()


def start() -> bool:
    """Start the reclaimer thread once per process when ``HCC_MEMORY_RECLAIM=1``."""
    global _started
    if os.environ.get("HCC_MEMORY_RECLAIM") != "1":
        return False
    with _lock:
        if not _started:
            threading.Thread(target=_loop, name="hcc-memory-reclaim", daemon=True).start()
            _started = True
    return True
