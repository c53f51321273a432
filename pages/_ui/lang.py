"""The interface language: the sidebar switch, the URL parameter ``lang`` and the browser default.

Every run starts with :func:`begin` (app.py, before anything renders): the language is the
switch's value, else the link's ``lang=``, else the browser's (``st.context.locale``), else
English. Strings are translated with ``hcc_core.i18n`` (domain ``app`` for app.py and pages/).
Widget values stay language-independent (codes such as ``"os"``; the label in the chosen
language comes from ``format_func``), so a shared link works in both languages.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import streamlit as st

from hcc_core.i18n import DEFAULT_LANGUAGE, LANGUAGES, _, get_language, set_language

PARAM = "lang"  # URL parameter and widget key
SWITCH_LABEL = "Language / 语言"  # both languages: whoever opens the app can read it
T = TypeVar("T")


def language_of(locale: str | None) -> str:
    """The interface language for a browser locale: "zh" for zh, zh-CN, zh-Hans-SG, zh_TW
    (Simplified is the one Chinese offered), else "en"."""
    return "zh" if (locale or "").lower().replace("_", "-").split("-")[0] == "zh" else "en"


def browser_language() -> str:
    """The language the browser asks for (``navigator.language``, as ``st.context.locale``)."""
    return language_of(st.context.locale)


def _chosen() -> str:
    """The language of this run: the switch, else the link, else the browser."""
    for value in (st.session_state.get(PARAM), st.query_params.get(PARAM)):
        if value in LANGUAGES:
            return value
    return browser_language()


def begin() -> str:
    """Set this run's language before anything renders; returns its code."""
    code = set_language(_chosen())
    if st.session_state.get(PARAM) not in LANGUAGES:
        st.session_state[PARAM] = code  # the switch opens on the browser's language
    return code


def switch(where: Any = None) -> str:
    """The "Language / 语言" switch (English / 简体中文), kept in the URL as ``lang=``.

    The URL holds the code (``lang=zh``), written here on every run rather than by Streamlit's
    ``bind="query-params"``, which would write the option's label ("简体中文") and drop
    ``lang=zh`` from a shared link as not one of its labels. English leaves the link clean
    unless the browser asks for another language (then ``lang=en`` keeps the choice).
    """
    where = where or st.sidebar
    code = set_language(where.selectbox(SWITCH_LABEL, list(LANGUAGES), format_func=LANGUAGES.get,
                                        key=PARAM, persist_state="session"))
    if code != DEFAULT_LANGUAGE or browser_language() != DEFAULT_LANGUAGE:
        if st.query_params.get(PARAM) != code:
            st.query_params[PARAM] = code
    elif PARAM in st.query_params:
        del st.query_params[PARAM]
    return code


def core(msgid: str) -> str:
    """A header or label that ``hcc_core`` produces (a table column such as "Test"), as it
    reads in this run's language, to find it in a core table. Translated by the ``core``
    catalogue; deliberately not extracted into ``app`` (one translation per string)."""
    return _(msgid)


class Translated(Mapping[str, str]):
    """A dict of ``N_``-marked labels whose values read in the current run's language.

    ``ENDPOINT_LABELS = Translated({"os": N_("Overall survival (OS)")})``: then
    ``ENDPOINT_LABELS["os"]`` and ``format_func=ENDPOINT_LABELS.get`` give the label translated
    when they are read, while the keys (the widget values in the URL) stay codes.
    """

    def __init__(self, labels: Mapping[str, str]) -> None:
        self._labels = dict(labels)

    def __getitem__(self, key: str) -> str:
        return _(self._labels[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


def keep_language(fn: Callable[[], T]) -> Callable[[], T]:
    """``fn`` run later (a download built on click, on another thread) in this run's language.

    The language is set in a copy of the calling thread's context, so it never leaks into
    whatever that thread runs next.
    """
    code = get_language()

    def run_in(code: str) -> T:
        set_language(code)
        return fn()

    return lambda: contextvars.copy_context().run(run_in, code)


__all__ = ["PARAM", "Translated", "begin", "browser_language", "core", "get_language", "keep_language",
           "language_of", "switch"]
