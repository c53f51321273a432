"""Translations (issue 17): the catalogues are complete and current, every user-visible string
in app.py and pages/ is wrapped for translation, and the switch, the URL and the browser's
language choose the interface language."""

from __future__ import annotations

import ast
import os
import re
import threading
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from hcc_core import i18n
from hcc_core.i18n import N_, _, set_language
from pages._ui import lang
from tests.conftest import ROOT

LOCALE = ROOT / "hcc_core" / "locale"
# The sources of each domain, as the extraction commands in babel.cfg name them.
SOURCES = {"app": ["app.py", "pages"], "core": ["hcc_core"]}
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
APP_SOURCES = [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]


def _keep_dir(path: str) -> bool:
    # Babel's default filter skips folders starting with "_": pages/_ui and pages/_tte hold
    # most of the interface's strings.
    return not os.path.basename(path).startswith((".", "__"))


def _extracted(domain: str) -> set[tuple[str | None, str]]:
    """(context, msgid) of every string the sources wrap, extracted as pybabel does."""
    found = set()
    for source in SOURCES[domain]:
        path = ROOT / source
        if path.is_dir():
            messages = ((m[2], m[4]) for m in extract_from_dir(
                path, [("**.py", "python")], keywords=KEYWORDS, directory_filter=_keep_dir))
        else:
            messages = ((m[1], m[3]) for m in extract_from_file(
                "python", path, keywords=KEYWORDS))
        for message, context in messages:
            found.add((context, message if isinstance(message, str) else message[0]))
    return found


def _catalog(path: Path, locale: str | None = None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _ids(catalog) -> set[tuple[str | None, str]]:
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}


def _domains() -> list[str]:
    return [d for d in i18n.DOMAINS if (LOCALE / f"{d}.pot").exists()]


def test_app_domain_is_extracted():
    assert "app" in _domains()


@pytest.mark.parametrize("domain", i18n.DOMAINS)
def test_pot_is_current(domain):
    """The committed .pot holds exactly what the sources wrap (rerun the babel.cfg command)."""
    assert domain in _domains(), f"{domain}.pot is missing: extract it (see babel.cfg)"
    pot = _ids(_catalog(LOCALE / f"{domain}.pot"))
    code = _extracted(domain)
    assert not code - pot, f"wrapped but not in {domain}.pot: {sorted(code - pot)[:10]}"
    assert not pot - code, f"in {domain}.pot but no longer in the code: {sorted(pot - code)[:10]}"


PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@pytest.mark.parametrize("domain", i18n.DOMAINS)
def test_po_translates_every_entry(domain):
    """Every .pot entry has a Chinese translation, none fuzzy, with the same {placeholders}."""
    assert domain in _domains(), f"{domain}.pot is missing: extract it (see babel.cfg)"
    po = _catalog(LOCALE / "zh_CN" / "LC_MESSAGES" / f"{domain}.po", locale="zh_CN")
    pot_ids = _ids(_catalog(LOCALE / f"{domain}.pot"))
    assert not pot_ids - _ids(po), f"missing in zh_CN/{domain}.po: {sorted(pot_ids - _ids(po))[:10]}"
    problems = []
    for m in po:
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        if m.fuzzy:
            problems.append(("fuzzy", ids[0]))
        if not all(s.strip() for s in strings):
            problems.append(("untranslated", ids[0]))
        for s in strings:
            if s and sorted(PLACEHOLDER.findall(s)) != sorted(PLACEHOLDER.findall(ids[-1])):
                problems.append(("placeholders differ", ids[0]))
    assert not problems, problems[:10]


