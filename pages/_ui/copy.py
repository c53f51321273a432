"""A results sentence shown as text, with its copy box one click away.

``st.code`` gives the copy button, but its front-end module (a syntax highlighter with every
language, 1.56 MB of JavaScript) is loaded and run before the page it sits on is drawn: on the
Survival page it cost more of a new session's first chart than anything else (issue 19). The
sentence is therefore shown as plain text and the copy box lives in a popover, whose content the
browser draws only when it is opened.
"""

from __future__ import annotations

import re

import streamlit as st

from hcc_core.i18n import _

# Characters Markdown (and Streamlit's $...$ maths) would read as markup.
_MARKUP = re.compile(r"([\\`*_{}\[\]()<>#+|~$!-])")


def plain_markdown(text: str) -> str:
    """``text`` escaped so that st.markdown shows it literally (a group named "*A*" stays)."""
    return _MARKUP.sub(r"\\\1", text)


def copyable_sentence(text: str) -> None:
    """Show ``text`` in a bordered box, with "Copy" opening the same text in a copy box."""
    with st.container(border=True):
        st.markdown(plain_markdown(text))
        with st.popover(_("Copy the sentence"), icon=":material/content_copy:"):
            st.code(text, language=None, wrap_lines=True)
