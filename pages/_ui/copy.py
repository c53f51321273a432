"""A results sentence shown as text, with its copy box one click away.

``st.code`` gives the copy button, but its front-end module (a syntax highlighter with every
language, 1.56 MB of JavaScript) is loaded and run before the page it sits on is drawn: on the
Survival page it cost more of a new session's first chart than anything else (issue 19). The
sentence is therefore shown as plain text and the copy box lives in a popover, whose content the
browser draws only when it is opened.
"""

from __future__ import annotations

import streamlit as st

from hcc_core.i18n import _

from . import plain_markdown


def copyable_sentence(text: str) -> None:
    """Show ``text`` in a bordered box, with "Copy" opening the same text in a copy box."""
    with st.container(border=True):
        st.markdown(plain_markdown(text))
        with st.popover(_("Copy the sentence"), icon=":material/content_copy:"):
            st.code(text, language=None, wrap_lines=True)
