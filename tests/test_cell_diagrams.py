"""Smoke test of Chapter 7's cell diagrams (rnnlib.plotting, an edge module)."""

from __future__ import annotations

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from rnnlib.plotting import draw_gru_cell, draw_lstm_cell  # noqa: E402


@pytest.mark.parametrize(("draw", "labels"), [
    (draw_lstm_cell, {"$c_{t-1}$", "$c_t$", "$h_t$", r"$f_t$: $\sigma$", r"$i_t$: $\sigma$", r"$o_t$: $\sigma$"}),
    (draw_gru_cell, {"$h_{t-1}$", "$h_t$", r"$z_t$: $\sigma$", r"$r_t$: $\sigma$", r"$n_t$: tanh"}),
])
def test_a_cell_diagram_draws_its_gates_and_states(draw, labels):
    fig, ax = plt.subplots()
    assert draw(ax=ax, title="cell") is ax
    assert labels <= {t.get_text() for t in ax.texts}
    assert ax.get_title() == "cell"
    thick = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None
             and a.arrow_patch.get_linewidth() > 2]
    assert len(thick) == 3  # the additive path: into the product, into the sum, out of it
    plt.close(fig)
    assert draw() is not None
    plt.close("all")
