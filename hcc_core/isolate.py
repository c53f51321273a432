"""Parsing an uploaded file in a child process, stopped when it runs past a time or memory budget.

Reading a hostile workbook is pure-Python work (openpyxl) that holds the interpreter lock: done
in the server's own process it makes every other user wait. Here it runs in a child process
forked from the server (so it starts in milliseconds, with ``hcc_core`` already imported), whose
address space may grow by at most the memory budget (``RLIMIT_AS``); the server's thread only
polls the pipe. The child is killed when the time budget passes, when the caller's ``on_wait``
raises (Streamlit stops a script run by raising from its next element call, e.g. when the user
leaves or uploads another file), or when anything else goes wrong.
"""

from __future__ import annotations

import inspect
import multiprocessing
import resource
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

from . import limits
from .errors import CohortError
from .i18n import _
from .io import timed_out

__all__ = ["run_bounded"]

T = TypeVar("T")
_POLL_SECONDS = 0.1
_GRACE_SECONDS = 2.0  # the child's own deadline fires first and gives the precise message


def _ctx():
    # "fork", not "spawn"/"forkserver": those send the child the parent's __main__ to import,
    # and during a Streamlit script run __main__ is the app script itself (the child would run
    # the app). A forked child runs only the parse; the parent's threads do not exist in it,
    # and a child that deadlocks on a lock copied mid-use is killed by the time budget.
    return multiprocessing.get_context("fork")


def _child(conn, fn: Callable[..., Any], args: tuple, kwargs: dict, memory_bytes: int) -> None:
    try:
        if memory_bytes:  # on top of what the forked server already maps
            with open("/proc/self/statm") as statm:
                mapped = int(statm.read().split()[0]) * resource.getpagesize()
            resource.setrlimit(resource.RLIMIT_AS, (mapped + memory_bytes,) * 2)
        result: tuple[str, Any] = ("ok", fn(*args, **kwargs))
    except CohortError as exc:
        result = ("error", str(exc))
    except MemoryError:
        result = ("memory", None)
    except Exception as exc:  # reported to the parent, which raises a CohortError
        result = ("crash", f"{type(exc).__name__}: {exc}")
    try:
        conn.send(result)
    except MemoryError:
        conn.send(("memory", None))
    finally:
        conn.close()


def _memory_error(name: str, memory_bytes: int) -> CohortError:
    return CohortError(
        _(
            "Reading '{name}' needed more than {gb:.0f} GB of memory, the limit for one file, "
            "and was stopped. Save it as CSV UTF-8 or delete columns and rows the app does not "
            "use, then upload it again."
        ).format(name=name, gb=memory_bytes / 1024**3)
    )


def run_bounded(
    fn: Callable[..., T],
    *args: Any,
    name: str,
    seconds: float = limits.PARSE_SECONDS,
    memory_bytes: int = limits.PARSE_MEMORY_BYTES,
    on_wait: Callable[[float], None] | None = None,
    **kwargs: Any,
) -> T:
    """``fn(*args, **kwargs)`` in a child process with a time and memory budget.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled), e.g. :func:`hcc_core.io.read_upload`; if it
        takes ``seconds``, it is given the budget so it can stop itself with a precise message.
    name : str
        The file name, for messages.
    seconds, memory_bytes : float, int
        Budgets (default ``limits.PARSE_SECONDS`` and ``limits.PARSE_MEMORY_BYTES``).
    on_wait : callable, optional
        Called with the seconds elapsed about every 0.1 s while waiting; whatever it raises
        stops the child and propagates (how a Streamlit page gives up when the user leaves).

    Returns
    -------
    The result of ``fn`` (pickled back from the child).

    Raises
    ------
    CohortError
        ``fn``'s own CohortError, or a full sentence when the budget ran out or the child died.

    Notes
    -----
    Like running R's ``read.csv`` under ``R.utils::withTimeout`` in a separate R process
    (``callr::r``) with ``ulimit -v``.
    """
    try:
        takes_seconds = "seconds" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        takes_seconds = False
    if takes_seconds:
        kwargs.setdefault("seconds", seconds)
    ctx = _ctx()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, fn, args, kwargs, memory_bytes), daemon=True)
    start = time.monotonic()
    process.start()
    sender.close()
    try:
        while not receiver.poll(_POLL_SECONDS):
            elapsed = time.monotonic() - start
            if not process.is_alive() and not receiver.poll(0):
                process.join(timeout=5)
                raise _died(name, memory_bytes, process.exitcode)
            if elapsed > seconds + _GRACE_SECONDS:
                raise timed_out(name, seconds)
            if on_wait is not None:
                on_wait(elapsed)
        try:
            kind, value = receiver.recv()
        except EOFError:
            process.join(timeout=5)
            raise _died(name, memory_bytes, process.exitcode) from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(timeout=5)
        receiver.close()
    if kind == "ok":
        return value
    if kind == "error":
        raise CohortError(value)
    if kind == "memory":
        raise _memory_error(name, memory_bytes)
    raise _crash_error(name, value)


def _crash_error(name: str, error: str) -> CohortError:
    return CohortError(
        _(
            "Reading '{name}' failed unexpectedly ({error}). Save it again as CSV UTF-8 or "
            ".xlsx and upload it again; if this keeps happening, tell the app's maintainers."
        ).format(name=name, error=error)
    )


def _died(name: str, memory_bytes: int, exitcode: int | None) -> CohortError:
    """The child ended without an answer. Killed (SIGKILL: the kernel's out-of-memory killer)
    or aborted (SIGABRT: a C library whose allocation failed under the memory limit) reads as
    memory; anything else (a segmentation fault, an exit) is said as what it was."""
    if exitcode in (-signal.SIGKILL, -signal.SIGABRT):
        return _memory_error(name, memory_bytes)
    if exitcode is not None and exitcode < 0:
        what = _("the reading process was stopped by signal {signal}").format(
            signal=signal.Signals(-exitcode).name)
    else:
        what = _("the reading process ended with exit code {code}").format(code=exitcode)
    return _crash_error(name, what)
