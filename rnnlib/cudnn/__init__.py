"""What NVIDIA cuDNN's RNN kernels compute, written out in numpy: forward and BPTT (Chapter 5).

Cell types (``mode``, the names of TensorFlow's ``tf.raw_ops.CudnnRNN``): ``rnn_tanh``,
``rnn_relu``, ``lstm`` (gates i, f, g, o) and ``gru`` (gates r, z, n; reset after the
recurrent product). Arrays are batch-major: ``x`` (B, T, D), ``y`` (B, T, dirs*H);
``h0``, ``h_n``, ``c0``, ``c_n`` (num_layers*dirs, B, H). ``params`` is a list of one
dict per pseudo-layer ``p = layer*dirs + direction``. The equations, the layout, the
options (bidirectional, skip input, dropout) are in book/api.md ("cuDNN modes") and Chapter 5.

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
