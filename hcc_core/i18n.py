"""Translations: English source strings, Simplified Chinese catalogue (issue 17).

Every user-visible string is written in English and wrapped for translation:

- ``_("Overall survival")`` translates now, into the language of the current script run;
- ``N_("Overall survival")`` only marks a module-level constant for extraction; translate it
  with ``_(CONSTANT)`` where it is shown;
- ``ngettext("{n} patient", "{n} patients", n).format(n=n)`` for plurals.

Placeholders are named and filled with ``str.format`` *after* translation, never f-strings
inside ``_()`` (extraction cannot see them): ``_("Column {column}: {n} rows").format(...)``.

The catalogues are standard gettext files, one domain per part of the code:
``hcc_core/locale/<domain>.pot`` (extracted with Babel, ``pybabel extract``) and
``hcc_core/locale/zh_CN/LC_MESSAGES/<domain>.po``, which a translator edits in Poedit or
Weblate. Domains: ``core`` (strings in ``hcc_core``: messages, tables, charts, exports) and
``app`` (``app.py`` and ``pages/``); a lookup tries every domain. The ``.po`` is compiled in memory when first
needed (Babel's ``write_mo``), so nothing is written to disk at run time.

The language is per script run (a context variable, so concurrent sessions never see each
other's language); the app sets it at the top of every run with :func:`set_language`.
"""

from __future__ import annotations

import contextvars
import functools
import gettext
import io
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAINS = ("app", "core")
#: Language codes offered in the interface, with their names as shown in the switch.
LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"
_GETTEXT_LOCALE = {"zh": "zh_CN"}

_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "hcc_language", default=DEFAULT_LANGUAGE
)


def set_language(code: str) -> str:
    """Use ``code`` ("en" or "zh") for this run; an unknown code falls back to English."""
    code = code if code in LANGUAGES else DEFAULT_LANGUAGE
    _current.set(code)
    return code


def get_language() -> str:
    """The language code of the current run."""
    return _current.get()


@functools.cache
def translations(code: str) -> gettext.NullTranslations:
    """The compiled catalogue for ``code`` (English: no catalogue, strings as written)."""
    locale = _GETTEXT_LOCALE.get(code)
    if locale is None:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    merged: gettext.NullTranslations = gettext.NullTranslations()
    for domain in reversed(DOMAINS):
        po_path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
        if not po_path.exists():
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        domain_translations = gettext.GNUTranslations(buffer)
        domain_translations.add_fallback(merged)
        merged = domain_translations
    return merged


def _(message: str) -> str:
    """``message`` translated into the current run's language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, translated."""
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` translated in ``context`` (for short words with several meanings)."""
    return translations(_current.get()).pgettext(context, message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (module-level constants)."""
    return message
