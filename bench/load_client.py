"""A Streamlit client that speaks the app's WebSocket protocol, as the browser does.

The browser and the server exchange protobuf messages over ``/_stcore/stream``: the browser sends
``BackMsg`` (``rerun_script`` with the page and every widget's value, ``file_urls_request`` before
an upload), the server streams ``ForwardMsg`` (``new_session``, ``navigation``, ``delta`` with the
elements, ``script_finished``). This client does the same with the ``websockets`` library and
Streamlit's own generated protobuf classes, so a load test drives the real server code path: the
script runs, every element is serialised and sent, nothing is mocked.

Like the browser it first loads the page over HTTP (that sets the cookies: nginx's worker cookie
for sticky sessions and Streamlit's XSRF cookie for uploads), sends the values of the widgets the
last run showed with each rerun, and follows the page's query string.
"""

from __future__ import annotations

import asyncio
import http.cookies
import time
import urllib.request
import uuid
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Common_pb2 import FileURLs, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

__all__ = ["AppClient", "Widget", "RunResult"]

_EARLY_FOR_RERUN = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Widget:
    """A widget the last run showed: its id, element kind ('multiselect'...), label and key."""

    id: str
    kind: str
    label: str
    key: str
    options: tuple[str, ...] = ()


@dataclass
class RunResult:
    """One script run as the client saw it: seconds from request to ``script_finished``."""

    seconds: float
    messages: int
    exceptions: list[str] = field(default_factory=list)


def _widget_key(widget_id: str) -> str:
    # Streamlit's ids for keyed widgets are "$$ID-<hash>-<user key>".
    parts = widget_id.split("-", 2)
    return parts[2] if widget_id.startswith("$$ID-") and len(parts) == 3 else ""


