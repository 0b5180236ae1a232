"""Notebook display helpers (an edge module: it imports IPython, the core never does)."""

from __future__ import annotations

import inspect


def show_source(obj):
    """Display the source of an rnnlib function, class or module as a Python code block.

    The book shows library code with this instead of retyping it, so the page and
    the package cannot disagree. The output is Markdown, so Jupyter and the built
    book both highlight it with their own styles.
    """
    from IPython.display import Markdown

    source = inspect.getsource(obj).rstrip("\n")
    return Markdown(f"```python\n{source}\n```")
