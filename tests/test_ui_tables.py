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
