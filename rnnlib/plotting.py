"""Diagrams of unrolled RNNs, drawn with matplotlib (an edge module: the core never imports it)::

    from rnnlib.plotting import draw_unrolled, draw_encoder_decoder
    draw_unrolled(4)                                   # many-to-many
    draw_unrolled(4, outputs="last")                   # many-to-one
    draw_unrolled(4, inputs="first", feedback=True)    # one-to-many, outputs fed back
    draw_encoder_decoder(3, 4)                         # seq2seq
    draw_backward(4)                                   # BPTT: the gradients on the same graph
    draw_kept_terms(kept_terms(12, chunk=4))           # which (t, k) terms a truncation keeps

Each function draws on ``ax`` (a new figure's axes when None) and returns the axes.
Inputs sit on the bottom row, hidden states in the middle, outputs on top; every
arrow of one kind carries the name of the one matrix it stands for, which is the
picture of parameter sharing.
"""

from __future__ import annotations

from ._validate import check_choice

_COLORS = {"x": "#dbe9f6", "h": "#fde2c4", "y": "#d9f0d3", "h0": "#eeeeee", "enc": "#fbe3e8"}
_ROW = {"x": 0.0, "h": 1.0, "y": 2.0}
_HALF_W, _HALF_H = 0.27, 0.2  # half the size of a node's box, in data units


def _axes(ax, width, height):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(width, height))
    ax.set_axis_off()
    ax.set_aspect("equal")
    return ax


def _node(ax, x, y, text, color):
    from matplotlib.patches import FancyBboxPatch

    corner = (x - _HALF_W, y - _HALF_H)
    ax.add_patch(FancyBboxPatch(corner, 2 * _HALF_W, 2 * _HALF_H, zorder=2, fc=color, ec="#444444",
                                lw=1, boxstyle="round,pad=0.02,rounding_size=0.08"))
    ax.text(x, y, text, ha="center", va="center", fontsize=11, zorder=3)


def _arrow(ax, start, end, label=None, *, dashed=False, rad=0.0, label_at=0.5, label_side=(0.0, 0.0),
           color="#333333", label_color="#8b1a1a", lw=1.2):
    """An arrow between two node centres, clipped to the boxes; ``label`` near its middle."""
    (x0, y0), (x1, y1) = start, end
    if x0 == x1:  # vertical: leave from the top edge, arrive at the bottom edge
        s, e = (x0, y0 + _HALF_H * (1 if y1 > y0 else -1)), (x1, y1 - _HALF_H * (1 if y1 > y0 else -1))
    elif y0 == y1:  # horizontal
        s, e = (x0 + _HALF_W * (1 if x1 > x0 else -1), y0), (x1 - _HALF_W * (1 if x1 > x0 else -1), y1)
    else:  # diagonal: from the top of start to the left of end
        s, e = (x0 + _HALF_W * 0.6, y0 + _HALF_H), (x1 - _HALF_W, y1 - _HALF_H * 0.5)
    ax.annotate("", xy=e, xytext=s, zorder=1,
                arrowprops={"arrowstyle": "-|>", "color": color, "lw": lw, "shrinkA": 0, "shrinkB": 0,
                            "linestyle": "--" if dashed else "-", "connectionstyle": f"arc3,rad={rad}"})
    if label:
        lx = s[0] + label_at * (e[0] - s[0]) + label_side[0]
        ly = s[1] + label_at * (e[1] - s[1]) + label_side[1]
        ax.text(lx, ly, label, ha="center", va="center", fontsize=9, color=label_color, zorder=4,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.9})


def _check_steps(name, n):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name}: expected an int >= 1, got {n!r}")