# ---- every user-visible string literal in app.py and pages/ is wrapped -------------------------
# Streamlit calls whose first argument (or these keywords) a user reads.
SHOWN_CALLS = {
    "title", "header", "subheader", "caption", "markdown", "write", "text", "info", "warning",
    "error", "success", "toast", "exception", "radio", "selectbox", "multiselect", "slider",
    "select_slider", "number_input", "text_input", "text_area", "date_input", "toggle",
    "checkbox", "button", "download_button", "file_uploader", "expander", "tabs", "metric",
    "spinner", "popover", "form_submit_button", "set_page_config", "Page", "caution",
}
SHOWN_KEYWORDS = {"label", "body", "help", "placeholder", "title", "page_title", "caption"}
WORDS = re.compile(r"[A-Za-z]{2,}")
# Standard abbreviations a Chinese clinician reads as they are: no translation needed.
SAME_IN_CHINESE = {"AFP", "SHR", "HR", "RMST", "CI", "df"}
TRANSLATING = {"_", "ngettext", "pgettext", "N_"}
LOGGERS = {"log", "logger", "logging"}


def _called_name(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _bare_text(node: ast.AST) -> list[str]:
    """English text in ``node`` that no translation call wraps."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        words = set(WORDS.findall(node.value))
        return [node.value] if words - SAME_IN_CHINESE else []
    if isinstance(node, ast.JoinedStr):  # only the literal parts: the {values} are code
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return [text] if set(WORDS.findall(text)) - SAME_IN_CHINESE else []
    if isinstance(node, ast.Call):
        if _called_name(node) in TRANSLATING:
            return []
        if _called_name(node) == "join":  # "; ".join(f"... {x}" for x in ...)
            return [t for a in node.args for t in _bare_text(a)]
        return []
    if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
        return _bare_text(node.elt)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [t for e in node.elts for t in _bare_text(e)]
    if isinstance(node, ast.BinOp):
        return _bare_text(node.left) + _bare_text(node.right)
    if isinstance(node, ast.IfExp):
        return _bare_text(node.body) + _bare_text(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [t for v in node.values for t in _bare_text(v)]
    return []


def unwrapped_strings(path: Path) -> list[str]:
    """'file:line: text' for each shown English literal not wrapped for translation."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or _called_name(node) not in SHOWN_CALLS:
            continue
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if isinstance(receiver, ast.Name) and receiver.id in LOGGERS:
            continue  # the server log is for the administrator, in English
        if _called_name(node) == "write" and not (isinstance(receiver, ast.Name)
                                                  and receiver.id == "st"):
            continue  # a file or audit trail's write(), not st.write
        args = node.args[:1] + [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
        if _called_name(node) == "metric":
            args = node.args[:2]
        elif _called_name(node) == "Page":  # st.Page(path, title=...): the path is no text
            args = args[1:]
        for text in (t for a in args for t in _bare_text(a)):
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            found.append(f"{where}:{node.lineno}: {text!r}")
    return found


def test_unwrapped_string_detector_finds_bare_text(tmp_path):
    source = tmp_path / "page.py"
    source.write_text(
        'st.title("Survival")\n'
        'c1.radio(_("Endpoint"), ["os", "pfs"], help="Which endpoint")\n'
        'st.caption(f"{n} patients" + _(" ok"))\n'
        'st.markdown("\\n".join(f"- **{r.label}**: HR {r.hr}, {r.n} patients" for r in rows))\n'
        'st.tabs([_("Model"), "Univariable"])\n'
        'st.caption(_("{n} events").format(n=3))\n'
        'st.markdown(f"**{x}** · n = {n}")\n',
        encoding="utf-8")
    found = [line.split(": ", 1)[1] for line in unwrapped_strings(source)]
    assert found == ["'Survival'", "'Which endpoint'", "' patients'", "'- ****: HR ,  patients'",
                     "'Univariable'"]


@pytest.mark.parametrize("name", [str(p.relative_to(ROOT)) for p in APP_SOURCES])
def test_shown_strings_are_wrapped(name):
    """Every file of the interface: a shown English literal must be wrapped (then extracted)."""
    assert unwrapped_strings(ROOT / name) == []


# ---- the language at run time ------------------------------------------------------------------
@pytest.fixture
def zh():
    set_language("zh")
    yield
    set_language("en")


def test_chinese_catalogue_is_used(zh):
    assert _("Overall survival (OS)") == "总生存期 (OS)"
    assert _("Uploaded: {name}").format(name="a.csv") == "已上传：a.csv"
    set_language("en")
    assert _("Overall survival (OS)") == "Overall survival (OS)"


def test_unknown_language_falls_back_to_english():
    assert set_language("fr") == "en"
    assert _("Overall survival (OS)") == "Overall survival (OS)"


@pytest.mark.parametrize(("locale", "code"), [
    ("zh-CN", "zh"), ("zh", "zh"), ("zh_TW", "zh"), ("ZH-hans-SG", "zh"), ("en-US", "en"),
    ("de-DE", "en"), ("", "en"), (None, "en")])
def test_browser_locale_chooses_language(locale, code):
    assert lang.language_of(locale) == code


def test_translated_labels_keep_codes(zh):
    labels = lang.Translated({"os": N_("Overall survival (OS)"), "x": "HAIC"})
    assert list(labels) == ["os", "x"]
    assert labels["os"] == labels.get("os") == "总生存期 (OS)"
    assert labels["x"] == "HAIC"


def test_download_built_later_keeps_the_language(zh):
    """A download is built when clicked, on another thread: in the language of its page."""
    build = lang.keep_language(lambda: (_("Download CSV"), i18n.get_language()))
    out = []
    worker = threading.Thread(target=lambda: out.append((build(), i18n.get_language())))
    worker.start()
    worker.join()
    assert out == [(("下载 CSV", "zh"), "en")]  # and the worker's own context stays English


APP = str(ROOT / "app.py")


def test_url_lang_zh_shows_chinese_sidebar_and_keeps_codes():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.title[0].value == "HCC 队列分析平台"
    switch = at.sidebar.selectbox(key="lang")
    assert switch.value == "zh" and switch.label == "Language / 语言"
    assert switch.options == ["English", "简体中文"]
    source = at.sidebar.radio(key="source")
    assert source.label == "数据来源"
    assert source.value == "demo"
    assert source.options == ["模拟演示队列（95 例患者）"]  # as the run drew them
    assert at.sidebar.toggle[0].label == "演示模式（大字号）"


def test_switch_back_to_english(zh):
    # AppTest formats widget values in the test's thread: there too the page's language.
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    at.sidebar.selectbox(key="lang").set_value("en").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.title[0].value == "HCC Cohort Explorer"
    assert at.sidebar.radio(key="source").label == "Data source"
    assert "lang" not in at.query_params  # English is the default: a clean link


def test_no_lang_and_no_browser_locale_is_english():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert at.sidebar.title[0].value == "HCC Cohort Explorer"
    assert at.sidebar.selectbox(key="lang").value == "en"


def test_link_keeps_lang_zh_and_choice_codes(zh):
    """The link keeps ``lang=zh`` and a choice as its code, not its Chinese label (Streamlit's
    bind would write the label "简体中文" and drop ``lang=zh`` as not one of them)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = "zh"
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["lang"] == "zh"
    at.radio(key="surv_endpoint").set_value("pfs").run()
    assert at.radio(key="surv_endpoint").value == "pfs"
    assert at.query_params["surv_endpoint"] == "pfs"
    assert at.query_params["lang"] == "zh"


@pytest.mark.parametrize("first, second", [("zh", "en"), ("en", "zh")])
def test_cox_tab_link_opens_the_same_tab_in_the_other_language(zh, first, second):
    """A link made in one language (cox_tab=univariable) opens the same tab in the other, and
    switching language keeps the open tab and its code in the link."""
    labels = {"en": "Univariable screen", "zh": "单因素筛选"}
    for code in (first, second):
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params.update({"lang": code, "cox_tab": "univariable"})
        at.switch_page("pages/cox.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.session_state["cox_tab"] == labels[code]
        assert at.query_params["cox_tab"] == "univariable"
    set_language(second)  # AppTest formats the page's widget values in the test's thread
    at.sidebar.selectbox(key="lang").set_value(first).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["cox_tab"] == labels[first]
    assert at.query_params["cox_tab"] == "univariable"
