"""Saving and loading parameter dicts as ``.npz`` files (no pickle)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ._validate import check_array_dict, check_dtype, check_float_array


def save_params(path, params):
    """Write a dict of float arrays to ``path`` with ``np.savez``; return the path written.

    NumPy appends ``.npz`` to a path without it; the returned path includes it.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    check_array_dict("params", params)
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    np.savez(path, **params)
    return path


def read_npz(path, what="a .npz archive of arrays"):
    """Every array of the .npz archive at ``path``, loaded without pickle; a ``ValueError``
    naming the file if it is empty, not a zip archive, truncated or damaged. ``what`` names the
    kind of file expected in the message."""
    with open(path, "rb") as f:  # a missing or unreadable file: the OSError names it
        head = f.read(4)
    if head != b"PK\x03\x04":
        got = "an empty file" if not head else f"a file that starts with {head!r}"
        raise ValueError(f"{path}: expected {what} (.npz, a zip archive), got {got}")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, KeyError) as error:
        raise ValueError(f"{path}: expected a complete .npz archive, got a truncated or damaged one "
                         f"({type(error).__name__}: {error})") from None


def load_params(path, expected_shapes=None):
    """Read a dict of arrays saved by ``save_params`` (``allow_pickle=False``). expected_shapes:
    None, a dict name -> shape, or a model with a ``params`` dict (then dtypes must match too);
    a missing, extra or mis-shaped array is a ``ValueError`` naming its key.

    Derived in: Chapter 6, Training (book/06_training.ipynb)
    """
    like = getattr(expected_shapes, "params", None)
    shapes = expected_shapes if like is None else {k: a.shape for k, a in like.items()}
    if shapes is not None and not isinstance(shapes, dict):
        raise TypeError(f"expected_shapes: expected None, a dict of shapes or a model with "
                        f".params, got {type(expected_shapes).__name__}")
    loaded = read_npz(path, "parameters saved by save_params")
    if shapes is None:
        return check_array_dict("path", loaded)
    for name in shapes:
        if name not in loaded:
            raise ValueError(f"{name}: expected an array {name!r} in {path}, got keys {sorted(loaded)}")
    for name, a in loaded.items():
        if name not in shapes:
            raise ValueError(f"{name}: expected only keys {sorted(shapes)} in {path}, got {name!r}")
        check_float_array(name, a, tuple(shapes[name]))
        if like is not None:
            check_dtype(name, a, like[name].dtype)
    return loaded
