"""Input checks shared by every rnnlib function.

Each check raises ``TypeError`` (wrong kind of thing) or ``ValueError`` (right
kind, wrong shape or value) with a message of the form
``"<argument>: expected <what>, got <what came>"``, so the reader of a
traceback sees which argument is wrong without opening the source.
"""

from __future__ import annotations

import numbers
import weakref

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"array of shape {a.shape} and dtype {a.dtype}"
    return f"{type(a).__name__}"


def _shape_text(shape) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def check_float_array(name: str, a, shape: tuple, *, allow_nonfinite: bool = False) -> np.ndarray:
    """Return ``a`` unchanged after checking it is a float32/float64 ndarray of ``shape``.

    ``shape`` is a tuple whose entries are ints or ``None`` (any size). Nothing is
    converted or broadcast: a list, an int array or a wrong shape is an error.
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array of shape {_shape_text(shape)}, got {_describe(a)}")
    if a.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected dtype float32 or float64, got {_describe(a)}")
    check_shape(name, a, shape)
    if not allow_nonfinite and not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(f"{name}: expected finite values, got {bad} NaN or inf entries")
    return a


def check_shape(name: str, a: np.ndarray, shape: tuple) -> None:
    """Raise ``ValueError`` unless ``a.shape`` matches ``shape`` (``None`` = any size)."""
    ok = a.ndim == len(shape) and all(s is None or s == n for s, n in zip(shape, a.shape, strict=False))
    if not ok:
        raise ValueError(f"{name}: expected shape {_shape_text(shape)}, got shape {a.shape}")


def check_ids(name: str, ids, shape: tuple, num_classes: int | None) -> np.ndarray:
    """Check an integer array of class or token ids in ``[0, num_classes)``.

    ``num_classes=None`` checks only that the ids are non-negative (no vocabulary yet).
    """
    if not isinstance(ids, np.ndarray):
        raise TypeError(f"{name}: expected an integer numpy array of shape {_shape_text(shape)}, got {_describe(ids)}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{name}: expected an integer dtype (token or class ids), got {_describe(ids)}")
    check_shape(name, ids, shape)
    if num_classes is None:
        if ids.size and ids.min() < 0:
            raise ValueError(f"{name}: expected non-negative ids, got values from {ids.min()} to {ids.max()}")
    elif ids.size and (ids.min() < 0 or ids.max() >= num_classes):
        raise ValueError(
            f"{name}: expected ids in [0, {num_classes}), got values from {ids.min()} to {ids.max()}"
        )
    return ids


def check_positive_int(name: str, value, *, allow_zero: bool = False) -> int:
    """Check a Python or numpy integer that is positive (or non-negative)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__} {value!r}")
    low = 0 if allow_zero else 1
    if value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value}")
    return int(value)


def check_nonempty_time(name: str, a: np.ndarray) -> None:
    """Sequences are (B, T, ...): both B and T must be at least 1."""
    if a.ndim >= 2 and (a.shape[0] == 0 or a.shape[1] == 0):
        raise ValueError(f"{name}: expected at least one sequence of at least one step, got shape {a.shape}")


def check_nonempty_batch(name: str, a: np.ndarray) -> None:
    """A batch (B, ...) must hold at least one example."""
    if a.shape[0] == 0:
        raise ValueError(f"{name}: expected a batch of at least one example, got shape {a.shape}")


def check_float_dtype(name: str, dtype) -> np.dtype:
    """A ``dtype`` argument naming float32 or float64; return it as a numpy dtype."""
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"{name}: expected float32 or float64, got {dtype!r}") from error
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected float32 or float64, got {dtype}")
    return dtype


def check_same_dtype(**arrays: np.ndarray) -> np.dtype:
    """All float arrays given must share the first one's dtype; return it.

    The error names the first array that differs, like every other check here.
    """
    (first, dtype), *rest = ((name, a.dtype) for name, a in arrays.items())
    for name, other in rest:
        if other != dtype:
            raise TypeError(f"{name}: expected dtype {dtype} (the dtype of {first}), got {other}")
    return dtype