def draw_unrolled(T, *, inputs="all", outputs="all", feedback=False, ax=None, title=None,
                  weights=("W", "U", "V"), state="h", x_name="x", y_name=r"\hat y"):
    """Draw an RNN unrolled over ``T`` steps, t = 1..T, starting from the state h_0.

    inputs: "all" (an input every step) or "first" (only x_1); outputs: "all",
    "last" (one output after step T) or "none"; feedback: draw each output fed back
    as the next step's input (dashed), as in generation. ``weights`` names the input,
    recurrent and output matrices written on the arrows. Returns the axes.

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """
    _check_steps("T", T)
    check_choice("inputs", inputs, ("all", "first"))
    check_choice("outputs", outputs, ("all", "last", "none"))
    ax = _axes(ax, 1.3 * (T + 1) + 0.4, 3.4)
    Wn, Un, Vn = weights
    _node(ax, 0, _ROW["h"], f"${state}_0$", _COLORS["h0"])
    for t in range(1, T + 1):
        _node(ax, t, _ROW["h"], f"${state}_{{{t}}}$", _COLORS["h"])
        _arrow(ax, (t - 1, _ROW["h"]), (t, _ROW["h"]), f"${Un}$", label_side=(0, -0.17))
        if inputs == "all" or t == 1:
            _node(ax, t, _ROW["x"], f"${x_name}_{{{t}}}$", _COLORS["x"])
            _arrow(ax, (t, _ROW["x"]), (t, _ROW["h"]), f"${Wn}$")
        if outputs == "all" or (outputs == "last" and t == T):
            _node(ax, t, _ROW["y"], f"${y_name}_{{{t}}}$", _COLORS["y"])
            _arrow(ax, (t, _ROW["h"]), (t, _ROW["y"]), f"${Vn}$")
        if feedback and t < T and outputs == "all":
            _arrow(ax, (t, _ROW["y"]), (t + 1, _ROW["h"]), None, dashed=True)
    ax.set_xlim(-0.5, T + 0.5)
    ax.set_ylim(-0.45, 2.45)
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def draw_encoder_decoder(src_len, tgt_len, *, ax=None, title=None, feedback=False):
    """Draw a seq2seq model: an encoder over ``src_len`` inputs, a decoder over ``tgt_len`` steps.

    The encoder (states e_1..e_S, no outputs) starts from e_0 = 0; its last state is
    the decoder's initial state h_0. The decoder reads a start token <s> and then the
    previous target y_{t-1} (teacher forcing), or, with ``feedback=True``, its own
    previous output (generation, dashed). Returns the axes.

    Derived in: Chapter 1, Structure (book/01_structure.ipynb)
    """
    _check_steps("src_len", src_len)
    _check_steps("tgt_len", tgt_len)
    S, T = src_len, tgt_len
    ax = _axes(ax, 1.1 * (S + T + 2) + 0.4, 3.6)
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((-0.45, -0.4), S + 0.9, 1.75, fc="#fbf3f5", ec="none", zorder=0))
    ax.add_patch(Rectangle((S + 0.55, -0.4), T + 0.9, 2.8, fc="#f2f8ef", ec="none", zorder=0))
    ax.text(S / 2, -0.62, "encoder", ha="center", va="center", fontsize=10)
    ax.text(S + 1 + T / 2, -0.62, "decoder", ha="center", va="center", fontsize=10)
    _node(ax, 0, _ROW["h"], "$e_0$", _COLORS["h0"])
    for t in range(1, S + 1):
        _node(ax, t, _ROW["h"], f"$e_{{{t}}}$", _COLORS["enc"])
        _arrow(ax, (t - 1, _ROW["h"]), (t, _ROW["h"]), "$U_e$", label_side=(0, -0.17))
        _node(ax, t, _ROW["x"], f"$x_{{{t}}}$", _COLORS["x"])
        _arrow(ax, (t, _ROW["x"]), (t, _ROW["h"]), "$W_e$")
    for t in range(1, T + 1):
        c = S + 1 + t
        _node(ax, c, _ROW["h"], f"$h_{{{t}}}$", _COLORS["h"])
        _node(ax, c, _ROW["y"], f"$\\hat y_{{{t}}}$", _COLORS["y"])
        _arrow(ax, (c, _ROW["h"]), (c, _ROW["y"]), "$V_d$")
        if t == 1 or not feedback:
            _node(ax, c, _ROW["x"], "$\\langle s\\rangle$" if t == 1 else f"$y_{{{t - 1}}}$", _COLORS["x"])
            _arrow(ax, (c, _ROW["x"]), (c, _ROW["h"]), "$W_d$")
        else:
            _arrow(ax, (c - 1, _ROW["y"]), (c, _ROW["h"]), None, dashed=True)
        if t > 1:
            _arrow(ax, (c - 1, _ROW["h"]), (c, _ROW["h"]), "$U_d$", label_side=(0, -0.17))
    _node(ax, S + 1, _ROW["h"], "$h_0$", _COLORS["h0"])
    _arrow(ax, (S, _ROW["h"]), (S + 1, _ROW["h"]), "copy", label_side=(0, -0.17))
    _arrow(ax, (S + 1, _ROW["h"]), (S + 2, _ROW["h"]), "$U_d$", label_side=(0, -0.17))
    ax.set_xlim(-0.5, S + T + 1.5)
    ax.set_ylim(-0.8, 2.45)
    if title:
        ax.set_title(title, fontsize=11)
    return ax


