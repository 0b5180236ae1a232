"""The implementations of one training step that ``fair_benchmark.py`` times, and their FLOP.

One step, everywhere: token ids (B, T) -> Elman tanh RNN (H units) -> dense scores over V
classes, cross-entropy summed over the B*T positions, full backpropagation through time,
the gradient of every parameter, and the SGD update ``p -= LR * g``; float32; the same
initial parameters (rnnlib's ``RNNLanguageModel(V, H, rng=0)``) and the same batch.
Adapted from the independent audit's harness (benchmarks/audit-2026-11/impls.py).

Each ``make_*`` returns ``(step, grads)``: ``step()`` runs one training step (what is
timed); ``grads()`` returns ``(loss, {W, U, b, V, b_y})`` in rnnlib's layout, computed
without an update, for the agreement check made before any timing (None for the
products replay, which computes nothing).
"""

from __future__ import annotations

import os

import numpy as np

LR = 1e-5  # small: the parameters stay near where they started over hundreds of steps


def step_gflop(B, T, V, H) -> float:
    """The products every implementation needs: 2BT(3H^2 + 3HV) (forward U and V, dL/dh,
    dV, the backward sweep's U and dU); the input term is a lookup."""
    return 2 * B * T * (3 * H * H + 3 * H * V) / 1e9


def gflop(impl, B, T, V, H) -> float:
    """What ``impl`` multiplies: the products above, plus dW as a product by the (BT, V)
    one-hot ids (rnnlib up to V = 4H, the numpy step), plus the one-hot input times the
    kernel (Keras and torch, which take one-hot vectors: 2BTVH each way)."""
    extra = {"rnnlib": 2 * B * T * V * H if V <= 4 * H else 0, "numpy": 2 * B * T * V * H,
             "keras": 4 * B * T * V * H, "torch": 4 * B * T * V * H, "products": 0}
    return step_gflop(B, T, V, H) + extra[impl.split("_")[0]] / 1e9


def problem(B, T, V, H):
    """rnnlib's float32 parameters (seed 0) and a batch of ids x, targets y (seed 1)."""
    from rnnlib import RNNLanguageModel

    model = RNNLanguageModel(V, H, rng=0, dtype=np.float32)
    rng = np.random.default_rng(1)
    return model.params, rng.integers(0, V, size=(B, T)), rng.integers(0, V, size=(B, T))


def reference_grads(params, x, y):
    """Loss and gradients in float64 (rnnlib on the float32 parameters, converted)."""
    from rnnlib import RNNLanguageModel

    model = RNNLanguageModel.from_params({k: v.astype(np.float64) for k, v in params.items()})
    loss, grads, _ = model.loss(x, y)
    return float(loss), grads


# ----------------------------------------------------------------- rnnlib --


def make_rnnlib(params, x, y, variant="fast"):
    """``model.loss(x, y)`` then ``SGD(LR).step``: what a user's training loop does.
    ``variant='shown'`` runs the loss through the functions the chapters show, with all
    their checks (``rnnlib.models._checked_loss``), as model.loss did before its fast path."""
    from rnnlib import SGD, RNNLanguageModel
    from rnnlib.models import _checked_loss

    model = RNNLanguageModel.from_params({k: v.copy() for k, v in params.items()})
    opt = SGD(LR)
    if variant == "shown":
        from rnnlib import _malloc

        _malloc.keep_freed_memory()  # as the fast path does on its first call

        def loss():
            return _checked_loss(model, x, y, None, "sum")
    else:
        def loss():
            return model.loss(x, y)

    def step():
        value, grads, _ = loss()
        opt.step(model.params, grads)
        return value

    def grads():
        value, g, _ = loss()
        return float(value), g

    return step, grads


# ------------------------------------------------------------ plain numpy --


def make_numpy(params, x, y):
    """A plain numpy step, min-char-rnn style (about 40 lines, batched, time-major, no
    argument checks); the one-hot matrix of the ids is built in the step, since a training
    loop sees a new batch every step."""
    P = {k: v.copy() for k, v in params.items()}
    B, T = x.shape
    H = P["U"].shape[0]
    N = B * T

    def forward_backward():
        W, U, b, Vw, by = P["W"], P["U"], P["b"], P["V"], P["b_y"]
        xt, yt = x.T.reshape(N), y.T.reshape(N)  # time-major rows t*B + i
        rows = np.arange(N)
        hs = np.empty((T + 1, B, H), np.float32)
        hs[0] = 0
        hs[1:] = W.T[xt].reshape(T, B, H) + b  # input term: a lookup
        UT = U.T.copy()
        for t in range(1, T + 1):
            np.tanh(hs[t] + hs[t - 1] @ UT, out=hs[t])
        h2 = hs[1:].reshape(N, H)
        z = h2 @ Vw.T + by
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)  # probabilities
        loss = -np.log(z[rows, yt]).sum()
        z[rows, yt] -= 1  # dL/dz = p - onehot(y)
        dh = (z @ Vw).reshape(T, B, H)
        ds = 1 - hs[1:] * hs[1:]
        dnext = np.zeros((B, H), np.float32)
        for t in range(T - 1, -1, -1):
            ds[t] *= dh[t] + dnext
            dnext = ds[t] @ U
        ds2 = ds.reshape(N, H)
        onehot = np.zeros((N, W.shape[1]), np.float32)
        onehot[rows, xt] = 1
        grads = {"W": ds2.T @ onehot, "U": ds2.T @ hs[:-1].reshape(N, H), "b": ds2.sum(0),
                 "V": z.T @ h2, "b_y": z.sum(0)}
        return loss, grads

    def step():
        loss, g = forward_backward()
        for k in P:
            P[k] -= LR * g[k]
        return loss

    def grads():
        loss, g = forward_backward()
        return float(loss), g

    return step, grads


