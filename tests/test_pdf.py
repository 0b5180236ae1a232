"""The PDF of the whole book (``./dev pdf``): every chapter there, text and typeset math on its pages.

Slow (the single-page build and printing take minutes), so it runs only when asked:
``RNNLIB_PDF=_build/pdf/book.pdf pytest tests/test_pdf.py`` after ``./dev pdf``, as
``./dev test --pdf`` (and CI, through .ci/run) does. Pages are rendered to PNG with
pypdfium2 into _build/pdf/pages/.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

PDF = os.environ.get("RNNLIB_PDF")
pytestmark = pytest.mark.skipif(not PDF, reason="set RNNLIB_PDF to a PDF built by ./dev pdf")
ROOT = Path(__file__).resolve().parents[1]
RAW_TEX = re.compile(r"\\(frac|partial|sum|mathbf|begin|left|right|top|odot|tanh)\b|\$\$")


@pytest.fixture(scope="module")
def pdf():
    pdfium = pytest.importorskip("pypdfium2")
    return pdfium.PdfDocument(PDF)


def _text(pdf, index: int) -> str:
    return pdf[index].get_textpage().get_text_range()


def _render(pdf, index: int, name: str):
    out = Path(PDF).parent / "pages"
    out.mkdir(parents=True, exist_ok=True)
    image = pdf[index].render(scale=1.0).to_pil().convert("L")
    image.save(out / f"{name}.png")
    return image


def _chapter_titles() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    titles = []
    for file in files:
        md = ROOT / (file + ".md")
        if md.exists():
            text = md.read_text(encoding="utf-8")
        else:
            nb = json.loads((ROOT / (file + ".ipynb")).read_text(encoding="utf-8"))
            text = "".join(next(c for c in nb["cells"] if c["cell_type"] == "markdown")["source"])
        titles.append(re.search(r"^#\s+(.+)$", text, flags=re.M).group(1).strip())
    return titles


def test_every_chapter_is_in_the_outline_and_the_contents(pdf):
    # Compared without spaces (a wrapped heading's bookmark loses the one at its line break)
    # and with Sphinx's typographic apostrophe.
    def squeeze(text):
        return re.sub(r"\s+", "", text).replace("\u2019", "'").replace("`", "")

    outline = squeeze(" | ".join(b.get_title() for b in pdf.get_toc()))
    contents = squeeze("".join(_text(pdf, i) for i in range(6)))  # the contents take a few pages
    titles = _chapter_titles()
    assert len(titles) >= 10
    for title in titles:
        words = squeeze(title)[:25]
        assert words in outline, f"{title!r} not among the PDF's bookmarks"
        assert words in contents, f"{title!r} not in the printed table of contents"


def test_the_first_pages_have_text(pdf):
    assert len(pdf) > 100
    for index in range(3):
        image = _render(pdf, index, f"page-{index + 1}")
        assert len(_text(pdf, index).strip()) > 100
        assert image.getextrema()[0] < 100, f"page {index + 1} is blank"


def test_a_page_of_equations_has_its_math_typeset_and_numbered(pdf):
    pages = [i for i in range(len(pdf)) if "3.4. The hidden layer" in _text(pdf, i)]
    assert pages, "chapter 3's section 3.4 not found"
    index = pages[-1]
    _render(pdf, index, "equations")
    text = _text(pdf, index) + _text(pdf, index + 1)
    assert not RAW_TEX.search(text), f"raw TeX on page {index + 1}: {RAW_TEX.search(text).group(0)}"
    assert re.search(r"\(3\.\d+\)", text), "no numbered equation (3.N) on the page"


def test_no_page_shows_raw_tex_and_the_bibliography_is_there(pdf):
    raw = [i + 1 for i in range(len(pdf)) if RAW_TEX.search(_text(pdf, i))]
    assert raw == [], f"raw TeX on pages {raw[:10]}"
    last = " ".join(_text(pdf, i) for i in range(len(pdf) - 5, len(pdf)))
    assert "Werbos" in last and "Rumelhart" in last
