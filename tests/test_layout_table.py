"""Chapter 7's table of parameter layouts (numpy only: it needs no framework)."""

from __future__ import annotations

from conftest import raises_naming

from rnnlib.cudnn import MODES, param_names
from rnnlib.torch_interop import layout_table


def test_every_parameter_is_found_in_pytorch_keras_and_cudnn():
    for mode in MODES:
        rows = layout_table(mode)
        assert [r[0] for r in rows] == sum(param_names(mode), [])
        assert all("—" not in (torch, keras, canonical) for _, torch, keras, _, canonical in rows)
        assert [r[4] for r in rows if r[0][0] != "b"] == [f"weights[{i}]" for i in range(len(rows) // 2)]
        assert (mode == "rnn_tanh") == all(r[3] != "—" for r in rows)


def test_the_table_shows_the_known_differences():
    gru = {r[0]: r for r in layout_table("gru")}
    assert gru["W_z"][1:3] == ("weight_ih_l0[H:2H, :]", "kernel[:, :H]ᵀ")  # Keras: z before r
    assert gru["bR_n"][2] == "bias[1, 2H:3H]"
    lstm = {r[0]: r for r in layout_table("lstm")}
    assert lstm["bW_f"][2] == lstm["bR_f"][2] == "bias[H:2H] (bW + bR)"
    tanh = {r[0]: r for r in layout_table("rnn_tanh")}
    assert tanh["R"][3] == "kernel[D:D+H, :]ᵀ" and tanh["W"][1] == "weight_ih_l0"


def test_a_bad_mode_is_named():
    with raises_naming(ValueError, "mode"):
        layout_table("elman")