# ------------------------------------------------------------------ Keras --


def make_keras(params, x, y, mode):
    """SimpleRNN(H, return_sequences=True) + Dense(V) on one-hot ids, the loss
    SparseCategoricalCrossentropy(from_logits=True, reduction='sum'), keras.optimizers.SGD.
    mode: 'xla' (a custom train step in tf.function(jit_compile=True)), 'graph' (the same,
    jit_compile=False) or 'fit' (model.compile(jit_compile=True) and train_on_batch)."""
    import keras
    import tensorflow as tf

    B, T = x.shape
    H, V = params["U"].shape[0], params["V"].shape[0]
    D = params["W"].shape[1]
    rnn = keras.layers.SimpleRNN(H, return_sequences=True, dtype="float32")
    dense = keras.layers.Dense(V, dtype="float32")
    ids = keras.Input(shape=(T,), dtype="int32")
    onehot = keras.layers.Lambda(lambda t: tf.one_hot(t, D), output_shape=(T, D))(ids)
    model = keras.Model(ids, dense(rnn(onehot)))
    rnn.cell.kernel.assign(params["W"].T)
    rnn.cell.recurrent_kernel.assign(params["U"].T)
    rnn.cell.bias.assign(params["b"])
    dense.kernel.assign(params["V"].T)
    dense.bias.assign(params["b_y"])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    variables = [rnn.cell.kernel, rnn.cell.recurrent_kernel, rnn.cell.bias, dense.kernel, dense.bias]
    x_tf, y_tf = tf.constant(x.astype(np.int32)), tf.constant(y.astype(np.int32))

    @tf.function
    def loss_and_grads(xb, yb):
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        return loss, tape.gradient(loss, variables)

    def grads():
        loss, g = loss_and_grads(x_tf, y_tf)
        g = [np.asarray(a) for a in g]
        return float(loss), {"W": g[0].T, "U": g[1].T, "b": g[2], "V": g[3].T, "b_y": g[4]}

    optimizer = keras.optimizers.SGD(learning_rate=LR)
    if mode == "fit":
        model.compile(optimizer=optimizer, loss=loss_fn, jit_compile=True)

        def step():
            return model.train_on_batch(x_tf, y_tf)

        return step, grads

    optimizer.build(variables)

    def train_step(xb, yb):
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    compiled = tf.function(train_step, jit_compile=(mode == "xla"))

    def step():
        return compiled(x_tf, y_tf).numpy()

    return step, grads


# ------------------------------------------------------------------ torch --


