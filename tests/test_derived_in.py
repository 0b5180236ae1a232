"""Every function a chapter shows names that chapter in its docstring ("Derived in: ...").

The test reads each notebook's ``show_source(X)`` calls, resolves X with the notebook's
own imports from rnnlib, and checks that X's docstring ends its "Derived in" line with
that notebook, so the link from the code to the book cannot drift.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
DERIVED_IN = re.compile(r"Derived in: [^(]+\((book/[\w.]+\.ipynb)\)")


def code_cells(notebook: Path):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] == "code":
            lines = "".join(cell["source"]).splitlines()
            yield "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))


def shown_objects(notebook: Path) -> dict:
    """{source text of X: X} for every show_source(X) in the notebook (X the exception
    raised when the notebook's imports or X cannot be resolved)."""
    namespace, shown, failed = {}, {}, None
    trees = [ast.parse(code) for code in code_cells(notebook)]
    for tree in trees:  # the notebook's imports of rnnlib, wherever they are
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnnlib") \
                    or isinstance(node, ast.Import) and node.names[0].name.startswith("rnnlib"):
                try:
                    exec(compile(ast.Module([node], []), str(notebook), "exec"), namespace)
                except ImportError as error:
                    failed = error
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_source":
                expr = ast.unparse(node.args[0])
                try:
                    shown[expr] = eval(expr, namespace)  # noqa: S307 - the book's own code
                except (NameError, AttributeError) as error:
                    shown[expr] = failed or error
    return shown


NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
CASES = [(nb, expr, obj) for nb in NOTEBOOKS for expr, obj in shown_objects(nb).items()]


def test_the_book_shows_some_functions():
    assert len(CASES) >= 20


@pytest.mark.parametrize(("notebook", "expr", "obj"), CASES,
                         ids=[f"{nb.stem}:{expr}" for nb, expr, _ in CASES])
def test_a_shown_function_names_the_chapter_that_shows_it(notebook, expr, obj):
    if isinstance(obj, Exception):
        pytest.fail(f"{expr} (shown in {notebook.name}) cannot be resolved: {obj!r}")
    match = DERIVED_IN.search(inspect.getdoc(obj) or "")
    assert match, f"{expr} (shown in {notebook.name}): its docstring has no 'Derived in: ... (book/NAME.ipynb)'"
    assert match.group(1) == f"book/{notebook.name}", (
        f"{expr} is shown in book/{notebook.name}, but its docstring says {match.group(1)}")


def test_every_derived_in_line_of_rnnlib_names_a_notebook_that_exists():
    """Functions no chapter shows may still say where they are derived: the notebook must exist,
    and a name written like a notebook but not matching the pattern counts as a broken link."""
    lines = [(path.name, line.strip()) for path in (BOOK.parent / "rnnlib").rglob("*.py")
             for line in path.read_text(encoding="utf-8").splitlines() if "Derived in:" in line]
    assert len(lines) >= 40
    for name, line in lines:
        match = DERIVED_IN.search(line)
        assert match, f"{name}: {line!r} does not name its notebook as (book/NAME.ipynb)"
        assert (BOOK.parent / match.group(1)).is_file(), f"{name}: {line!r} names a missing notebook"
