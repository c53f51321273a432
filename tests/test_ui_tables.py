"""Static tables in presentation mode: st.table reads cells as Markdown, so cells are escaped."""

from __future__ import annotations

import pandas as pd

from pages._ui import _markdown_safe


def test_cells_that_markdown_would_rewrite_are_shown_literally():
    df = pd.DataFrame({"label": ["-", "    Male", "+3", "x"], "p": ["0.036 *", "-", "NE", "1"],
                       "n": [1, 2, 3, 4]})
    out = _markdown_safe(df)
    # A lone "-" was an empty bullet, four leading spaces a code block.
    assert out["label"].tolist() == ["\\-", "\u00a0" * 4 + "Male", "\\+3", "x"]
    assert out["p"].tolist() == ["0.036 *", "\\-", "NE", "1"]
    assert out["n"].tolist() == [1, 2, 3, 4]
    assert df["label"].tolist()[0] == "-"  # the caller's frame is untouched


def test_only_mixed_text_and_number_columns_are_sent_as_text():
    """The interactive grid gets Table 1's "%"-beside-ratio columns as text (Arrow cannot hold
    them); text, numbers and missing values elsewhere are left as they are, the frame too."""
    from pages._ui import _arrow_ready

    df = pd.DataFrame({"label": ["Age", "Sex"], "cell": ["35 (89.74)", 1.5],
                       "codes": [1, "2"], "n": [1, 2], "p": [0.5, None], "text": ["a", None]})
    out = _arrow_ready(df)
    assert [str(t) for t in out.dtypes] == ["object", "string", "string", "int64", "float64",
                                            "object"]
    assert out["cell"].tolist() == ["35 (89.74)", "1.5"]
    assert out["codes"].tolist() == ["1", "2"]
    assert str(df["cell"].dtype) == "object"
    text_only = pd.DataFrame({"label": ["Age"], "n": [3]})
    assert _arrow_ready(text_only) is text_only
