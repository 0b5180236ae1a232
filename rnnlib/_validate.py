"""Argument checks, made once where an argument enters rnnlib (a public function).

Each check raises ``TypeError`` (wrong kind of thing) or ``ValueError`` (right kind,
wrong shape or value) with a message ``"<argument>: expected <what>, got <what came>"``.
A shape is a tuple of sizes, ``None`` for any size; nothing is converted or broadcast.
Data from the user (inputs, initial states, scores, upstream gradients) is scanned for
NaN and inf; parameters are not (``allow_nonfinite=True``): a training loop checks its
loss once per step instead.
"""

from __future__ import annotations

import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"array of shape {a.shape} and dtype {a.dtype}"
    return type(a).__name__


def _shape_text(shape) -> str:
    """``(None, 3)`` as ``(?, 3)``; a 1-tuple keeps its comma, ``(5,)``."""
    text = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({text},)" if len(shape) == 1 else f"({text})"


def _check_shape(name: str, a: np.ndarray, shape: tuple) -> None:
    sizes_match = [s in (None, n) for s, n in zip(shape, a.shape, strict=False)]
    if a.ndim != len(shape) or not all(sizes_match):
        raise ValueError(f"{name}: expected shape {_shape_text(shape)}, got shape {a.shape}")


def check_float_array(name: str, a, shape: tuple, *, allow_nonfinite: bool = False) -> np.ndarray:
    """A float32/float64 array of ``shape``; no NaN or inf unless ``allow_nonfinite``."""
    if not isinstance(a, np.ndarray):
        shape_text = _shape_text(shape)
        raise TypeError(f"{name}: expected a numpy array of shape {shape_text}, got {_describe(a)}")
    if a.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected dtype float32 or float64, got {_describe(a)}")
    _check_shape(name, a, shape)
    if not allow_nonfinite and not np.isfinite(a).all():
        bad = a.size - np.count_nonzero(np.isfinite(a))
        raise ValueError(f"{name}: expected finite values, got {bad} NaN or inf entries")
    return a


def check_float_any_rank(name: str, a, ndims: tuple, last: int | None = None, *,
                         allow_nonfinite: bool = False) -> np.ndarray:
    """A float array whose rank is one of ``ndims`` and, if given, last axis ``last``."""
    rank = a.ndim if isinstance(a, np.ndarray) else ndims[0]
    if rank not in ndims:
        ranks = " or ".join(str(n) for n in ndims)
        raise ValueError(f"{name}: expected an array of rank {ranks}, got shape {a.shape}")
    return check_float_array(name, a, (None,) * (rank - 1) + (last,), allow_nonfinite=allow_nonfinite)


def check_grad(name: str, a, shape: tuple, dtype) -> np.ndarray:
    """An upstream gradient: finite floats of the shape and dtype of the output it belongs to."""
    check_float_array(name, a, shape)
    check_dtype(name, a, dtype)
    return a


def check_ids(name: str, ids, shape: tuple, num_classes: int | None) -> np.ndarray:
    """An integer array of ids in ``[0, num_classes)`` (``None``: non-negative)."""
    if not isinstance(ids, np.ndarray):
        raise TypeError(f"{name}: expected an integer numpy array of shape {_shape_text(shape)}, "
                        f"got {_describe(ids)}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{name}: expected an integer dtype (token or class ids), "
                        f"got {_describe(ids)}")
    _check_shape(name, ids, shape)
    if ids.size and (ids.min() < 0 or num_classes is not None and ids.max() >= num_classes):
        wanted = "non-negative ids" if num_classes is None else f"ids in [0, {num_classes})"
        raise ValueError(f"{name}: expected {wanted}, got values from {ids.min()} to {ids.max()}")
    return ids


def check_inputs(name: str, x, lead: tuple, input_size: int | None) -> bool:
    """RNN inputs: ids of shape ``lead`` or finite floats of shape ``lead + (D,)``.
    Returns True for ids. ``lead`` is ``(B,)`` for one step, ``(B, T)`` for a sequence."""
    if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.integer):
        check_ids(name, x, lead, input_size)
        return True
    if isinstance(x, np.ndarray) and x.dtype in FLOAT_DTYPES and x.ndim == len(lead) + 1:
        check_float_array(name, x, lead + (input_size,))
        return False
    raise TypeError(f"{name}: expected integer token ids of shape {_shape_text(lead)} or floats of "
                    f"shape {_shape_text(lead + (input_size,))}, got {_describe(x)}")


