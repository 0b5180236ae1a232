"""Smoke test of the unrolled-graph diagrams (rnnlib.plotting, an edge module)."""

from __future__ import annotations

import subprocess
import sys

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rnnlib.plotting import (  # noqa: E402
    draw_backward,
    draw_encoder_decoder,
    draw_kept_terms,
    draw_unrolled,
    kept_terms,
)


@pytest.mark.parametrize("kwargs", [{}, {"outputs": "last"}, {"outputs": "none"},
                                    {"inputs": "first", "feedback": True}])
def test_draw_unrolled_draws_one_node_per_state(kwargs):
    fig, ax = plt.subplots()
    assert draw_unrolled(3, ax=ax, title="t", **kwargs) is ax
    labels = [t.get_text() for t in ax.texts]
    assert {"$h_0$", "$h_{1}$", "$h_{2}$", "$h_{3}$"} <= set(labels)
    assert labels.count("$U$") == 3  # one recurrent matrix on every recurrent arrow
    fig.canvas.draw()
    plt.close(fig)


def test_draw_encoder_decoder():
    ax = draw_encoder_decoder(2, 3, feedback=True)
    labels = [t.get_text() for t in ax.texts]
    assert {"$e_{2}$", "$h_0$", "$h_{3}$", "encoder", "decoder"} <= set(labels)
    ax.figure.canvas.draw()
    plt.close(ax.figure)


@pytest.mark.parametrize("call", [lambda: draw_unrolled(0), lambda: draw_unrolled(2, inputs="last"),
                                  lambda: draw_unrolled(2, outputs="first"),
                                  lambda: draw_encoder_decoder(2, 0), lambda: draw_backward(0),
                                  lambda: kept_terms(0)])
def test_bad_arguments(call):
    with pytest.raises(ValueError, match=r"^(T|inputs|outputs|tgt_len):"):
        call()


def test_the_core_does_not_import_matplotlib():
    code = "import sys, rnnlib; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_draw_backward_labels_both_paths_and_every_copy_of_U():
    ax = draw_backward(3)
    labels = [t.get_text() for t in ax.texts]
    assert sum("varepsilon" in label for label in labels) == 3  # V^T eps_k into every h_k
    assert sum(r"U^\top\delta" in label for label in labels) == 3  # from h_1 (into h_0), h_2, h_3
    assert sum(label.startswith(r"$\delta_") for label in labels) == 3  # one term per copy of U
    ax.figure.canvas.draw()
    plt.close(ax.figure)


def test_kept_terms_by_their_definitions():
    T = 9
    t, k = np.indices((T, T)) + 1  # output t, step k, from 1
    np.testing.assert_array_equal(kept_terms(T), k <= t)
    np.testing.assert_array_equal(kept_terms(T, truncate=2), (k <= t) & (k >= t - 2))
    np.testing.assert_array_equal(kept_terms(T, chunk=4), (k <= t) & ((k - 1) // 4 == (t - 1) // 4))
    block_end = -(-t // 2) * 2  # TBPTT(2, 5): output t's sweep starts at the end of its block
    np.testing.assert_array_equal(kept_terms(T, tbptt=(2, 5)), (k <= t) & (k >= block_end - 4))
    ax = draw_kept_terms(kept_terms(T, chunk=3), title="chunks")
    ax.figure.canvas.draw()
    plt.close(ax.figure)
