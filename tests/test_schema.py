"""The schema, the data dictionary file, the blank template and the header synonyms agree."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hcc_core import CohortError, load_cohort
from hcc_core import schema as s
from hcc_core.io import _header_key

DATA = Path(__file__).resolve().parents[1] / "data"
REGENERATE = (
    '.venv/bin/python -c "from hcc_core.schema import data_dictionary; '
    "data_dictionary().to_csv('data/data_dictionary.csv', index=False, lineterminator='\\n')\""
)


def test_data_dictionary_file_matches_schema():
    on_disk = pd.read_csv(DATA / "data_dictionary.csv", dtype=str, keep_default_na=False)
    expected = s.data_dictionary().astype(str)
    assert list(on_disk.columns) == [
        "column",
        "type",
        "unit",
        "allowed_values",
        "required",
        "description",
    ]
    pd.testing.assert_frame_equal(
        on_disk, expected, obj=f"data_dictionary.csv (regenerate: {REGENERATE})"
    )


def test_data_dictionary_content():
    dd = s.data_dictionary().set_index("column")
    assert dd.loc[s.PATIENT_ID, "required"] == "yes"
    assert (dd.drop(index=s.PATIENT_ID)["required"] == "no").all()
    assert dd.loc[s.LOCAL_MODALITY, "allowed_values"] == "none; mTACE; HAIC; IMRT"
    assert dd.loc[s.OS_EVENT, "allowed_values"] == "0; 1"
    assert dd.loc[s.AGE, "allowed_values"] == "0 to 120"
    assert dd.loc[s.AFP, "allowed_values"] == ">= 0"
    assert dd.loc["ae_rash", "unit"] == "CTCAE v5 grade"
    assert len(dd) == len(s.COLUMNS) + 1  # + the ae_<term> pattern row


def test_template_is_header_of_all_canonical_columns_and_loads_as_header_only():
    text = (DATA / "template.csv").read_text(encoding="utf-8")
    assert text == ",".join(c.name for c in s.COLUMNS) + "\n"
    with pytest.raises(CohortError, match="header row but no patient rows"):
        load_cohort(DATA / "template.csv")


def test_synonyms_name_only_canonical_columns_and_never_collide():
    assert set(s.SYNONYMS) <= set(s.COLUMN_BY_NAME)
    owner: dict[str, str] = {}
    for canonical, synonyms in s.SYNONYMS.items():
        for syn in (*synonyms, canonical):
            key = _header_key(syn)
            assert key, f"synonym {syn!r} of {canonical} is empty after normalisation"
            assert owner.setdefault(key, canonical) == canonical, (
                f"synonym {syn!r} maps to both {owner[key]} and {canonical}"
            )


def test_every_column_has_a_chinese_and_english_synonym():
    def has_cjk(text: str) -> bool:
        return any("\u4e00" <= ch <= "\u9fff" for ch in text)

    for column in s.COLUMNS:
        synonyms = s.SYNONYMS.get(column.name, ())
        if column.name in (s.ALBI_SCORE, s.ALBI_GRADE):
            continue  # "ALBI" is written the same in Chinese reports
        assert any(has_cjk(x) for x in synonyms), f"{column.name} has no Chinese header synonym"
        assert any(not has_cjk(x) for x in synonyms), f"{column.name} has no English synonym"


def test_levels_first_level_is_reference():
    assert s.LEVELS[s.TREATMENT_GROUP][0] == s.SYSTEMIC
    assert s.LEVELS[s.LOCAL_MODALITY][0] == s.MODALITY_NONE


def test_every_canonical_field_has_a_label_in_words():
    from hcc_core.schema import COLUMNS, FIELD_LABELS, field_label

    assert [c.name for c in COLUMNS if c.name not in FIELD_LABELS] == []
    assert field_label("age") == "Age (years)"
    assert field_label("ae_nausea") == "Adverse event: nausea (CTCAE grade)"
    assert all("_" not in FIELD_LABELS[c.name] for c in COLUMNS)
