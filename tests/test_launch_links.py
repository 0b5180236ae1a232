"""Launch links that work or do not exist (issue 19).

A book that names no repository (a local checkout: repository.url in _config.yml is
empty) shows no Binder, Colab or repository button and its notebooks' Colab cell
installs nothing; tools/publish.py names one, and then every button and the Colab
install line point at it. Built here with Jupyter Book on a one-page book that uses
the real book's extension (about 20 s a build).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from check_pages import configured_repository, launch_problems

from tools.nbbuild import ROOT, bootstrap_source
from tools.publish import set_colab_cells, set_repository

URL = "https://github.com/someone/some-book"


def test_the_checked_in_book_names_no_repository_and_installs_nothing():
    assert configured_repository() == ""
    assert "pip" not in bootstrap_source() and "git+" not in bootstrap_source()
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        assert "git+" not in path.read_text(encoding="utf-8"), path.name


def test_publish_sets_the_url_in_the_config_and_every_colab_cell(tmp_path):
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copytree(ROOT / "book", tmp_path / "book", ignore=shutil.ignore_patterns("*.bib", "*.json", "margins"))
    before = {p.name: nbformat.read(p, as_version=4) for p in (tmp_path / "book").glob("*.ipynb")}
    set_repository(tmp_path, URL, "launch")
    changed = set_colab_cells(tmp_path, URL)
    assert len(changed) == len(before) > 0
    config = yaml.safe_load((tmp_path / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"]["url"] == URL and config["repository"]["branch"] == "launch"
    assert (tmp_path / "_config.yml").read_text(encoding="utf-8").count(URL) == 1
    for path in changed:
        nb, old = nbformat.read(path, as_version=4), before[path.name]
        first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        assert nb.cells[first].source == bootstrap_source(URL)
        assert f'"git+{URL}"' in nb.cells[first].source
        nb.cells[first].source = old.cells[first].source
        assert nb == old, f"{path.name}: publishing changed more than the Colab cell"
    published = {path: path.read_bytes() for path in changed}
    set_colab_cells(tmp_path, URL)  # running it twice is harmless: nothing changes
    assert all(path.read_bytes() == data for path, data in published.items())


def test_publish_refuses_a_url_that_is_not_a_repository(tmp_path):
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    with pytest.raises(ValueError, match="url: expected https://HOST/OWNER/REPO"):
        set_repository(tmp_path, "rnnlib-course/rnn-course", "main")


def _build_one_page_book(tmp_path: Path, url: str) -> str:
    (tmp_path / "book").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# A page"),
                nbformat.v4.new_code_cell("1 + 1", execution_count=1, outputs=[])]
    nbformat.write(nb, tmp_path / "book" / "page.ipynb")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/page\n", encoding="utf-8")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    keep = {k: config[k] for k in ("title", "execute", "repository", "launch_buttons", "html")}
    keep["repository"] = {**keep["repository"], "url": url}
    keep["sphinx"] = {"local_extensions": {"book_fixes": str(ROOT / "tools" / "sphinxext")}}
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(keep), encoding="utf-8")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(tmp_path), "-W", "-n", "--path-output", str(tmp_path / "out")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return (tmp_path / "out" / "_build" / "html" / "book" / "page.html").read_text(encoding="utf-8")


def _header_links(html: str) -> list[str]:
    header = html[html.index('class="bd-header-article'):html.index('id="jb-print-docs-body"')]
    return re.findall(r'href="(https?://[^"]+)"', header)


def test_a_book_without_a_repository_has_no_launch_or_repository_button(tmp_path):
    links = _header_links(_build_one_page_book(tmp_path, ""))
    assert links == []
    assert launch_problems(links, True, "") == []


def test_a_published_book_has_launch_and_repository_buttons_to_its_repository(tmp_path):
    links = _header_links(_build_one_page_book(tmp_path, URL))
    assert launch_problems(links, True, URL) == []
    assert f"{URL}" in links
    assert "https://colab.research.google.com/github/someone/some-book/blob/main/book/page.ipynb" in links


def test_launch_problems_catches_a_stray_or_missing_button():
    assert launch_problems(["https://github.com/other/repo"], False, "") != []
    assert launch_problems(["https://github.com/other/repo"], False, URL) != []
    binder_only = [URL, "https://mybinder.org/v2/gh/someone/some-book/main"]
    assert "no Colab button" in " ".join(launch_problems(binder_only, True, URL))
