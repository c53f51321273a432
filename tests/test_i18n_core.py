"""The core half of the Chinese interface (issue 17): the ``core`` gettext catalogue and
what ``hcc_core`` produces in Chinese.

The catalogue checks extract every string marked in ``hcc_core`` exactly as ``pybabel
extract`` does (the command is in babel.cfg) and compare it with
``hcc_core/locale/zh_CN/LC_MESSAGES/core.po``.
"""

from __future__ import annotations

import ast
import functools
import string
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from hcc_core.i18n import LOCALE_DIR, set_language

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "hcc_core"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}


@functools.cache
def _extracted() -> dict[str, list[str]]:
    """{msgid: [file:line, ...]} of every marked string in hcc_core."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        CORE, method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def _catalogue(path: Path):
    with path.open("rb") as handle:
        return read_po(handle, locale="zh_CN")


def _placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


@pytest.fixture
def zh():
    set_language("zh")
    yield
    set_language("en")


def test_every_marked_core_string_has_a_chinese_translation():
    po = _catalogue(LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "core.po")
    translated: dict[str, str] = {}
    fuzzy = []
    for m in po:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy:
            fuzzy.append(ids[0])
        for msgid in ids:
            translated[msgid] = strings[0]
    extracted = _extracted()
    missing = {k: v[0] for k, v in extracted.items() if not translated.get(k)}
    assert not missing, f"{len(missing)} strings without a Chinese translation: {missing}"
    assert not fuzzy, f"fuzzy entries (not used at run time): {fuzzy}"


def test_placeholders_of_each_translation_match_its_msgid():
    po = _catalogue(LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "core.po")
    wrong = []
    for m in po:
        if not m.id:
            continue
        msgid = m.id[0] if isinstance(m.id, tuple) else m.id
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for msgstr in strings:
            if msgstr and _placeholders(msgstr) != _placeholders(msgid):
                wrong.append((msgid, msgstr))
    assert not wrong


def test_the_template_is_up_to_date_with_the_code():
    pot = _catalogue(LOCALE_DIR / "core.pot")
    in_pot = set()
    for m in pot:
        if m.id:
            in_pot.update(m.id if isinstance(m.id, tuple) else (m.id,))
    assert in_pot == set(_extracted()), (
        "core.pot is out of date: rerun the extraction command in babel.cfg"
    )


def _is_literal_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def test_errors_raised_by_hcc_core_are_wrapped_for_translation():
    """A ``CohortError("...")`` with a literal or f-string message is never translated."""
    unwrapped: dict[str, list[int]] = {}
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "CohortError" and _is_literal_text(node.args[0]):
                unwrapped.setdefault(str(path.relative_to(ROOT)), []).append(node.lineno)
    assert not unwrapped, f"CohortError messages not wrapped in _(): {unwrapped}"


def test_no_function_that_translates_also_assigns_to_underscore():
    """``for _, row in ...`` or ``a, _ = ...`` makes ``_`` a local: ``_("...")`` then fails."""
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
    nested = (*scopes, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    clashes = []
    for path in sorted(CORE.rglob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, scopes):
                continue
            stores = calls = False
            todo = list(ast.iter_child_nodes(fn))
            while todo:
                node = todo.pop()
                if isinstance(node, nested):
                    continue
                if isinstance(node, ast.Name) and node.id == "_":
                    stores |= isinstance(node.ctx, ast.Store)
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_":
                    calls = True
                todo.extend(ast.iter_child_nodes(node))
            if stores and calls:
                clashes.append(f"{path.relative_to(ROOT)}:{fn.lineno}")
    assert not clashes, clashes


# What a Chinese-speaking user sees --------------------------------------------------------


def test_validation_error_in_chinese_names_file_column_row_and_value(zh):
    from hcc_core.validate import validate_cohort

    raw = pd.DataFrame(
        {"patient_id": ["P1", "P2"], "local_modality": ["none", "mTACE"], "age": ["61", "abc"]},
        index=pd.RangeIndex(2, 4),
    )
    with pytest.raises(Exception) as info:
        validate_cohort(raw, "cohort.csv")
    assert str(info.value).startswith(
        "文件“cohort.csv”无法使用。列“age”中有无法使用的值：'abc'（位于第 3 行（patient_id P2））。"
        "应为数字"
    )


def test_missing_columns_error_in_chinese_names_the_analysis(zh):
    from hcc_core.errors import MissingColumnsError

    message = str(MissingColumnsError("landmark analysis", ["os_months"]))
    assert message.startswith("界标分析需要列 'os_months'，但该队列没有这些列。")


def test_mapping_dropdown_labels_follow_the_language():
    from hcc_core import schema

    assert schema.field_label(schema.ALBUMIN) == "Albumin (g/L)"
    set_language("zh")
    try:
        assert schema.field_label(schema.ALBUMIN) == "白蛋白（g/L）"
        assert schema.field_label(schema.OS_MONTHS) == "总生存期 OS（月）"
        assert schema.field_label("ae_nausea") == "不良事件：nausea（CTCAE 分级）"
    finally:
        set_language("en")
    assert schema.field_label(schema.OS_MONTHS) == "Overall survival (months)"


@pytest.fixture(scope="module")
def demo():
    from hcc_core.io import load_cohort

    return load_cohort(ROOT / "data" / "demo_cohort.csv").data


def test_table_one_in_chinese_has_chinese_headers_labels_and_methods(demo, zh):
    from hcc_core.tables import format_table_one, table_one

    result = table_one(demo)
    table = format_table_one(result)
    assert list(table.columns) == [
        "特征", "系统治疗 (N = 39)", "局部 + 系统治疗 (N = 56)",
        "检验", "统计量", "p", "Fisher 精确检验 p", "SMD", "缺失",
    ]
    assert table.iloc[:4, 0].tolist() == ["年龄（岁）", "性别", "\u2003\u2003男", "\u2003\u2003女"]
    # numbers are the same in both languages
    assert table.iloc[0, 1] == "60.95 +/- 11.18"
    assert result.method.startswith("连续变量：各组分别行 Shapiro-Wilk 检验")
    # the tidy table keeps its code names
    assert {"variable", "n[systemic]", "p_value"} <= set(result.table.columns)


def test_km_chart_in_chinese_has_chinese_axis_and_risk_table_titles(demo, zh):
    from hcc_core import charts
    from hcc_core.survival import fit_km

    spec = charts.km_chart(fit_km(demo, "os", "treatment_group"))
    curves, risk = spec["vconcat"]
    line = curves["layer"][1]["encoding"]
    assert line["y"]["title"] == "生存率"
    assert line["x"]["title"] == "月"
    assert risk["encoding"]["x"]["title"] == "风险人数"
    # the group's own row of the risk table is recognised by its translated kind
    assert "== '风险人数'" in risk["encoding"]["y"]["axis"]["labelExpr"]
    assert [t["title"] for t in line["tooltip"]][:2] == ["组别", "月"]


@pytest.fixture(scope="module")
def zh_pack(demo):
    import datetime as dt

    from hcc_core.cohort import Filters
    from hcc_core.report import collect_pack, make_provenance

    set_language("zh")
    try:
        prov = make_provenance(
            Filters(), n=len(demo), n_total=len(demo), source="合成演示队列",
            sha256="0" * 64, is_demo=True, created=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
        )
        yield collect_pack(demo, prov, scale=0)
    finally:
        set_language("en")


def test_results_sentence_in_chinese_reads_as_a_clinician_writes_it(zh_pack, zh):
    assert zh_pack.survival[0].sentence == (
        "中位 OS：局部 + 系统治疗组 20.3 个月（95% 置信区间 15.7-NE） vs 单纯系统治疗组 14.7 个月"
        "（10.0-21.2）（HR 0.57，95% 置信区间 0.33-0.99；log-rank 检验 p = 0.045；95 名患者，"
        "52 例死亡）。"
    )


def test_slides_in_chinese_have_chinese_titles_and_name_an_east_asian_font(zh_pack, zh):
    import io
    import zipfile

    from pptx import Presentation

    from hcc_core.office import CJK_FONT
    from hcc_core.report import build_slides

    data = build_slides(zh_pack)
    prs = Presentation(io.BytesIO(data))
    titles = [next(s.text_frame.text for s in slide.shapes if s.has_text_frame)
              for slide in prs.slides]
    assert titles[:3] == ["HCC Cohort Explorer：MDT 讨论资料", "结果描述", "总生存期 (OS)（按治疗组）"]
    assert "基线特征（表 1）（1/2）" in titles
    with zipfile.ZipFile(io.BytesIO(data)) as pptx:
        slide = pptx.read("ppt/slides/slide2.xml").decode()
    assert f'<a:ea typeface="{CJK_FONT}"' in slide
    # every run of the slide names it
    assert slide.count("<a:r>") == slide.count(f'<a:ea typeface="{CJK_FONT}"')


def test_report_in_chinese_has_chinese_headings_and_east_asian_fonts(zh_pack, zh):
    import io
    import zipfile

    from docx import Document

    from hcc_core.office import CJK_FONT
    from hcc_core.report import build_report

    data = build_report(zh_pack)
    doc = Document(io.BytesIO(data))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[:3] == ["HCC Cohort Explorer：MDT 讨论报告", "结果描述", "总生存期 (OS)（按治疗组）"]
    assert "基线特征（表 1）" in headings and "注意事项" in headings
    with zipfile.ZipFile(io.BytesIO(data)) as docx:
        body = docx.read("word/document.xml").decode()
    assert body.count("<w:r>") + body.count("<w:r ") == body.count(f'w:eastAsia="{CJK_FONT}"')


def test_english_pack_names_no_east_asian_font(zh_pack):
    import io
    import zipfile

    from hcc_core.report import build_slides

    with zipfile.ZipFile(io.BytesIO(build_slides(zh_pack))) as pptx:
        assert "<a:ea " not in pptx.read("ppt/slides/slide2.xml").decode()


def test_a_msgid_in_both_domains_has_one_translation():
    """The app catalogue wins at run time for a msgid both domains have; they must agree, or
    a core text (a slide title) would read differently from what the core catalogue says."""
    app_po = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "app.po"
    assert app_po.exists(), "the app catalogue zh_CN/LC_MESSAGES/app.po is missing"

    def strings(path):
        return {
            (m.context, m.id if isinstance(m.id, str) else m.id[0]): (
                m.string if isinstance(m.string, str) else m.string[0]
            )
            for m in _catalogue(path)
            if m.id
        }

    app, core = strings(app_po), strings(LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "core.po")
    differ = {k[1]: (app[k], core[k]) for k in set(app) & set(core) if app[k] != core[k]}
    assert not differ, differ
