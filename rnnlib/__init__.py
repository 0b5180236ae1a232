"""rnnlib: the recurrent networks of the course, in numpy, every gradient checked.

The functional core (``rnn``, ``layers``, ``loss``) has no dependency but numpy;
models compose it; TensorFlow interop (``tfcompat``, ``keras_interop``) and
plotting live at the edges and are imported only when asked for.
"""

__version__ = "0.1.0"

from .cudnn import (
    canonical_to_params,
    cudnn_rnn_backward,
    cudnn_rnn_forward,
    init_cudnn_params,
    keras_to_params,
    params_to_canonical,
    params_to_keras,
)
from .data import (
    CharVocab,
    balanced_brackets,
    batchify,
    iter_chunks,
    python_docs_text,
    reverse_digits,
    train_val_split,
)
from .gated import CellClassifier, marked_symbol_task
from .gradcheck import GradCheckReport, gradient_check, numerical_gradient, relative_error
from .layers import affine_backward, affine_forward
from .linear_rnn import (
    MinGRULanguageModel,
    linear_recurrence,
    linear_scan,
    linear_scan_backward,
    log_linear_scan,
    lru_backward,
    lru_forward,
    min_gru_backward,
    min_gru_forward,
)
from .loss import log_softmax, sequence_cross_entropy, softmax
from .models import RNNLanguageModel
from .optim import SGD, Adagrad, clip_by_global_norm, global_norm
from .params import load_params, save_params
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward, state_gradients
from .seq_models import RNNClassifier, Seq2Seq
from .train import (
    bits_per_char,
    seq2seq_exact_match,
    train_language_model,
    train_minibatches,
    unigram_bits_per_char,
)

__all__ = [
    # Chapter 1: the recurrent layer, the output layer, the models
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "affine_forward", "affine_backward", "RNNLanguageModel", "RNNClassifier", "Seq2Seq",
    # Chapter 2: the loss and the optimisers that descend it
    "softmax", "log_softmax", "sequence_cross_entropy", "SGD", "Adagrad",
    # Chapter 3: the gradients through time and their clipping
    "state_gradients", "clip_by_global_norm", "global_norm",
    # Chapter 5: cuDNN's cells
    "cudnn_rnn_forward", "cudnn_rnn_backward", "init_cudnn_params",
    "params_to_canonical", "canonical_to_params", "params_to_keras", "keras_to_params",
    # Chapter 6: data and training
    "CharVocab", "python_docs_text", "train_val_split", "batchify", "iter_chunks",
    "balanced_brackets", "reverse_digits", "train_language_model", "train_minibatches",
    "bits_per_char", "unigram_bits_per_char", "seq2seq_exact_match",
    # Chapter 7: gated cells at work
    "CellClassifier", "marked_symbol_task",
    # Chapter 8: linear recurrences, the parallel scan, minGRU and the LRU
    "linear_recurrence", "linear_scan", "linear_scan_backward", "log_linear_scan",
    "min_gru_forward", "min_gru_backward", "MinGRULanguageModel", "lru_forward", "lru_backward",
    # used throughout: gradient checks; saving parameters
    "gradient_check", "numerical_gradient", "relative_error", "GradCheckReport",
    "save_params", "load_params",
]