def as_generator(rng) -> np.random.Generator:
    """Accept a ``numpy.random.Generator`` or an int seed; nothing else (no global state)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng: expected a numpy.random.Generator or an int seed, got {type(rng).__name__}")


def check_float_any_rank(name: str, a, ndims: tuple, last: int | None = None) -> np.ndarray:
    """Check a finite float array whose rank is one of ``ndims`` and, if given, last axis ``last``."""
    if isinstance(a, np.ndarray) and a.ndim not in ndims:
        ranks = " or ".join(str(n) for n in ndims)
        raise ValueError(f"{name}: expected an array of rank {ranks}, got shape {a.shape}")
    rank = a.ndim if isinstance(a, np.ndarray) else ndims[0]
    return check_float_array(name, a, (None,) * (rank - 1) + (last,))


def check_inputs(name: str, x, lead: tuple, input_size: int) -> bool:
    """Check RNN inputs: integer ids of shape ``lead`` or floats of shape ``lead + (D,)``.

    Returns True for ids, False for floats. ``lead`` is ``(B,)`` for one step and
    ``(B, T)`` for a sequence (entries may be ``None``).
    """
    if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.integer):
        check_ids(name, x, lead, input_size)
        return True
    if isinstance(x, np.ndarray) and x.dtype in FLOAT_DTYPES and x.ndim == len(lead) + 1:
        check_float_array(name, x, lead + (input_size,))
        return False
    ids_shape = _shape_text(lead)
    float_shape = _shape_text(lead + (input_size,))
    raise TypeError(
        f"{name}: expected integer token ids of shape {ids_shape} or floats of shape "
        f"{float_shape}, got {_describe(x)}"
    )


def check_dtype(name: str, a: np.ndarray, dtype) -> None:
    """Raise ``TypeError`` unless ``a.dtype == dtype`` (nothing is cast)."""
    if a.dtype != np.dtype(dtype):
        raise TypeError(f"{name}: expected dtype {np.dtype(dtype)}, got dtype {a.dtype}")


def check_positive_float(name: str, value, *, allow_zero: bool = False) -> float:
    """Check a finite real number that is positive (or non-negative)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__} {value!r}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a finite number {bound}, got {value!r}")
    return float(value)


def check_choice(name: str, value, choices: tuple) -> None:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}")


def check_mask(name: str, mask, shape: tuple) -> np.ndarray:
    """Check a (B, T) mask of bools or 0/1 numbers; return it as a bool array."""
    if not isinstance(mask, np.ndarray) or not (
        mask.dtype == np.bool_ or np.issubdtype(mask.dtype, np.number)
    ):
        raise TypeError(f"{name}: expected a bool or 0/1 numpy array of shape {shape}, got {_describe(mask)}")
    check_shape(name, mask, shape)
    if mask.dtype != np.bool_ and not np.all((mask == 0) | (mask == 1)):
        others = np.unique(mask[(mask != 0) & (mask != 1)])
        raise ValueError(f"{name}: expected only 0 and 1 (or bools), got values {others[:5]}")
    return mask.astype(bool)


def check_array_dict(name: str, arrays, *, like: dict | None = None) -> dict:
    """Check a dict of name -> float array; with ``like``, same keys, shapes and dtypes."""
    if not isinstance(arrays, dict):
        raise TypeError(f"{name}: expected a dict of numpy arrays, got {type(arrays).__name__}")
    if like is not None and set(arrays) != set(like):
        raise ValueError(f"{name}: expected keys {sorted(like)}, got keys {sorted(arrays)}")
    for key, a in arrays.items():
        shape = like[key].shape if like is not None else (None,) * getattr(a, "ndim", 0)
        check_float_array(f"{name}[{key!r}]", a, shape)
        if like is not None:
            check_dtype(f"{name}[{key!r}]", a, like[key].dtype)
    return arrays


def frozen_copy(a: np.ndarray) -> np.ndarray:
    """A read-only copy of ``a``, for caches: nothing the caller holds can change it later.

    The one exception is an array rnnlib made read-only itself with ``freeze`` (such as
    ``rnn_forward``'s states), or a view of one: no writable handle to it exists, so it
    is returned as it is. A caller's own read-only array is still copied, since the
    caller could make it writable again.
    """
    if _frozen_by_rnnlib(a):
        return a
    out = np.array(a, copy=True)
    out.setflags(write=False)
    return out


# Arrays made read-only by ``freeze``, by id; an entry disappears with its array.
_FROZEN = weakref.WeakValueDictionary()


def freeze(a: np.ndarray) -> np.ndarray:
    """Make ``a``, an array rnnlib has just created, read-only and safe to share in caches."""
    a.setflags(write=False)
    _FROZEN[id(a)] = a
    return a


def _frozen_by_rnnlib(a) -> bool:
    """True if ``a`` is read-only and so is every array below it, down to one ``freeze`` made."""
    while isinstance(a, np.ndarray):
        if a.flags.writeable:
            return False
        if _FROZEN.get(id(a)) is a:
            return True
        a = a.base
    return False