def check_nonempty_time(name: str, a: np.ndarray) -> None:
    """Sequences are (B, T, ...): both B and T must be at least 1."""
    if a.ndim >= 2 and 0 in a.shape[:2]:
        raise ValueError(f"{name}: expected at least one sequence of at least one step, "
                         f"got shape {a.shape}")


def _check_nonempty_batch(name: str, a: np.ndarray) -> None:
    if a.shape[0] == 0:
        raise ValueError(f"{name}: expected a batch of at least one example, got shape {a.shape}")


def check_rnn_params(W, U, b):
    """W (H, D), U (H, H), b (H,) float arrays (not scanned for NaN); returns (H, D)."""
    H, D = check_float_array("W", W, (None, None), allow_nonfinite=True).shape
    check_float_array("U", U, (H, H), allow_nonfinite=True)
    check_float_array("b", b, (H,), allow_nonfinite=True)
    return H, D


def check_rnn_args(x, h0, W, U, b, *, step=False):
    """The arguments of ``rnn_forward`` (x (B, T) ids or (B, T, D) floats, h0 (B, H) or
    None) or, with ``step=True``, of ``rnn_step_forward`` (x_t (B,) or (B, D), h_prev
    (B, H)); W (H, D), U (H, H), b (H,). Returns (B, T, H), T = 1 for one step."""
    x_name, h_name, lead = ("x_t", "h_prev", (None,)) if step else ("x", "h0", (None, None))
    H, D = check_rnn_params(W, U, b)
    is_ids = check_inputs(x_name, x, lead, D)
    if step:
        _check_nonempty_batch(x_name, x)
    else:
        check_nonempty_time(x_name, x)
    B, T = x.shape[0], 1 if step else x.shape[1]
    floats = {"W": W, "U": U, "b": b}
    if h0 is not None or step:
        floats[h_name] = check_float_array(h_name, h0, (B, H))
    if not is_ids:
        floats[x_name] = x
    check_same_dtype(**floats)
    return B, T, H


def check_affine_args(h, V, b_y):
    """``affine_forward``'s h (B, T, H) or (B, H), states (not scanned); V (K, H); b_y (K,)."""
    K, H = check_float_array("V", V, (None, None), allow_nonfinite=True).shape
    check_float_array("b_y", b_y, (K,), allow_nonfinite=True)
    check_float_any_rank("h", h, (3, 2), last=H, allow_nonfinite=True)
    _check_nonempty_batch("h", h)
    check_same_dtype(h=h, V=V, b_y=b_y)


def check_loss_args(logits, targets, mask, reduction):
    """``sequence_cross_entropy``'s arguments; returns (B, T, K)."""
    B, T, K = check_float_array("logits", logits, (None, None, None)).shape
    check_nonempty_time("logits", logits)
    check_ids("targets", targets, (B, T), K)
    check_choice("reduction", reduction, ("sum", "mean"))
    if mask is not None and not check_mask("mask", mask, (B, T)).any() and reduction == "mean":
        raise ValueError("mask: expected at least one unmasked step for reduction='mean', got none")
    return B, T, K


def check_bptt_args(dhs, cache, truncate=None, chunk=None, tbptt=None, return_deltas=False):
    """``rnn_backward``'s dhs (like the cached hs), cache and options; returns (truncate,
    chunk, tbptt): ints or None, and a pair of ints (k1, k2) or None."""
    if not isinstance(return_deltas, bool | np.bool_):
        raise TypeError(f"return_deltas: expected True or False, got {return_deltas!r}")
    if not isinstance(cache, dict) or not {"h", "hs", "U"} <= set(cache):
        raise TypeError("cache: expected the cache dict returned by rnn_forward, "
                        f"got {type(cache).__name__}")
    check_grad("dhs", dhs, cache["hs"].shape, cache["hs"].dtype)
    if truncate is not None and chunk is not None:
        raise ValueError(f"truncate: expected None when chunk is given, got truncate={truncate!r}")
    if tbptt is not None and (truncate is not None or chunk is not None):
        raise ValueError("tbptt: expected None when truncate or chunk is given, "
                         f"got tbptt={tbptt!r}")
    if truncate is not None:
        truncate = check_positive_int("truncate", truncate, allow_zero=True)
    if chunk is not None:
        chunk = check_positive_int("chunk", chunk)
    if tbptt is not None:
        if not isinstance(tbptt, tuple | list) or len(tbptt) != 2:
            raise TypeError(f"tbptt: expected a pair (k1, k2), got {tbptt!r}")
        k1 = check_positive_int("tbptt", tbptt[0])
        k2 = check_positive_int("tbptt", tbptt[1])
        if k2 < k1:
            raise ValueError(f"tbptt: expected k2 >= k1, got (k1, k2) = ({k1}, {k2})")
        tbptt = (k1, k2)
    return truncate, chunk, tbptt


