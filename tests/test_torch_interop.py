"""rnnlib <-> PyTorch: state dicts both ways, against torch's forward outputs and autograd in float64."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import PROPERTY, raises_naming
from hypothesis import given
from hypothesis import strategies as st

from rnnlib import cudnn_rnn_backward, cudnn_rnn_forward, init_cudnn_params
from rnnlib.cudnn import MODES
from rnnlib.torch_interop import build_torch_rnn, params_to_state_dict, state_dict_to_params

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

DIRECTIONS = ("unidirectional", "bidirectional")
configs = st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4),
                    st.integers(1, 3))  # B, T, D, H, layers
seeds = st.integers(0, 2**32 - 1)


def torch_run(module, mode, x, h0, c0, dy, dh_n, dc_n):
    """torch's outputs and the gradients of sum(y*dy) + sum(h_n*dh_n) (+ sum(c_n*dc_n))."""
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    if mode == "lstm":
        c0t = torch.tensor(c0, requires_grad=True)
        y, (h_n, c_n) = module(xt, (h0t, c0t))
        loss = (y * torch.tensor(dy)).sum() + (h_n * torch.tensor(dh_n)).sum() + (c_n * torch.tensor(dc_n)).sum()
    else:
        y, h_n = module(xt, h0t)
        c_n = c0t = None
        loss = (y * torch.tensor(dy)).sum() + (h_n * torch.tensor(dh_n)).sum()
    loss.backward()
    grads = {name: p.grad for name, p in module.named_parameters()}
    return (y.detach().numpy(), h_n.detach().numpy(), None if c_n is None else c_n.detach().numpy(),
            xt.grad.numpy(), h0t.grad.numpy(), None if c0t is None else c0t.grad.numpy(), grads)


@PROPERTY
@given(config=configs, mode=st.sampled_from(MODES), direction=st.sampled_from(DIRECTIONS), seed=seeds)
def test_torch_computes_what_rnnlib_computes(config, mode, direction, seed):
    B, T, D, H, L = config
    dirs = 2 if direction == "bidirectional" else 1
    rng = np.random.default_rng(seed)
    params = init_cudnn_params(mode, D, H, L, direction, rng=rng)
    x, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(L * dirs, B, H))
    c0 = rng.normal(size=h0.shape) if mode == "lstm" else None
    y, h_n, c_n, cache = cudnn_rnn_forward(x, h0, c0, params, mode, direction=direction)
    dy, dh_n = rng.normal(size=y.shape), rng.normal(size=h_n.shape)
    dc_n = rng.normal(size=h_n.shape) if mode == "lstm" else None
    dx, dh0, dc0, grads = cudnn_rnn_backward(dy, dh_n, dc_n, cache)
    ty, th_n, tc_n, tdx, tdh0, tdc0, tgrads = torch_run(build_torch_rnn(params, mode, direction), mode,
                                                        x, h0, c0, dy, dh_n, dc_n)
    for got, want in [(ty, y), (th_n, h_n), (tdx, dx), (tdh0, dh0)] + (
            [(tc_n, c_n), (tdc0, dc0)] if mode == "lstm" else []):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    torch_grads = state_dict_to_params(tgrads, mode, direction)
    for k, g in enumerate(grads):
        for name, a in g.items():
            np.testing.assert_allclose(torch_grads[k][name], a, rtol=0, atol=1e-12, err_msg=f"{k} {name}")


@PROPERTY
@given(config=configs, mode=st.sampled_from(MODES), direction=st.sampled_from(DIRECTIONS), seed=seeds)
def test_round_trips_are_exact(config, mode, direction, seed):
    _, _, D, H, L = config
    params = init_cudnn_params(mode, D, H, L, direction, rng=seed)
    state_dict = params_to_state_dict(params, mode, direction)
    back = state_dict_to_params(state_dict, mode, direction)
    assert [list(p) for p in back] == [list(p) for p in params]  # the same keys, in the same order
    assert all(np.array_equal(back[k][n], params[k][n]) for k in range(len(params)) for n in params[k])
    module = build_torch_rnn(params, mode, direction)
    theirs = module.state_dict()
    assert list(theirs) == list(state_dict)  # PyTorch's own order
    assert all(np.array_equal(theirs[n].numpy(), a) for n, a in state_dict.items())
    again = params_to_state_dict(state_dict_to_params(theirs, mode, direction), mode, direction)
    assert all(np.array_equal(again[n], theirs[n].numpy()) for n in theirs)


def test_a_torch_module_of_its_own_converts_and_runs_the_same():
    torch.manual_seed(0)
    module = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, dtype=torch.float64)
    params = state_dict_to_params(module.state_dict(), "lstm", "bidirectional")
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    y = cudnn_rnn_forward(x, None, None, params, "lstm", direction="bidirectional")[0]
    np.testing.assert_allclose(module(torch.tensor(x))[0].detach().numpy(), y, rtol=0, atol=1e-12)
    assert params[0]["W_f"].shape == (5, 3) and params[2]["W_f"].shape == (5, 10)
    np.testing.assert_array_equal(params[1]["R_g"], module.weight_hh_l0_reverse.detach().numpy()[10:15])


def test_float32_parameters_build_a_float32_module():
    params = init_cudnn_params("gru", 2, 3, rng=0, dtype=np.float32)
    module = build_torch_rnn(params, "gru")
    assert all(p.dtype == torch.float32 for p in module.parameters())


def test_importing_rnnlib_imports_no_torch():
    code = "import sys, rnnlib, rnnlib.torch_interop, rnnlib.gated; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


def test_bad_inputs_name_the_argument():
    params = init_cudnn_params("lstm", 2, 3, rng=0)
    state_dict = params_to_state_dict(params, "lstm")
    with raises_naming(ValueError, "mode"):
        params_to_state_dict(params, "elman")
    with raises_naming(ValueError, "direction"):
        params_to_state_dict(params, "lstm", "both")
    with raises_naming(TypeError, "params"):
        params_to_state_dict({}, "lstm")
    with raises_naming(ValueError, "params[0]"):
        params_to_state_dict(params, "gru")
    with raises_naming(ValueError, "params"):
        params_to_state_dict(params, "lstm", "bidirectional")
    with raises_naming(ValueError, "state_dict"):
        state_dict_to_params(state_dict, "lstm", "bidirectional")
    with raises_naming(ValueError, "state_dict"):
        state_dict_to_params({**state_dict, "extra": state_dict["bias_ih_l0"]}, "lstm")
    with raises_naming(TypeError, "state_dict"):
        state_dict_to_params([], "lstm")
    with raises_naming(ValueError, "bias_hh_l0"):
        state_dict_to_params({**state_dict, "bias_hh_l0": state_dict["bias_hh_l0"][:6]}, "lstm")
    with raises_naming(ValueError, "weight_ih_l0"):
        state_dict_to_params(state_dict, "gru")
    with raises_naming(TypeError, "state_dict['bias_ih_l0']"):
        state_dict_to_params({**state_dict, "bias_ih_l0": [0.0] * 12}, "lstm")
