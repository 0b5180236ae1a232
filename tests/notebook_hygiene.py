"""Checks that keep nbval honest.

nbval compares a cell's fresh outputs with the stored ones, but it passes a
cell that has no stored outputs and skips a cell that was never executed, so a
notebook committed unexecuted would "pass" without proving anything. These
checks reject such notebooks before nbval runs.
"""

from __future__ import annotations

import json
from pathlib import Path


def notebook_problems(nb: dict, name: str = "notebook") -> list[str]:
    """Return a list of human-readable problems; empty means the notebook is fit for nbval."""
    problems = []
    counts = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if not source.strip():
            continue
        where = f"{name}: code cell {index}"
        count = cell.get("execution_count")
        if count is None:
            problems.append(f"{where} was never executed")
        else:
            counts.append(count)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"{where} has a stored error ({output.get('ename')})")
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                problems.append(f"{where} has stored stderr: {''.join(output.get('text', ''))[:80]!r}")
    if counts and counts != list(range(1, len(counts) + 1)):
        problems.append(
            f"{name}: execution counts are {counts}, expected 1..{len(counts)} "
            "(run the notebook top to bottom in a fresh kernel: ./dev execute)"
        )
    return problems


def book_notebooks(root: Path) -> list[Path]:
    """Every notebook under book/, outside build and checkpoint folders."""
    skip = {"_build", ".ipynb_checkpoints"}
    return sorted(p for p in (root / "book").rglob("*.ipynb") if not skip & set(p.parts))


def file_problems(path: Path) -> list[str]:
    return notebook_problems(json.loads(path.read_text(encoding="utf-8")), str(path))


# Code in the book is set at 12px (_static/code.css): a line of 92 characters fits the
# text column of a 1280-pixel-wide window. Longer lines scroll sideways and hide their end.
SHOWN_WIDTH = 92
REMOVED_INPUT_TAGS = {"remove-cell", "remove-input"}


def wide_lines(nb: dict, name: str = "notebook", limit: int = SHOWN_WIDTH) -> list[str]:
    """Lines a reader can see that are wider than ``limit``.

    Cell inputs (also those behind a "show code" toggle), printed output, and shown
    source: a cell output in Markdown that is a Python code block, as
    ``rnnlib.display.show_source`` writes it.
    """
    problems = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        texts = []
        if not REMOVED_INPUT_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            texts.append(("input", "".join(cell.get("source", ""))))
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(("output", "".join(output.get("text", ""))))
            markdown = "".join(output.get("data", {}).get("text/markdown", ""))
            if markdown.startswith("```python"):
                texts.append(("shown source", markdown))
        for kind, text in texts:
            for line in text.splitlines():
                if len(line) > limit:
                    problems.append(f"{name}: code cell {index}, {kind}: {len(line)} characters "
                                    f"(at most {limit}): {line.strip()[:60]!r}")
    return problems
