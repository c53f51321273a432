"""Sign-in (Streamlit's OpenID Connect ``st.login``) and the audit trail of this session.

Sign-in is on when the secrets have an ``[auth]`` section (see the README, Sign-in): then
app.py calls :func:`gate` before it builds the sidebar or runs a page, so a session that has
not signed in is sent the sign-in prompt and nothing else. Without ``[auth]`` the app opens
as before and the audit trail names the user ``"anonymous"``.

The audit trail (``hcc_core.audit``) gets: sign-in and sign-out, uploads, views (page and
filters, when either changes), exports (when the file is built, i.e. clicked) and errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from hcc_core import audit as A
from hcc_core.i18n import _

_SIGNED_IN = "_audit_signed_in"
_LAST_VIEW = "_audit_last_view"
_LAST_UPLOAD = "_audit_last_upload"
_trails: dict[str | None, A.AuditTrail] = {}


def trail() -> A.AuditTrail:
    """The process's audit trail, as ``HCC_AUDIT_LOG`` says now (one per destination)."""
    import os

    where = os.environ.get(A.AUDIT_ENV)
    if where not in _trails:
        _trails[where] = A.trail_from_environment()
    return _trails[where]


def required() -> bool:
    """True when sign-in is configured: the secrets have an ``[auth]`` section."""
    return bool(st.secrets.load_if_toml_exists()) and "auth" in st.secrets


def signed_in() -> bool:
    return bool(st.user.get("is_logged_in"))


def user_id() -> str:
    """Who the audit trail names: e-mail, else username, else subject; "anonymous"."""
    if not signed_in():
        return A.ANONYMOUS
    for claim in ("email", "preferred_username", "sub"):
        value = st.user.get(claim)
        if value:
            return str(value)
    return A.ANONYMOUS


def display_name() -> str:
    return str(st.user.get("name") or user_id())


def audit(event: str, **fields: Any) -> None:
    """Record ``event`` for this session's user."""
    trail().write(event, user_id(), **fields)


def gate(required_now: bool | None = None) -> bool:
    """Sign-in gate for app.py: True when the session may see the app.

    Without ``[auth]`` always True. Signed in: records the sign-in once per session. Not
    signed in: shows only the sign-in prompt and returns False (app.py then stops: no data,
    filters or page content).
    """
    if not (required() if required_now is None else required_now):
        return True
    if signed_in():
        if not st.session_state.get(_SIGNED_IN):
            st.session_state[_SIGNED_IN] = True
            audit("sign_in", name=st.user.get("name"), issuer=st.user.get("iss"))
        return True
    st.title(_("HCC Cohort Explorer"))
    st.markdown(_("Sign in with your hospital account to open the cohort explorer. Patient "
                  "data and results are shown only after you have signed in."))
    if st.button(_("Sign in"), key="auth_sign_in", type="primary", icon=":material/login:"):
        st.login()
    return False


def account_box(required_now: bool | None = None) -> None:
    """The signed-in user's name and a "Sign out" button (sidebar); nothing without sign-in."""
    if not ((required() if required_now is None else required_now) and signed_in()):
        return
    box = st.sidebar.container(horizontal=True, vertical_alignment="center")
    box.caption(_("Signed in as **{name}**").format(name=display_name()), width="stretch")
    if box.button(_("Sign out"), key="auth_sign_out", icon=":material/logout:"):
        audit("sign_out")
        st.session_state.pop(_SIGNED_IN, None)
        st.logout()
        st.stop()  # the browser is being sent to sign-out: send it nothing more


def note_view(page: str, filters: Mapping[str, Any], data_fingerprint: str) -> None:
    """Record a view when the page, the filters or the data differ from the last one."""
    seen = (page, tuple(sorted(filters.items())), data_fingerprint)
    if st.session_state.get(_LAST_VIEW) != seen:
        st.session_state[_LAST_VIEW] = seen
        audit("view", page=page, filters=dict(filters), fingerprint=data_fingerprint)


def note_upload(upload: Mapping[str, Any] | None, data_fingerprint: str) -> None:
    """Record an upload the first time a run sees it loaded (name, SHA-256, rows; no content)."""
    if not upload or st.session_state.get(_LAST_UPLOAD) == upload["key"]:
        return
    st.session_state[_LAST_UPLOAD] = upload["key"]
    cohort = upload["cohort"]
    audit("upload", file_name=upload["name"], file_sha256=cohort.sha256,
          fingerprint=data_fingerprint, rows=len(cohort.data))


def note_error(where: str, kind: str) -> None:
    """Record an error shown to the user: where and its kind, never its message."""
    audit("error", where=where, kind=kind)


def audited_export(make: Callable[[], Any], kind: str, file_name: str,
                   data_fingerprint: str, user: str | None = None) -> Callable[[], Any]:
    """``make`` for a download button, recording the export when the file is built.

    Deferred downloads are built outside the script run, so the user is read now (or given:
    ``user``, read once per run by app.py; each read of ``st.user`` looks for the secrets
    files on disk).
    """
    user = user_id() if user is None else user
    current = trail()

    def build() -> Any:
        out = make()
        current.write("export", user, kind=kind, file_name=file_name,
                      fingerprint=data_fingerprint)
        return out

    return build
