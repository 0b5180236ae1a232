"""Write a notebook from a list of ("md" | "code", text) pairs (authoring helper).

    from tools.nbbuild import write_notebook
    write_notebook("book/01_structure.ipynb", [("md", "# Title"), ("code", "x = 1")])

The notebook is written unexecuted; run ``./dev execute PATH`` afterwards so the
stored outputs come from a fresh kernel, top to bottom.
"""

from __future__ import annotations

import sys

import nbformat


def write_notebook(path: str, cells: list[tuple[str, str]]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, text in cells:
        text = text.strip("\n")
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(text))
        elif kind == "code":
            nb.cells.append(nbformat.v4.new_code_cell(text))
        else:
            raise ValueError(f"kind: expected 'md' or 'code', got {kind!r}")
    nbformat.validate(nb)
    nbformat.write(nb, path)


if __name__ == "__main__":
    sys.exit("import write_notebook from this module")