class AppClient:
    """One browser tab's worth of Streamlit session, over the WebSocket protocol.

    Parameters
    ----------
    base_url
        ``http://host:port`` of the app (nginx or a single Streamlit process).
    timeout
        Seconds a run may take before :meth:`rerun` raises ``TimeoutError``.
    """

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.session_id = ""
        self.pages: dict[str, str] = {}  # url path ("" for the default page) -> page script hash
        self.page_hash = ""
        self.query_string = ""
        self.widgets: dict[str, Widget] = {}  # key (or label) -> widget of the last run
        self._run_widgets: dict[str, Widget] = {}
        self._values: dict[str, WidgetState] = {}  # widget id -> the value this client holds
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._finished: asyncio.Future | None = None
        self._file_urls: dict[str, asyncio.Future] = {}
        self._messages = 0
        self._exceptions: list[str] = []
        self.closed_reason = ""

    # -- connection --------------------------------------------------------------------------
    def _load_page(self) -> None:
        # The page itself (nginx's worker cookie), then the health check the page's script
        # makes before it connects (Streamlit's XSRF cookie).
        for path in ("/", "/_stcore/health"):
            req = urllib.request.Request(self.base_url + path, headers=self._cookie_header())
            with _NO_PROXY.open(req, timeout=self.timeout) as r:
                r.read()
                for raw in r.headers.get_all("Set-Cookie") or []:
                    jar = http.cookies.SimpleCookie()
                    jar.load(raw)
                    self.cookies.update({k: m.value for k, m in jar.items()})

    def _cookie_header(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    async def connect(self, existing_session_id: str = "") -> None:
        """Load the page (cookies), open the WebSocket; no script runs until :meth:`rerun`."""
        await asyncio.to_thread(self._load_page)
        ws_url = "ws" + self.base_url[4:] + "/_stcore/stream"
        # The browser sends [subprotocol, XSRF token, session id to resume]; empty entries are
        # not valid tokens, so the token slot holds the XSRF cookie (or a placeholder).
        xsrf = self.cookies.get("_streamlit_xsrf") or "none"
        protocols = ["streamlit"] + ([xsrf, existing_session_id] if existing_session_id else [])
        self._ws = await websockets.connect(
            ws_url, subprotocols=protocols, max_size=None, open_timeout=self.timeout,
            ping_interval=None, proxy=None, compression=None,
            additional_headers={**self._cookie_header(), "Origin": self.base_url})
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass

    # -- messages from the server -------------------------------------------------------------
    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                self._handle(raw)
        except websockets.ConnectionClosed as e:
            self.closed_reason = f"connection closed ({e.code})"
        finally:
            if not self.closed_reason:
                self.closed_reason = "connection closed"
            if self._finished is not None and not self._finished.done():
                self._finished.set_exception(ConnectionError(self.closed_reason))

    def _handle(self, raw: bytes) -> None:
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        self._messages += 1
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            self._run_widgets = {}
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            self.page_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            el_kind = msg.delta.new_element.WhichOneof("type")
            el = getattr(msg.delta.new_element, el_kind)
            if el_kind == "exception":
                self._exceptions.append(f"{el.type}: {el.message}")
            widget_id = getattr(el, "id", "")
            if widget_id.startswith("$$ID-"):
                key = _widget_key(widget_id)
                w = Widget(widget_id, el_kind, getattr(el, "label", ""), key,
                           tuple(getattr(el, "options", ()) or ()))
                self._run_widgets[key or w.label] = w
        elif kind == "file_urls_response":
            fut = self._file_urls.pop(msg.file_urls_response.response_id, None)
            if fut is not None and not fut.done():
                fut.set_result(msg.file_urls_response)
        elif kind == "script_finished" and msg.script_finished != _EARLY_FOR_RERUN:
            self.widgets = self._run_widgets
            # Like the browser, hold values only for widgets the last run showed.
            shown = {w.id for w in self.widgets.values()}
            self._values = {i: s for i, s in self._values.items() if i in shown}
            if self._finished is not None and not self._finished.done():
                self._finished.set_result(time.perf_counter())

    # -- actions ------------------------------------------------------------------------------
    async def rerun(self, page: str | None = None,
                    changes: list[WidgetState] | None = None) -> RunResult:
        """Ask for a script run (on ``page``, a url path; with widget ``changes``) and wait.

        Returns the seconds from sending the request to the server's ``script_finished``.
        """
        if page is not None:
            if page not in self.pages:
                raise KeyError(f"no page {page!r}; the app has {sorted(self.pages)}")
            self.page_hash = self.pages[page]
        triggers = []
        for state in changes or []:
            if state.WhichOneof("value") == "trigger_value":
                triggers.append(state)  # a button press counts for one run only
            else:
                self._values[state.id] = state
        cs = ClientState(query_string=self.query_string, page_script_hash=self.page_hash)
        cs.widget_states.widgets.extend([*self._values.values(), *triggers])
        msg = BackMsg()
        msg.rerun_script.CopyFrom(cs)
        loop = asyncio.get_running_loop()
        self._finished = loop.create_future()
        before, self._exceptions = self._messages, []
        t0 = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        t1 = await asyncio.wait_for(self._finished, self.timeout)
        return RunResult(t1 - t0, self._messages - before, list(self._exceptions))

    def widget(self, key_or_label: str) -> Widget:
        try:
            return self.widgets[key_or_label]
        except KeyError:
            raise KeyError(f"the last run showed no widget {key_or_label!r}; it showed "
                           f"{sorted(self.widgets)}") from None

    def multiselect(self, key: str, values: list[str]) -> WidgetState:
        """The state of multiselect ``key`` with ``values`` (option strings) chosen."""
        state = WidgetState(id=self.widget(key).id)
        state.string_array_value.data.extend(values)
        return state

    def button(self, key: str) -> WidgetState:
        return WidgetState(id=self.widget(key).id, trigger_value=True)

    async def upload(self, key: str, name: str, data: bytes,
                     mime: str = "text/csv") -> WidgetState:
        """Upload ``data`` as the browser's file uploader does; returns the uploader's state.

        Asks the server for an upload URL (``file_urls_request``), PUTs the file there as
        multipart form data with the XSRF token, and returns the widget state that names it.
        """
        widget = self.widget(key)
        request_id = uuid.uuid4().hex
        fut = asyncio.get_running_loop().create_future()
        self._file_urls[request_id] = fut
        msg = BackMsg()
        msg.file_urls_request.request_id = request_id
        msg.file_urls_request.session_id = self.session_id
        msg.file_urls_request.file_names.append(name)
        await self._ws.send(msg.SerializeToString())
        response = await asyncio.wait_for(fut, self.timeout)
        if response.error_msg:
            raise RuntimeError(f"the server refused the upload: {response.error_msg}")
        urls: FileURLs = response.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{name}\"\r\nContent-Type: {mime}\r\n\r\n").encode() + data \
            + f"\r\n--{boundary}--\r\n".encode()
        headers = {**self._cookie_header(),
                   "Content-Type": f"multipart/form-data; boundary={boundary}",
                   "X-Xsrftoken": self.cookies.get("_streamlit_xsrf", "")}
        url = urls.upload_url if urls.upload_url.startswith("http") else \
            self.base_url + urls.upload_url

        def put() -> None:
            req = urllib.request.Request(url, data=body, headers=headers, method="PUT")
            with _NO_PROXY.open(req, timeout=self.timeout) as r:
                r.read()

        await asyncio.to_thread(put)
        state = WidgetState(id=widget.id)
        state.file_uploader_state_value.uploaded_file_info.append(
            UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id, file_urls=urls))
        return state
