"""Notebook display helpers (an edge module: it imports IPython, the core never does).

``show_source`` puts library code on the page; ``compare`` prints an agreement check
against a tolerance, and ``max_abs_diff`` is the number it checks. The tolerances of the
TensorFlow and cuDNN chapters are defined here once and explained once, in Chapter 4
(book/04_tensorflow.ipynb, box "How close is close enough").
"""

from __future__ import annotations

import inspect

import numpy as np

#: Tolerance for float32 states, outputs and logits against float64 (rounding ~1e-7 there).
FLOAT32_TOL = 1e-5
#: Tolerance for float32 gradients against float64 (sums over batch and time, ~3e-6).
FLOAT32_GRAD_TOL = 1e-4
#: Tolerance for float64 against float64 (~1e-16 per operation, ~1e-15 after a few steps).
FLOAT64_TOL = 1e-12


def show_source(obj):
    """Display the source of an rnnlib function, class or module as a Python code block.

    The book shows library code with this instead of retyping it, so the page and
    the package cannot disagree. The output is Markdown, so Jupyter and the built
    book both highlight it with their own styles.
    """
    from IPython.display import Markdown

    source = inspect.getsource(obj).rstrip("\n")
    return Markdown(f"```python\n{source}\n```")


def max_abs_diff(got, want) -> float:
    """The largest absolute difference of two arrays (or numbers), in float64."""
    return float(np.max(np.abs(np.asarray(got, dtype=np.float64) - np.asarray(want, dtype=np.float64))))


def compare(what: str, got, want, tol: float, *, width: int = 36) -> None:
    """Print whether ``max |got - want| <= tol``: ``what``, padded to ``width``, then the verdict.

    Only the verdict is printed, never the difference itself: below the tolerance its
    digits depend on the CPU's vector instructions and on the order in which a library
    adds, so a stored output that showed them would not reproduce on another machine.
    It returns nothing, so that a notebook cell ending with it displays nothing more.
    Where the size of the difference is the point, test :func:`max_abs_diff` against a
    tighter bound (Chapter 4 uses ``tol / 10``).
    """
    print(f"{what:<{width}} max |diff| <= {tol:.0e}: {max_abs_diff(got, want) <= tol}")


class Margins:
    """The spread of a notebook's trained results, as ``tools/margins.py`` recorded it.

    ``margins/NAME.json`` beside the notebook holds, for every recorded quantity, its value in
    each of several runs (one and two BLAS threads; initial weights perturbed by 1e-12; every
    seed replaced, which draws new data and new weights). A chapter prints that spread next
    to its pass marks with :meth:`check`, so the reader sees how much room each mark leaves;
    ``tests/test_margins.py`` keeps the file in step with the code.
    """

    def __init__(self, notebook: str):
        import json
        from pathlib import Path

        for folder in (Path("margins"), Path("book") / "margins"):
            path = folder / f"{notebook}.json"
            if path.is_file():
                break
        else:
            raise FileNotFoundError(f"notebook: no margins/{notebook}.json here; run tools/margins.py")
        self.record = json.loads(path.read_text(encoding="utf-8"))
        self.values = {name: np.asarray(v, dtype=np.float64) for name, v in self.record["values"].items()}

    def __repr__(self) -> str:
        runs = self.record["runs"]
        return (f"{len(runs)} runs of this notebook ({self.record['machine']}, "
                f"{self.record['measured_utc']} UTC):\n" + "\n".join(f"  {r}" for r in runs))

    def check(self, name: str, *, below: float | None = None, above: float | None = None,
              digits: int = 3) -> None:
        """Print the range of ``name`` over the runs and whether every run was below/above the mark."""
        if (below is None) == (above is None):
            raise TypeError("check: expected exactly one of below= and above=")
        values = self.values[name]
        low, high = values.min(), values.max()
        if below is not None:
            ok, mark, room = bool(high < below), f"below {below:g}", below - high
        else:
            ok, mark, room = bool(low > above), f"above {above:g}", low - above
        print(f"{name}: {low:.{digits}g} to {high:.{digits}g} in {len(values)} runs; "
              f"all {mark}: {ok} (room {room:.{digits}g})")