def check_positive_int(name: str, value, *, allow_zero: bool = False) -> int:
    """A Python or numpy integer that is positive (or non-negative)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__} {value!r}")
    low = 0 if allow_zero else 1
    if value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value}")
    return int(value)


def check_positive_float(name: str, value, *, allow_zero: bool = False) -> float:
    """A finite real number that is positive (or non-negative)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__} {value!r}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a finite number {bound}, got {value!r}")
    return float(value)


def check_float_dtype(name: str, dtype) -> np.dtype:
    """A ``dtype`` argument naming float32 or float64; return it as a numpy dtype."""
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"{name}: expected float32 or float64, got {dtype!r}") from error
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name}: expected float32 or float64, got {dtype}")
    return dtype


def check_dtype(name: str, a: np.ndarray, dtype) -> None:
    """Raise ``TypeError`` unless ``a.dtype == dtype`` (nothing is cast)."""
    if a.dtype != np.dtype(dtype):
        raise TypeError(f"{name}: expected dtype {np.dtype(dtype)}, got dtype {a.dtype}")


def check_same_dtype(**arrays: np.ndarray) -> np.dtype:
    """All arrays given share the first one's dtype; the error names the first that differs."""
    (first, dtype), *rest = ((name, a.dtype) for name, a in arrays.items())
    for name, other in rest:
        if other != dtype:
            raise TypeError(f"{name}: expected dtype {dtype} (the dtype of {first}), got {other}")
    return dtype


def check_choice(name: str, value, choices: tuple) -> None:
    """``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}")


def check_mask(name: str, mask, shape: tuple) -> np.ndarray:
    """A mask of bools or 0/1 numbers of ``shape``; returned as a bool array."""
    if not isinstance(mask, np.ndarray) or not (
        mask.dtype == np.bool_ or np.issubdtype(mask.dtype, np.number)
    ):
        raise TypeError(f"{name}: expected a bool or 0/1 numpy array of shape {shape}, "
                        f"got {_describe(mask)}")
    _check_shape(name, mask, shape)
    if mask.dtype != np.bool_ and not np.all((mask == 0) | (mask == 1)):
        others = np.unique(mask[(mask != 0) & (mask != 1)])
        raise ValueError(f"{name}: expected only 0 and 1 (or bools), got values {others[:5]}")
    return mask.astype(bool)


def check_array_dict(name: str, arrays, *, like: dict | None = None,
                     allow_nonfinite: bool = False) -> dict:
    """A dict of name -> float array; with ``like``, the same keys, shapes and dtypes."""
    if not isinstance(arrays, dict):
        raise TypeError(f"{name}: expected a dict of numpy arrays, got {type(arrays).__name__}")
    if like is not None and set(arrays) != set(like):
        raise ValueError(f"{name}: expected keys {sorted(like)}, got keys {sorted(arrays)}")
    for key, a in arrays.items():
        shape = like[key].shape if like is not None else (None,) * getattr(a, "ndim", 0)
        check_float_array(f"{name}[{key!r}]", a, shape, allow_nonfinite=allow_nonfinite)
        if like is not None:
            check_dtype(f"{name}[{key!r}]", a, like[key].dtype)
    return arrays


def as_generator(rng) -> np.random.Generator:
    """A ``numpy.random.Generator`` or an int seed; nothing else (no global state)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng: expected a numpy.random.Generator or an int seed, got {type(rng).__name__}")