# the two paths into delta_k, in the colours of draw_backward
OUTPUT_PATH, RECURRENT_PATH = "#1f77b4", "#d62728"


def draw_backward(T, *, ax=None, title=None):
    """Draw BPTT on the graph of ``draw_unrolled(T, inputs="none")``: the forward arrows
    faint, the gradients flowing right to left in colour.

    Into each h_k come two gradients: V^T eps_k from its own output (blue) and
    U^T delta_{k+1} from the next step (red); delta_k = (their sum) * (1 - h_k^2), and
    the last red arrow carries U^T delta_1 = dE/dh_0 into h_0. Every
    copy of U adds its term delta_k h_{k-1}^T to the one gradient dE/dU (dotted), which
    is parameter sharing seen from the backward pass. Returns the axes.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    _check_steps("T", T)
    ax = _axes(ax, 1.6 * (T + 1) + 0.4, 4.0)
    faint = {"color": "#bbbbbb", "label_color": "#999999", "lw": 0.9}
    sum_at = ((T + 1) / 2 - 0.5, -0.2)
    _node(ax, 0, _ROW["h"], "$h_0$", _COLORS["h0"])
    for t in range(1, T + 1):
        _node(ax, t, _ROW["h"], f"$h_{{{t}}}$", _COLORS["h"])
        _node(ax, t, _ROW["y"], f"$E_{{{t}}}$", _COLORS["y"])
        _arrow(ax, (t + 0.1, _ROW["h"]), (t + 0.1, _ROW["y"]), "$V$", label_side=(0.15, 0), **faint)
        _arrow(ax, (t - 0.1, _ROW["y"]), (t - 0.1, _ROW["h"]), rf"$V^\top\varepsilon_{{{t}}}$",
               label_side=(-0.3, 0), color=OUTPUT_PATH, label_color=OUTPUT_PATH, lw=1.6)
        y_fwd, y_bwd = _ROW["h"] + 0.08, _ROW["h"] - 0.08
        _arrow(ax, (t - 1, y_fwd), (t, y_fwd), "$U$", label_side=(0, 0.17), **faint)
        # delta_t flows back into h_{t-1}; into h_0 it is dE/dh_0 = U^T delta_1
        _arrow(ax, (t, y_bwd), (t - 1, y_bwd), rf"$U^\top\delta_{{{t}}}$",
               label_side=(0, -0.2), color=RECURRENT_PATH, label_color=RECURRENT_PATH, lw=1.6)
        mid = (t - 0.5, _ROW["h"] - 0.55)  # this copy of U adds delta_t h_{t-1}^T
        ax.annotate("", xy=(sum_at[0], sum_at[1] + 0.13), xytext=mid, zorder=1,
                    arrowprops={"arrowstyle": "-|>", "color": "#777777", "lw": 0.8, "linestyle": ":"})
        ax.text(mid[0], mid[1] + 0.03, rf"$\delta_{{{t}}} h_{{{t - 1}}}^\top$", ha="center", va="bottom",
                fontsize=8, color="#555555", zorder=4)
    ax.text(*sum_at, r"$\partial E/\partial U = \sum_k \delta_k h_{k-1}^\top$", ha="center", va="center",
            fontsize=10, bbox={"boxstyle": "round,pad=0.25", "fc": "#f4f4f4", "ec": "#777777"}, zorder=3)
    ax.set_xlim(-0.5, T + 0.5)
    ax.set_ylim(-0.45, 2.3)
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def kept_terms(T, **truncation):
    """(T, T) booleans: entry [t-1, k-1] is True when output t's gradient reaches s_k.

    ``truncation`` is one option of ``rnn_backward`` (none: full BPTT; ``truncate=``,
    ``chunk=`` or ``tbptt=(k1, k2)``). Read off rnnlib itself: ``rnn_backward``'s
    deltas ds of each output's gradient alone, through a two-unit tanh RNN whose
    Jacobians have no zero entry; step k is kept when delta_k is nonzero.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    import numpy as np

    from .rnn import rnn_backward, rnn_forward

    _check_steps("T", T)
    W, U, b = np.array([[0.3], [-0.2]]), np.array([[0.5, 0.3], [-0.4, 0.6]]), np.zeros(2)
    x = np.ones((1, T, 1))
    _, cache = rnn_forward(x, None, W, U, b)
    kept = np.zeros((T, T), dtype=bool)
    for t in range(T):
        dhs = np.zeros((1, T, 2))
        dhs[0, t] = 1.0  # only output t's loss
        ds = rnn_backward(dhs, cache, return_deltas=True, **truncation)["ds"][0]  # (T, 2)
        kept[t] = np.any(ds != 0, axis=1)  # delta_k nonzero: the term (t, k) is kept
    return kept


