"""Audit trail: who did what, when, as one JSON object per line.

Events: ``sign_in``, ``sign_out``, ``upload``, ``view``, ``export`` and ``error``. Every line
has ``time`` (UTC, ISO 8601 with milliseconds and ``Z``), ``event`` and ``user`` (the signed-in
user, or ``"anonymous"`` when sign-in is not configured), then the event's own fields, e.g.::

    {"time":"2026-11-30T08:01:02.345Z","event":"upload","user":"a.doctor@hospital.example",
     "file_name":"cohort.csv","file_sha256":"9f2c...","fingerprint":"4be1c0a9d2e7","rows":95}

Lines never hold patient data: an upload is named by its SHA-256 and counted in rows, never
copied; errors name where they happened and their kind, not their message (a message can
quote a value from the data).

Where the lines go is set by the environment variable ``HCC_AUDIT_LOG``: unset, empty, ``-`` or
``stdout`` for the process's standard output (the container log), or a file path to append to.
Each line is written with one ``write`` call on a file opened in append mode, so several server
processes can share one file on a local filesystem without interleaving lines.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "ANONYMOUS",
    "AUDIT_ENV",
    "EVENTS",
    "AuditTrail",
    "audit_record",
    "audit_line",
    "file_sha256",
    "trail_from_environment",
]

AUDIT_ENV = "HCC_AUDIT_LOG"
ANONYMOUS = "anonymous"
EVENTS = ("sign_in", "sign_out", "upload", "view", "export", "error")
_STDOUT_NAMES = {"", "-", "stdout"}
_RESERVED = {"time", "event", "user"}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _plain(value: Any) -> Any:
    """A JSON-safe copy: tuples become lists, non-finite floats null, other objects text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return str(value)


def audit_record(event: str, user: str | None, *, when: datetime | None = None,
                 **fields: Any) -> dict[str, Any]:
    """One audit record as a dict: ``time``, ``event``, ``user``, then ``fields``.

    Parameters
    ----------
    event : str
        One of :data:`EVENTS`.
    user : str or None
        Who: an e-mail address or subject identifier; ``None`` or ``""`` reads ``"anonymous"``.
    when : datetime, optional
        The moment (timezone-aware); now by default. Written in UTC.
    **fields
        The event's own fields, e.g. ``page=``, ``filters=``, ``rows=``.

    Returns
    -------
    dict
        JSON-safe values only (tuples as lists, NaN as null).

    Raises
    ------
    ValueError
        For an unknown event or a field named like a reserved one.

    Notes
    -----
    No R equivalent; the layout follows the JSON Lines convention (one object per line).
    """
    if event not in EVENTS:
        raise ValueError(f"Unknown audit event '{event}'. Use one of: {', '.join(EVENTS)}.")
    clash = sorted(_RESERVED & set(fields))
    if clash:
        raise ValueError(f"Audit fields may not be named {', '.join(clash)}: these names are "
                         "set by audit_record itself.")
    moment = (when or _utc_now()).astimezone(UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return {"time": stamp, "event": event, "user": user or ANONYMOUS,
            **{k: _plain(v) for k, v in fields.items()}}


def audit_line(record: Mapping[str, Any]) -> str:
    """The record as one line of compact JSON (UTF-8 text kept readable), with a newline."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def file_sha256(data: bytes) -> str:
    """The SHA-256 of a file's bytes in hex: how the audit trail names an upload."""
    return hashlib.sha256(data).hexdigest()


class AuditTrail:
    """Writes audit records to one destination: a text stream or a file path (appended).

    Parameters
    ----------
    destination : str or None
        ``None``, ``""``, ``"-"`` or ``"stdout"`` for standard output, else a file path.
    stream : TextIO, optional
        Write to this stream instead (tests).
    """

    def __init__(self, destination: str | None = None, *, stream: TextIO | None = None):
        self.destination = (destination or "").strip()
        self._stream = stream
        self._lock = threading.Lock()
        self.path: Path | None = (None if stream is not None
                                  or self.destination.lower() in _STDOUT_NAMES
                                  else Path(self.destination))

    def __repr__(self) -> str:
        return f"AuditTrail({str(self.path) if self.path else 'stdout'!r})"

    def write(self, event: str, user: str | None, **fields: Any) -> dict[str, Any]:
        """Record one event now and return the record written."""
        record = audit_record(event, user, **fields)
        line = audit_line(record)
        with self._lock:
            if self.path is not None:
                # Opened per line: a rotated or removed file is recreated, and O_APPEND keeps
                # lines of several processes whole.
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(line)
            else:
                out = self._stream or sys.stdout
                out.write(line)
                out.flush()
        return record


def trail_from_environment(environ: Mapping[str, str] | None = None) -> AuditTrail:
    """The audit trail ``HCC_AUDIT_LOG`` asks for (standard output when it is unset)."""
    env = os.environ if environ is None else environ
    return AuditTrail(env.get(AUDIT_ENV))
