"""The site checks of tests/browser/check_pages.py can fail (the part that needs no browser)."""

from __future__ import annotations

from pathlib import Path

from check_pages import broken_links


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