def draw_kept_terms(kept, *, ax=None, title=None, color="#1f77b4"):
    """Draw a (T, T) grid of the terms (t, k) kept: row t is output t, column k the step
    s_k its gradient reaches (``kept_terms``). Full BPTT fills the lower triangle.

    Derived in: Chapter 3, Backpropagation through time (book/03_bptt.ipynb)
    """
    import numpy as np
    from matplotlib.colors import ListedColormap

    T = kept.shape[0]
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(3, 3))
    shade = np.where(kept, 2, np.tril(np.ones((T, T))))  # 2 kept, 1 dropped, 0 never a term
    ax.imshow(shade, cmap=ListedColormap(["white", "#e6e6e6", color]), vmin=0, vmax=2,
              extent=(0.5, T + 0.5, T + 0.5, 0.5))
    ax.set_xticks(np.arange(0.5, T + 1), minor=True)
    ax.set_yticks(np.arange(0.5, T + 1), minor=True)
    ax.grid(which="minor", color="white", lw=0.8)
    ax.tick_params(which="minor", length=0)
    ticks = [1, *range(4, T + 1, 4)] if T > 6 else list(range(1, T + 1))
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set(xlabel="step k reached", ylabel="output t")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


# ---- Chapter 7: the GRU and LSTM cells ---------------------------------------------------------

_GATE_COLORS = {"sigmoid": "#fde2c4", "tanh": "#dbe9f6", "op": "#ffffff", "state": "#d9f0d3", "in": "#eeeeee",
                "wide": "#eeeeee"}


def _cell_node(ax, xy, text, kind):
    """A gate (a box) or an entrywise operation (a circle) of a cell diagram."""
    from matplotlib.patches import Circle, FancyBboxPatch

    x, y = xy
    if kind == "op":
        ax.add_patch(Circle(xy, 0.17, fc=_GATE_COLORS["op"], ec="#444444", lw=1, zorder=2))
    else:
        w, h = {"sigmoid": 0.86, "tanh": 0.9, "state": 0.62, "wide": 1.75}.get(kind, 1.4), 0.34
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, zorder=2, fc=_GATE_COLORS[kind],
                                    ec="#444444", lw=1, boxstyle="round,pad=0.02,rounding_size=0.06"))
    ax.text(x, y, text, ha="center", va="center", fontsize=11, zorder=3)


def _cell_edge(ax, start, end, label=None, *, color="#333333", lw=1.2, label_side=(0.0, 0.12)):
    """An arrow between two node centres, shortened at both ends to clear the nodes."""
    ax.annotate("", xy=end, xytext=start, zorder=1,
                arrowprops={"arrowstyle": "-|>", "color": color, "lw": lw, "shrinkA": 13, "shrinkB": 13})
    if label:
        ax.text((start[0] + end[0]) / 2 + label_side[0], (start[1] + end[1]) / 2 + label_side[1], label,
                ha="center", va="center", fontsize=9, color="#8b1a1a", zorder=4)


