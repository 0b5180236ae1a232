"""Smoke test of the unrolled-graph diagrams (rnnlib.plotting, an edge module)."""

from __future__ import annotations

import subprocess
import sys

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from rnnlib.plotting import draw_encoder_decoder, draw_unrolled  # noqa: E402


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
                                  lambda: draw_encoder_decoder(2, 0)])
def test_bad_arguments(call):
    with pytest.raises(ValueError, match=r"^(T|inputs|outputs|tgt_len):"):
        call()


def test_the_core_does_not_import_matplotlib():
    code = "import sys, rnnlib; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
