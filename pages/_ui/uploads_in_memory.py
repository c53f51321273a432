"""Uploaded files never touch the disk, not even as a temporary spool (issue 18 item 3).

Streamlit 1.67 receives a file from ``st.file_uploader`` with Starlette's multipart parser, which
holds each file in a ``SpooledTemporaryFile``: in memory up to ``MultiPartParser.spool_max_size``
(1 MiB by default), then in a file under ``$TMPDIR``. Streamlit reads the whole file into memory
right after (its uploaded-file manager is in-memory), so the spool only adds a copy of patient data
on disk while the upload arrives. Raising the spool size above the largest upload the server
accepts (``server.maxUploadSize``, see :mod:`hcc_core.limits`) keeps the whole upload in memory;
the server's streaming size cap stops a larger body before it is buffered. ``spool_max_size`` is
a public class attribute with its own docstring in Starlette ("The maximum size of the spooled
temporary file used to store file data"); NiceGUI's documentation recommends the same override
for large uploads. The container and Kubernetes setups also mount ``/tmp`` as tmpfs, so
any other temporary file is memory too.
"""

from __future__ import annotations

from starlette.formparsers import MultiPartParser

from hcc_core.limits import UPLOAD_LIMIT_MB

__all__ = ["SPOOL_BYTES", "keep_uploads_in_memory"]

# The server counts server.maxUploadSize in MiB; one more MiB covers the multipart framing.
SPOOL_BYTES = (UPLOAD_LIMIT_MB + 1) * 1024 * 1024


def keep_uploads_in_memory() -> None:
    """Raise Starlette's spool threshold above the upload limit (idempotent, once per process)."""
    if MultiPartParser.spool_max_size < SPOOL_BYTES:
        MultiPartParser.spool_max_size = SPOOL_BYTES
