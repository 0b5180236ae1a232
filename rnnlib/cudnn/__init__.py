"""What NVIDIA cuDNN's RNN kernels compute, written out in numpy: forward and BPTT (Chapter 5).

cuDNN offers four cell types (``cudnnRNNMode_t``); the names used here are the ones
TensorFlow's ``tf.raw_ops.CudnnRNN`` takes for its ``rnn_mode`` argument. With
``x_t`` the layer input and ``h_{t-1}`` the previous hidden state, every gate
``g`` has an input matrix ``W_g`` (H, D_in), a recurrent matrix ``R_g`` (H, H) and
*two* bias vectors, ``bW_g`` and ``bR_g`` (H,) each:

``rnn_tanh``  ``h_t = tanh(W x_t + R h_{t-1} + bW + bR)``

``rnn_relu``  ``h_t = relu(W x_t + R h_{t-1} + bW + bR)``

``lstm``  (gates in cuDNN order i, f, g, o; ``g`` is cuDNN's "new memory gate" c'_t)::

    i_t = sigmoid(W_i x_t + R_i h_{t-1} + bW_i + bR_i)
    f_t = sigmoid(W_f x_t + R_f h_{t-1} + bW_f + bR_f)
    g_t =    tanh(W_g x_t + R_g h_{t-1} + bW_g + bR_g)
    o_t = sigmoid(W_o x_t + R_o h_{t-1} + bW_o + bR_o)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

``gru``  (gates in cuDNN order r, z, n; ``z`` is cuDNN's update gate i_t, ``n`` its
new memory gate h'_t). The reset gate multiplies ``R_n h_{t-1} + bR_n``, i.e. it is
applied *after* the recurrent matrix product (Keras ``GRU(reset_after=True)``)::

    r_t = sigmoid(W_r x_t + R_r h_{t-1} + bW_r + bR_r)
    z_t = sigmoid(W_z x_t + R_z h_{t-1} + bW_z + bR_z)
    n_t =    tanh(W_n x_t + r_t * (R_n h_{t-1} + bR_n) + bW_n)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Layout (batch-major like the rest of rnnlib; cuDNN itself is time-major):

- ``x`` (B, T, D); ``y`` (B, T, dirs*H), the last layer's outputs, ``[forward, backward]``
  concatenated on the last axis; ``h0``, ``h_n`` and (LSTM) ``c0``, ``c_n`` are
  (num_layers*dirs, B, H), pseudo-layer ``p = layer*dirs + direction`` as in cuDNN.
- ``params`` is a list with one dict per pseudo-layer (layer 0 forward, layer 0
  backward, layer 1 forward, ...). A dict holds, in cuDNN's linLayerID order,
  ``W_<gate>`` (H, D_in), ``R_<gate>`` (H, H), ``bW_<gate>`` (H,), ``bR_<gate>`` (H,);
  the RNN modes have one gate and no suffix: ``W``, ``R``, ``bW``, ``bR``. ``D_in`` is
  D on layer 0 and dirs*H above it. See :func:`~rnnlib.cudnn.params.param_names`.
- ``direction='bidirectional'`` adds a second cell per layer that reads the sequence
  from t = T-1 down to 0; its output at position t is stored at position t.
- ``input_mode='skip'`` (cuDNN's CUDNN_SKIP_INPUT) removes the input matrices of the
  first layer: ``x_t`` (so D must equal H) is added to every gate's pre-activation
  as it is. The two bias vectors stay (an assumption the CPU tests cannot check;
  benchmarks/cudnn_gpu_check.py compares skip mode with cuDNN itself).
- ``dropout`` p acts between layers (on the input of layers 1..L-1, never after the
  last layer), only when ``training=True``: each entry is kept with probability 1-p
  and scaled by 1/(1-p), with the mask drawn from ``rng``.

Modules: ``cells`` (one step of each cell and the table ``CELLS``), ``stack`` (cells over a
sequence, layers, directions), ``params``, ``convert`` (cuDNN's and Keras's layouts) and
``tf_ops`` (TensorFlow's cuDNN kernels, GPU only; not imported here).
"""

from .cells import (
    CELLS,
    elman_step_backward,
    elman_step_forward,
    gru_step_backward,
    gru_step_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from .convert import canonical_to_params, keras_to_params, params_to_canonical, params_to_keras
from .params import DIRECTIONS, GATES, INPUT_MODES, MODES, init_cudnn_params, named_params, param_names
from .stack import cudnn_rnn_backward, cudnn_rnn_forward, pseudo_layer_backward, pseudo_layer_forward

__all__ = [
    "CELLS", "DIRECTIONS", "GATES", "INPUT_MODES", "MODES", "canonical_to_params", "cudnn_rnn_backward",
    "cudnn_rnn_forward", "elman_step_backward", "elman_step_forward", "gru_step_backward", "gru_step_forward",
    "init_cudnn_params", "keras_to_params", "lstm_step_backward", "lstm_step_forward", "named_params",
    "param_names", "params_to_canonical", "params_to_keras", "pseudo_layer_backward", "pseudo_layer_forward",
]
