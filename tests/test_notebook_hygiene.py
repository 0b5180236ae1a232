"""Every committed notebook is executed, in order, without stderr or errors; and the check can fail."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from notebook_hygiene import book_notebooks, file_problems, notebook_problems, wide_lines

from tools.nbbuild import bootstrap_source

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = book_notebooks(ROOT)


def test_book_has_notebooks():
    assert NOTEBOOKS, "no notebooks under book/: nbval would have nothing to check"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_executed(path):
    assert file_problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_outputs(path):
    """A notebook with no output at all gives nbval nothing to compare."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert any(cell.get("outputs") for cell in nb["cells"] if cell["cell_type"] == "code")


def test_every_page_is_in_the_table_of_contents():
    """only_build_toc_files would silently drop a page missing from _toc.yml."""
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"file:\s*(\S+)", toc)) | set(re.findall(r"root:\s*(\S+)", toc))
    pages = {
        str(p.relative_to(ROOT).with_suffix(""))
        for p in (ROOT / "book").rglob("*")
        if p.suffix in {".ipynb", ".md"} and not {"_build", ".ipynb_checkpoints"} & set(p.parts)
    }
    assert pages - listed == set(), "pages under book/ missing from _toc.yml"
    assert listed - pages == set(), "_toc.yml lists pages that do not exist"


def _good_notebook():
    def code(n, text, outputs):
        return {"cell_type": "code", "execution_count": n, "metadata": {}, "source": text, "outputs": outputs}

    result = {"output_type": "execute_result", "execution_count": 2, "metadata": {},
              "data": {"text/plain": "2"}}
    return {
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
            code(1, "x = 1", []),
            code(2, "x + 1", [result]),
            code(None, "", []),  # an empty cell never needs running
        ],
    }


def test_check_accepts_a_clean_notebook():
    assert notebook_problems(_good_notebook()) == []


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (lambda nb: nb["cells"][2].update(execution_count=None), "never executed"),
        (lambda nb: (nb["cells"][1].update(execution_count=2), nb["cells"][2].update(execution_count=1)),
         "execution counts"),
        (lambda nb: nb["cells"][2].update(execution_count=5), "execution counts"),
        (lambda nb: nb["cells"][1]["outputs"].append(
            {"output_type": "stream", "name": "stderr", "text": "I0000 cudart_stub.cc:31] ..."}), "stderr"),
        (lambda nb: nb["cells"][1]["outputs"].append(
            {"output_type": "error", "ename": "ValueError", "evalue": "x", "traceback": []}), "stored error"),
    ],
    ids=["unexecuted", "out-of-order", "gap-in-counts", "stderr", "error"],
)
def test_check_rejects_a_spoiled_notebook(spoil, expected):
    nb = copy.deepcopy(_good_notebook())
    spoil(nb)
    problems = notebook_problems(nb)
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_starts_with_the_colab_bootstrap(path):
    """The first code cell installs rnnlib from the repository URL set in _config.yml, nowhere else."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    first = next(cell for cell in nb["cells"] if cell["cell_type"] == "code")
    assert "".join(first["source"]) == bootstrap_source()
    assert first["outputs"] == [], "locally the bootstrap cell must do nothing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_a_reader_sees_fits_the_page(path):
    assert wide_lines(json.loads(path.read_text(encoding="utf-8")), path.name) == []


def test_wide_lines_finds_long_inputs_outputs_and_shown_source_but_not_removed_code():
    long = "x = " + "1 + " * 30 + "1"
    nb = _good_notebook()
    nb["cells"][1]["source"] = long
    nb["cells"][2]["outputs"] = [{"output_type": "display_data",
                                  "data": {"text/markdown": "```python\n" + long + "\n```"}}]
    assert [p.split(", ")[1].split(":")[0] for p in wide_lines(nb)] == ["input", "shown source"]
    nb["cells"][1]["metadata"] = {"tags": ["hide-input"]}  # a reader can still open it
    assert len(wide_lines(nb)) == 2
    nb["cells"][1]["metadata"] = {"tags": ["remove-input"]}
    assert len(wide_lines(nb)) == 1
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": long}]
    assert len(wide_lines(nb)) == 2