def make_torch(params, x, y, compiled=False):
    """nn.RNN(V, H) (tanh, time-major) on one-hot ids + nn.Linear(H, V), F.cross_entropy
    (sum), torch.optim.SGD; eager, or the forward and loss in ``torch.compile`` (with
    ``torch._dynamo.config.allow_rnn = True``, without which dynamo skips nn.RNN and runs
    it eagerly); the step raises if nothing was compiled or the graph broke."""
    import torch
    import torch.nn.functional as F

    B, T = x.shape
    H, V = params["U"].shape[0], params["V"].shape[0]
    D = params["W"].shape[1]
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh")
    linear = torch.nn.Linear(H, V)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(params["W"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params["U"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params["b"]))
        rnn.bias_hh_l0.zero_()  # nn.RNN has two biases; b_ih + b_hh is rnnlib's b
        linear.weight.copy_(torch.from_numpy(params["V"]))
        linear.bias.copy_(torch.from_numpy(params["b_y"]))
    weights = [*rnn.parameters(), *linear.parameters()]
    optimizer = torch.optim.SGD(weights, lr=LR)
    xt = torch.from_numpy(np.ascontiguousarray(x.T))  # (T, B)
    yt = torch.from_numpy(np.ascontiguousarray(y.T)).reshape(-1)

    def loss_of(xt, yt):
        out, _ = rnn(F.one_hot(xt, D).to(torch.float32))
        return F.cross_entropy(linear(out).reshape(-1, V), yt, reduction="sum")

    if compiled:
        import torch._dynamo

        torch._dynamo.config.allow_rnn = True
        torch._dynamo.utils.counters.clear()
        loss_of = torch.compile(loss_of)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(xt, yt)
        loss.backward()
        optimizer.step()
        return loss.item()

    def grads():
        for w in weights:
            w.grad = None
        loss = loss_of(xt, yt)
        loss.backward()
        g = {"W": rnn.weight_ih_l0.grad, "U": rnn.weight_hh_l0.grad, "b": rnn.bias_ih_l0.grad,
             "V": linear.weight.grad, "b_y": linear.bias.grad}
        out = {k: v.detach().numpy().copy() for k, v in g.items()}
        for w in weights:
            w.grad = None
        return float(loss), out

    if compiled:
        grads()  # compiles
        counters = torch._dynamo.utils.counters
        graphs, breaks = counters["stats"]["unique_graphs"], sum(counters["graph_break"].values())
        if graphs < 1 or breaks:
            raise RuntimeError(f"torch.compile: {graphs} graphs compiled, {breaks} graph breaks")
    return step, grads


def torch_compile_report():
    """Graphs compiled and graph breaks so far (dynamo's counters)."""
    import torch._dynamo

    counters = torch._dynamo.utils.counters
    return {"graphs": counters["stats"]["unique_graphs"], "graph_breaks": sum(counters["graph_break"].values())}


# ------------------------------------------------------- products alone --


def make_products(params, x, y):
    """The step's necessary products alone (``step_gflop``), at its shapes and layouts:
    the limit a numpy step cannot beat. Operands are random; nothing is computed."""
    B, T = x.shape
    H, V = params["U"].shape[0], params["V"].shape[0]
    N = B * T
    rng = np.random.default_rng(0)

    def a(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    h, U_T, U, hs, Vw, dz, ds = a(B, H), a(H, H), a(H, H), a(N, H), a(V, H), a(N, V), a(N, H)
    out = np.empty((B, H), np.float32)

    def step():
        for _ in range(T):
            np.matmul(h, U_T, out=out)  # forward recurrence
        hs @ Vw.T  # scores
        dz @ Vw  # dL/dh
        dz.T @ hs  # dV
        for _ in range(T):
            np.matmul(h, U, out=out)  # backward sweep
        ds.T @ hs  # dU
        return 0.0

    return step, None


MAKERS = {
    "rnnlib": lambda p, x, y: make_rnnlib(p, x, y),
    "rnnlib_shown": lambda p, x, y: make_rnnlib(p, x, y, "shown"),
    "rnnlib_nomalloc": lambda p, x, y: make_rnnlib(p, x, y),  # RNNLIB_KEEP_FREED_MEMORY=0
    "numpy": make_numpy,
    "keras_xla": lambda p, x, y: make_keras(p, x, y, "xla"),
    "keras_graph": lambda p, x, y: make_keras(p, x, y, "graph"),
    "keras_fit": lambda p, x, y: make_keras(p, x, y, "fit"),
    "torch": make_torch,
    "torch_compile": lambda p, x, y: make_torch(p, x, y, compiled=True),
    "products": make_products,
}

CONFIG = {  # what each name runs, for the tables
    "rnnlib": "RNNLanguageModel.loss + SGD.step",
    "rnnlib_shown": "the shown functions (all checks) + SGD.step",
    "rnnlib_nomalloc": "rnnlib with glibc's default malloc (RNNLIB_KEEP_FREED_MEMORY=0)",
    "numpy": "plain numpy step, ~40 lines, no checks",
    "keras_xla": "Keras, custom tf.function train step, jit_compile=True (XLA), oneDNN as shipped",
    "keras_graph": "Keras, custom tf.function train step, jit_compile=False, oneDNN as shipped",
    "keras_fit": "Keras, model.compile(jit_compile=True) + train_on_batch, oneDNN as shipped",
    "torch": "PyTorch nn.RNN + nn.Linear, eager",
    "torch_compile": "PyTorch nn.RNN + nn.Linear, torch.compile (allow_rnn=True)",
    "products": "the step's matrix products alone (numpy), the limit",
}
PEERS = ("numpy", "keras_xla", "keras_graph", "keras_fit", "torch", "torch_compile")


def worker_environment(impl, threads):
    """Environment variables a worker for ``impl`` starts with (before numpy is imported)."""
    env = {name: str(threads) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["RNNLIB_KEEP_FREED_MEMORY"] = "0" if impl == "rnnlib_nomalloc" else "1"
    return env


def unset_environment():
    """Variables a worker must not inherit: TF_ENABLE_ONEDNN_OPTS (oneDNN as shipped) and
    the malloc and OpenBLAS tuning variables (each worker's runtime as a user gets it)."""
    return ("TF_ENABLE_ONEDNN_OPTS", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
            "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def os_environ_for(impl, threads):
    env = {k: v for k, v in os.environ.items() if k not in unset_environment()}
    env.update(worker_environment(impl, threads))
    return env
