# PyTorch reference for tests/rnn/torch_compare_test.cpp: recurrent layers and cells in float64
# with their weights, inputs, outputs, final states and the gradients of
# loss = sum(output * w_out) + sum(h_n * w_h) [+ sum(c_n * w_c)] for the inputs, the initial
# states and every parameter. Variable lengths go through pack_padded_sequence.
import json

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def enc(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def layer_case(kind, C, H, T, N, layers=1, bidirectional=False, batch_first=False, nonlinearity="tanh",
               initial=False, lengths=None, bias=True):
    kw = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    if kind == "RNN":
        kw["nonlinearity"] = nonlinearity
    m = getattr(nn, kind)(C, H, **kw)
    dirs = 2 if bidirectional else 1
    x = torch.randn((N, T, C) if batch_first else (T, N, C), requires_grad=True)
    h0 = torch.randn(layers * dirs, N, H, requires_grad=True) if initial else None
    c0 = torch.randn(layers * dirs, N, H, requires_grad=True) if initial and kind == "LSTM" else None
    state = None
    if initial:
        state = (h0, c0) if kind == "LSTM" else h0
    if lengths is not None:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
        out, st = m(packed, state)
        out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    else:
        out, st = m(x, state)
    h_n, c_n = (st if kind == "LSTM" else (st, None))
    w_out, w_h = torch.randn(out.shape), torch.randn(h_n.shape)
    loss = (out * w_out).sum() + (h_n * w_h).sum()
    case = {"kind": kind, "input_size": C, "hidden_size": H, "num_layers": layers, "bidirectional": bidirectional,
            "batch_first": batch_first, "nonlinearity": nonlinearity, "bias": bias, "x": enc(x),
            "params": {k: enc(v) for k, v in m.named_parameters()}, "output": enc(out), "h_n": enc(h_n),
            "w_out": enc(w_out), "w_h": enc(w_h)}
    if c_n is not None:
        w_c = torch.randn(c_n.shape)
        loss = loss + (c_n * w_c).sum()
        case["c_n"], case["w_c"] = enc(c_n), enc(w_c)
    loss.backward()
    case["grad_x"] = enc(x.grad)
    case["grads"] = {k: enc(v.grad) for k, v in m.named_parameters()}
    if lengths is not None:
        case["lengths"] = lengths
    if h0 is not None:
        case["h0"], case["grad_h0"] = enc(h0), enc(h0.grad)
    if c0 is not None:
        case["c0"], case["grad_c0"] = enc(c0), enc(c0.grad)
    return case


def cell_case(kind, C, H, N, nonlinearity="tanh", initial=True):
    m = getattr(nn, kind)(C, H, nonlinearity=nonlinearity) if kind == "RNNCell" else getattr(nn, kind)(C, H)
    x = torch.randn(N, C, requires_grad=True)
    h0 = torch.randn(N, H, requires_grad=True)
    c0 = torch.randn(N, H, requires_grad=True) if kind == "LSTMCell" else None
    r = m(x, (h0, c0)) if kind == "LSTMCell" else m(x, h0)
    h, c = r if kind == "LSTMCell" else (r, None)
    w_h = torch.randn(h.shape)
    loss = (h * w_h).sum()
    case = {"kind": kind, "input_size": C, "hidden_size": H, "nonlinearity": nonlinearity, "x": enc(x),
            "h0": enc(h0), "params": {k: enc(v) for k, v in m.named_parameters()}, "h_n": enc(h), "w_h": enc(w_h)}
    if c is not None:
        w_c = torch.randn(c.shape)
        loss = loss + (c * w_c).sum()
        case["c0"], case["c_n"], case["w_c"] = enc(c0), enc(c), enc(w_c)
    loss.backward()
    case["grad_x"], case["grad_h0"] = enc(x.grad), enc(h0.grad)
    if c0 is not None:
        case["grad_c0"] = enc(c0.grad)
    case["grads"] = {k: enc(v.grad) for k, v in m.named_parameters()}
    return case


cases = {
    "rnn_tanh": layer_case("RNN", 5, 4, 6, 3),
    "rnn_relu_2layers": layer_case("RNN", 5, 4, 6, 3, layers=2, nonlinearity="relu"),
    "lstm": layer_case("LSTM", 5, 4, 6, 3),
    "lstm_2layers": layer_case("LSTM", 5, 4, 6, 3, layers=2),
    "gru_2layers": layer_case("GRU", 5, 4, 6, 3, layers=2),
    "lstm_no_bias": layer_case("LSTM", 3, 4, 5, 2, bias=False),
    "lstm_bidir_batch_first_initial": layer_case("LSTM", 5, 4, 6, 3, layers=2, bidirectional=True, batch_first=True,
                                                 initial=True),
    "gru_bidir_initial": layer_case("GRU", 5, 4, 6, 3, layers=2, bidirectional=True, initial=True),
    "rnn_bidir_initial": layer_case("RNN", 5, 4, 6, 3, bidirectional=True, initial=True),
    "lstm_lengths_bidir": layer_case("LSTM", 5, 4, 6, 4, layers=2, bidirectional=True, initial=True,
                                     lengths=[6, 2, 4, 1]),
    "gru_lengths_batch_first": layer_case("GRU", 5, 4, 6, 3, batch_first=True, bidirectional=True,
                                          lengths=[3, 6, 5]),
    "rnn_lengths": layer_case("RNN", 5, 4, 6, 3, layers=2, lengths=[4, 6, 1]),
    "lstm_cell": cell_case("LSTMCell", 5, 4, 3),
    "gru_cell": cell_case("GRUCell", 5, 4, 3),
    "rnn_cell_relu": cell_case("RNNCell", 5, 4, 3, nonlinearity="relu"),
}
print(json.dumps(cases))
