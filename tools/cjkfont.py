"""The book's Chinese font: a subset of Noto Sans CJK SC cut to the characters the book uses.

    python -m tools.cjkfont [SOURCE.ttc]

Chromium draws empty boxes for Chinese text on a machine without a CJK system font, so
the book ships its own: ``_static/fonts/book-cjk.woff`` (SIL Open Font License,
``_static/fonts/OFL.txt``), declared in ``_static/book.css`` and served from the build.
tests/test_cjk_font.py fails when a character of book/ is missing from it; then re-run
this tool. SOURCE defaults to the file of Debian's ``fonts-noto-cjk`` package; without
installing it system-wide (which would hide a missing glyph from the browser test)::

    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb /tmp/noto
    python -m tools.cjkfont /tmp/noto/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FONT = ROOT / "_static" / "fonts" / "book-cjk.woff"
FAMILY = "Book CJK"
DEFAULT_SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SOURCE_NAME = "Noto Sans CJK SC"  # the member of the collection with simplified-Chinese glyph forms

# Code points the font is for (CSS unicode-range in _static/book.css lists the same).
CJK_RANGES = [
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。「」)
    (0x3400, 0x4DBF),  # CJK unified ideographs, extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # half- and full-width forms (，：（）)
]
TEXT_SUFFIXES = {".md", ".ipynb", ".bib", ".yml", ".py", ".json"}


_CJK = re.compile("[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in CJK_RANGES) + "]")


def is_cjk(char: str) -> bool:
    return _CJK.fullmatch(char) is not None


def css_unicode_range() -> str:
    return ", ".join(f"U+{lo:04X}-{hi:04X}" for lo, hi in CJK_RANGES)


def _text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":  # the characters themselves, even if a writer escaped them
        text = json.dumps(json.loads(text), ensure_ascii=False)
    return text


def book_characters(root: Path = ROOT) -> dict[str, list[str]]:
    """Every CJK character in the book's sources (book/, _toc.yml, _config.yml) -> files using it."""
    files = [p for p in (root / "book").rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES
             and not {"_build", ".ipynb_checkpoints"} & set(p.parts)]
    files += [root / "_toc.yml", root / "_config.yml"]
    found: dict[str, list[str]] = {}
    for path in sorted(files):
        for char in sorted(set(_CJK.findall(_text(path)))):
            found.setdefault(char, []).append(path.relative_to(root).as_posix())
    return found


def font_characters(path: Path = FONT) -> set[str]:
    from fontTools.ttLib import TTFont

    return {chr(code) for code in TTFont(path).getBestCmap()}


def subset(source: Path, characters: set[str], out: Path = FONT) -> None:
    from fontTools import subset as ftsubset
    from fontTools.ttLib import TTCollection

    fonts = TTCollection(source).fonts if source.suffix.lower() == ".ttc" else None
    if fonts is None:
        from fontTools.ttLib import TTFont

        font = TTFont(source)
    else:
        names = [f["name"].getDebugName(1) for f in fonts]
        if SOURCE_NAME not in names:
            raise ValueError(f"source: expected a collection holding {SOURCE_NAME!r}, got {names}")
        font = fonts[names.index(SOURCE_NAME)]
    options = ftsubset.Options()
    options.layout_features = ["*"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.flavor = "woff"  # zlib: fontTools needs no extra package for it, unlike woff2
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(text="".join(sorted(characters)))
    subsetter.subset(font)
    # The OFL asks a modified version not to carry the original's name.
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 6, 16, 17):
            names.removeNames(nameID=record.nameID)
    for name_id, value in {1: FAMILY, 3: f"{FAMILY} subset", 4: FAMILY, 6: FAMILY.replace(" ", "")}.items():
        names.setName(value, name_id, 3, 1, 0x409)
        names.setName(value, name_id, 1, 0, 0)
    if "CFF " in font:
        font["CFF "].cff.fontNames = [FAMILY.replace(" ", "")]
    font.flavor = "woff"
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(out)


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    if not source.exists():
        print(f"source: expected a Noto Sans CJK font file, got {source} (see this module's docstring)",
              file=sys.stderr)
        return 2
    characters = set(book_characters())
    subset(source, characters)
    missing = characters - font_characters()
    print(f"{FONT.relative_to(ROOT)}: {len(characters)} characters, {FONT.stat().st_size} bytes")
    if missing:
        print(f"the source font lacks {''.join(sorted(missing))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
