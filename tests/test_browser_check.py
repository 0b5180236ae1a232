"""The checks of tests/browser/check_pages.py can fail: links (no browser), the Chinese font and the header."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from check_pages import CHROMIUM, CHROMIUM_ARGS, CJK_FAMILY, CJK_FONT_PROBLEMS, HEADER_PROBLEMS, _serve, broken_links
from playwright.sync_api import sync_playwright


def _site(tmp_path: Path, pages: dict[str, str]) -> Path:
    for name, body in pages.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    return tmp_path


def test_a_site_whose_links_resolve_passes(tmp_path):
    site = _site(tmp_path, {
        "index.html": '<a href="book/a.html#eq-1">a</a> <a href="https://example.org/">out</a>',
        "book/a.html": '<span id="eq-1"></span><a href="../index.html">home</a><a href="#eq-1">self</a>',
    })
    assert broken_links(site) == []


def test_a_missing_page_and_a_missing_anchor_are_reported(tmp_path):
    site = _site(tmp_path, {
        "index.html": '<a href="book/missing.html">x</a> <a href="book/a.html#nowhere">y</a>',
        "book/a.html": '<span id="eq-1"></span>',
    })
    problems = broken_links(site)
    assert len(problems) == 2
    assert "missing file book/missing.html" in problems[0]
    assert "missing anchor book/a.html#nowhere" in problems[1]


# The font and header checks, run in Chromium on a one-page site (the book's own book.css and font).
chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium (./dev test installs it)")
ROOT = Path(__file__).resolve().parents[1]


def _evaluate(site: Path, body: str, script: str, arg=None, width: int = 1280):
    (site / "index.html").write_text(
        '<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="_static/book.css">'
        f'<style>:root {{ --pst-font-family-base-system: sans-serif; }} '
        f'body {{ font-family: var(--pst-font-family-base); }}</style></head><body>{body}</body></html>',
        encoding="utf-8")
    server = _serve(site)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html", wait_until="load")
            result = page.evaluate(script, arg)
            browser.close()
    finally:
        server.shutdown()
    return result


@chromium
def test_chinese_text_passes_with_the_books_font_and_fails_without_it(tmp_path):
    shutil.copytree(ROOT / "_static", tmp_path / "_static")
    body = "<p>Glossary (术语表): 激活函数，反向传播</p>"
    result = _evaluate(tmp_path, body, CJK_FONT_PROBLEMS, CJK_FAMILY)
    assert result == {"chars": 12, "problems": []}
    (tmp_path / "_static" / "fonts" / "book-cjk.woff").unlink()
    problems = _evaluate(tmp_path, body, CJK_FONT_PROBLEMS, CJK_FAMILY)["problems"]
    assert any("did not load" in p for p in problems), problems
    assert any(p.startswith("not drawn with Book CJK: ") for p in problems), problems


@chromium
def test_a_character_the_font_lacks_is_reported(tmp_path):
    shutil.copytree(ROOT / "_static", tmp_path / "_static")
    problems = _evaluate(tmp_path, "<p>术语表 龘</p>", CJK_FONT_PROBLEMS, CJK_FAMILY)["problems"]
    assert problems == ["not drawn with Book CJK: 龘"]


@chromium
def test_two_search_boxes_or_a_hidden_title_are_reported(tmp_path):
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "book.css").write_text("", encoding="utf-8")
    one = ('<div class="bd-sidebar-primary"><p class="logo__title">Title</p>'
           '<button class="search-button__button">Search</button></div>')
    assert _evaluate(tmp_path, one, HEADER_PROBLEMS) == []
    two = one + '<header><button class="search-button__button">Search</button></header>'
    assert _evaluate(tmp_path, two, HEADER_PROBLEMS)[0].startswith("2 search entry points in view at 1280px")
    covered = one + '<div style="position:fixed;top:0;left:0;width:100%;height:100px;background:#fff"></div>'
    assert "book title not in view at 1280px" in _evaluate(tmp_path, covered, HEADER_PROBLEMS)