def _draw_cell(nodes, edges, highway, *, ax, title, size):
    ax = _axes(ax, *size)
    for xy, text, kind in nodes.values():
        _cell_node(ax, xy, text, kind)
    for start, end, *label in edges:
        on_highway = (start, end) in highway
        _cell_edge(ax, nodes[start][0], nodes[end][0], label[0] if label else None,
                   color="#b03a2e" if on_highway else "#333333", lw=2.6 if on_highway else 1.2)
    xs = [xy[0] for xy, _, _ in nodes.values()]
    ys = [xy[1] for xy, _, _ in nodes.values()]
    ax.set_xlim(min(xs) - 0.9, max(xs) + 0.9)
    ax.set_ylim(min(ys) - 0.4, max(ys) + 0.4)
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def draw_lstm_cell(*, ax=None, title=None):
    """Draw one LSTM step as cuDNN computes it (Chapter 5's eq-cudnn-lstm).

    Boxes are gates (sigmoid or tanh of ``W_g x_t + R_g h_{t-1} + bW_g + bR_g``), circles
    entrywise products and sums. The thick red path carries c_{t-1} to c_t through one
    product with f_t and one sum: the additive path of the cell state. Returns the axes.

    Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
    """
    nodes = {
        "c_prev": ((0.0, 3.0), "$c_{t-1}$", "state"), "mul_f": ((1.5, 3.0), r"$\times$", "op"),
        "add": ((3.1, 3.0), "$+$", "op"), "c": ((6.5, 3.0), "$c_t$", "state"),
        "f": ((1.5, 1.2), r"$f_t$: $\sigma$", "sigmoid"), "i": ((2.55, 1.2), r"$i_t$: $\sigma$", "sigmoid"),
        "g": ((3.65, 1.2), r"$g_t$: tanh", "tanh"), "o": ((4.75, 1.2), r"$o_t$: $\sigma$", "sigmoid"),
        "mul_i": ((3.1, 2.1), r"$\times$", "op"), "tanh_c": ((5.5, 2.1), "tanh", "tanh"),
        "mul_o": ((5.5, 1.2), r"$\times$", "op"), "h": ((6.5, 1.2), "$h_t$", "state"),
        "in": ((3.1, -0.1), "$x_t$, $h_{t-1}$", "in"),
    }
    edges = [("c_prev", "mul_f"), ("mul_f", "add"), ("add", "c"), ("f", "mul_f"), ("i", "mul_i"), ("g", "mul_i"),
             ("mul_i", "add"), ("add", "tanh_c"), ("tanh_c", "mul_o"), ("o", "mul_o"), ("mul_o", "h"),
             ("in", "f"), ("in", "i"), ("in", "g"), ("in", "o")]
    highway = {("c_prev", "mul_f"), ("mul_f", "add"), ("add", "c")}
    return _draw_cell(nodes, edges, highway, ax=ax, title=title, size=(7.0, 4.0))


def draw_gru_cell(*, ax=None, title=None):
    """Draw one GRU step in cuDNN's reset-after form (Chapter 5's eq-cudnn-gru).

    The reset gate r_t multiplies the recurrent side ``R_n h_{t-1} + bR_n`` of the new memory
    n_t; the update gate z_t mixes h_t = (1 - z_t) n_t + z_t h_{t-1}. The thick red path
    carries h_{t-1} to h_t through one product with z_t and one sum. Returns the axes.

    Derived in: Chapter 7, Why gates work (book/07_gated.ipynb)
    """
    nodes = {
        "h_prev": ((0.0, 3.0), "$h_{t-1}$", "state"), "mul_z": ((1.6, 3.0), r"$\times$", "op"),
        "add": ((3.6, 3.0), "$+$", "op"), "h": ((5.0, 3.0), "$h_t$", "state"),
        "z": ((1.6, 1.6), r"$z_t$: $\sigma$", "sigmoid"), "one_minus": ((2.6, 1.6), "1$-$", "op"),
        "mul_n": ((3.6, 2.2), r"$\times$", "op"), "n": ((3.6, 1.0), r"$n_t$: tanh", "tanh"),
        "mul_r": ((2.6, 0.4), r"$\times$", "op"), "r": ((1.6, 0.4), r"$r_t$: $\sigma$", "sigmoid"),
        "q": ((2.6, -0.5), "$R_n h_{t-1} + b_{R_n}$", "wide"), "in": ((0.2, 1.0), "$x_t$, $h_{t-1}$", "in"),
        "xn": ((4.9, 0.2), "$W_n x_t + b_{W_n}$", "in"),
    }
    edges = [("h_prev", "mul_z"), ("mul_z", "add"), ("add", "h"), ("z", "mul_z"), ("z", "one_minus"),
             ("one_minus", "mul_n"), ("n", "mul_n"), ("mul_n", "add"), ("r", "mul_r"), ("q", "mul_r"),
             ("mul_r", "n"), ("xn", "n"), ("in", "z"), ("in", "r")]
    highway = {("h_prev", "mul_z"), ("mul_z", "add"), ("add", "h")}
    return _draw_cell(nodes, edges, highway, ax=ax, title=title, size=(6.0, 4.2))
