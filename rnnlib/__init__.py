"""rnnlib: the recurrent networks of the course, in numpy, every gradient checked.

The functional core (``rnn``, ``layers``, ``loss``) has no dependency but numpy;
models compose it; TensorFlow interop (``tfcompat``, ``keras_interop``) and
plotting live at the edges and are imported only when asked for.
"""

__version__ = "0.1.0"

from .gradcheck import GradCheckReport, gradient_check, numerical_gradient, relative_error
from .layers import affine_backward, affine_forward
from .loss import log_softmax, sequence_cross_entropy, softmax
from .models import RNNLanguageModel
from .optim import SGD, Adagrad, clip_by_global_norm, global_norm
from .params import load_params, save_params
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward, state_gradients

__all__ = [
    "Adagrad",
    "GradCheckReport",
    "RNNLanguageModel",
    "SGD",
    "affine_backward",
    "affine_forward",
    "clip_by_global_norm",
    "global_norm",
    "gradient_check",
    "load_params",
    "log_softmax",
    "numerical_gradient",
    "relative_error",
    "rnn_backward",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "save_params",
    "sequence_cross_entropy",
    "softmax",
    "state_gradients",
]

# cuDNN modes (Chapter 5)
from .cudnn import (  # noqa: E402
    canonical_to_params,
    cudnn_rnn_backward,
    cudnn_rnn_forward,
    init_cudnn_params,
    keras_to_params,
    params_to_canonical,
    params_to_keras,
)

__all__ += [
    "canonical_to_params",
    "cudnn_rnn_backward",
    "cudnn_rnn_forward",
    "init_cudnn_params",
    "keras_to_params",
    "params_to_canonical",
    "params_to_keras",
]

# Sequence structures (Chapter 1)
from .seq_models import RNNClassifier, Seq2Seq  # noqa: E402

__all__ += ["RNNClassifier", "Seq2Seq"]

# Data and training loops (Chapter 6)
from .data import (  # noqa: E402
    CharVocab,
    balanced_brackets,
    batchify,
    iter_chunks,
    python_docs_text,
    reverse_digits,
    train_val_split,
)
from .train import (  # noqa: E402
    bits_per_char,
    seq2seq_exact_match,
    train_language_model,
    train_minibatches,
    unigram_bits_per_char,
)

__all__ += [
    "CharVocab",
    "balanced_brackets",
    "batchify",
    "bits_per_char",
    "iter_chunks",
    "python_docs_text",
    "reverse_digits",
    "seq2seq_exact_match",
    "train_language_model",
    "train_minibatches",
    "train_val_split",
    "unigram_bits_per_char",
]
