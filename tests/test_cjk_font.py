"""The book's Chinese font covers every Chinese character the book uses (tools/cjkfont.py)."""

from __future__ import annotations

import re

from tools.cjkfont import FONT, ROOT, book_characters, css_unicode_range, font_characters, is_cjk


def test_the_font_has_a_glyph_for_every_chinese_character_in_the_book():
    used = book_characters()
    assert len(used) > 100, "the glossary alone uses more than 100 characters: is book/ read?"
    drawn = font_characters()
    missing = {char: files for char, files in used.items() if char not in drawn}
    assert not missing, (f"{''.join(missing)} (in {sorted({f for fs in missing.values() for f in fs})}) "
                         "would render as boxes: re-run python -m tools.cjkfont (see its docstring)")


def test_the_font_stays_small_and_holds_only_what_the_book_needs():
    assert FONT.stat().st_size < 200_000
    unused = {c for c in font_characters() if is_cjk(c)} - set(book_characters())
    assert len(unused) <= 50, f"{len(unused)} characters no page uses: re-run python -m tools.cjkfont"


def test_the_css_declares_the_font_for_the_ranges_the_tool_cuts():
    css = (ROOT / "_static" / "book.css").read_text(encoding="utf-8")
    face = re.search(r"@font-face\s*{([^}]*)}", css).group(1)
    assert 'font-family: "Book CJK"' in face
    assert 'url("fonts/book-cjk.woff")' in face
    assert f"unicode-range: {css_unicode_range()};" in face
    assert "//" not in face.replace("/*", ""), "served from the build, never a CDN"


def test_the_licence_ships_with_the_font():
    licence = (FONT.parent / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence and "Noto Sans CJK SC" in licence


def test_is_cjk_draws_the_line_between_chinese_and_latin():
    assert all(is_cjk(c) for c in "术语表，（）。")
    assert not any(is_cjk(c) for c in "abc—“”é∂")
