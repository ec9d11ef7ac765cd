"""An optional BiLSTM between the token vectors (e.g. a transformer
listener's) and the CRF emissions: `spacy_cluener.BiLSTM.v1`, the `encoder`
of `CRFTagger.v2`, and `spacy_cluener.BiLSTMOnTok2Vec.v1`, which wraps a
tok2vec in it.

The BiLSTM's input width is the tok2vec's output width, which for a
transformer listener is only known once the transformer is loaded. So the
torch `nn.LSTM` is created lazily (`LazyBiLSTM.build`) when the layer is
initialized, and when a saved pipeline is loaded, from the shape of the
stored weights (`LazyBiLSTM.load_state_dict`); the Thinc structure (one
`PyTorchWrapper_v2` with one shim) exists from construction, as
`Model.from_bytes` requires.

Sequences are packed (`pack_padded_sequence`), so the backward direction of
a short doc starts at its own last token and not on the padding of the
longest doc in the batch (thinc's `PyTorchLSTM` runs over the padding).
"""
from typing import List, Optional

import torch
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import ArgsKwargs, Model, PyTorchWrapper_v2, chain, noop
from thinc.types import Floats2d
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..errors import Errors
from .crf_tagger import convert_padded_inputs, convert_padded_outputs
from .param_groups import mark_head
from .torch_averages import with_averaged_params

InT = List[Doc]
OutT = List[Floats2d]


@registry.architectures("spacy_cluener.BiLSTMOnTok2Vec.v1")
def build_bilstm_on_tok2vec(
    tok2vec: Model[InT, OutT],
    hidden_width: int = 256,
    depth: int = 1,
    dropout: float = 0.1,
) -> Model[InT, OutT]:
    """tok2vec -> bidirectional LSTM, one output row per token.

    tok2vec (Model[List[Doc], List[Floats2d]]): the encoder underneath, e.g.
        `spacy-transformers.TransformerListener.v1`.
    hidden_width (int): output width (both directions together; even).
    depth (int): number of stacked BiLSTM layers; 0 returns `tok2vec` itself.
    dropout (float): dropout on the LSTM's input and between stacked layers.
    RETURNS (Model[List[Doc], List[Floats2d]]): token vectors of width
        hidden_width (or tok2vec's own, for depth 0).

    With a transformer listener underneath, prefer `spacy_cluener.BiLSTM.v1`
    as the `encoder` of `CRFTagger.v2`: spaCy's `nlp.replace_listeners` only
    rewrites the config of a listener at `model.tok2vec`.
    """
    if depth == 0:
        return tok2vec
    lstm = _build_bilstm(hidden_width, depth, dropout, average=False)
    model = chain(tok2vec, lstm)
    # Known now, before any init: crf_ner sizes its head from this when loading.
    model.set_dim("nO", hidden_width)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("bilstm", lstm)
    return model


@registry.architectures("spacy_cluener.BiLSTM.v1")
def build_bilstm(hidden_width: int = 256, depth: int = 1, dropout: float = 0.1) -> Model[OutT, OutT]:
    """Token vectors -> bidirectional LSTM, one output row per token: the
    `encoder` of `spacy_cluener.CRFTagger.v2`. Its weights are averaged where
    the optimizer keeps averages (BiLSTMOnTok2Vec.v1's are not:
    `layers/torch_averages.py`).

    hidden_width (int): output width (both directions together; even).
    depth (int): number of stacked BiLSTM layers; 0 passes the vectors through
        unchanged (thinc's `noop`).
    dropout (float): dropout on the LSTM's input and between stacked layers.
    RETURNS (Model[List[Floats2d], List[Floats2d]]): vectors of width
        hidden_width (the input's own, for depth 0).
    """
    return _build_bilstm(hidden_width, depth, dropout, average=True)


def _build_bilstm(hidden_width: int, depth: int, dropout: float, average: bool) -> Model[OutT, OutT]:
    if depth == 0:
        return noop()
    if depth < 0:
        raise ValueError(f"BiLSTM: depth must be >= 0, got {depth}")
    if hidden_width < 2 or hidden_width % 2:
        raise ValueError(f"BiLSTM: hidden_width must be even and >= 2, got {hidden_width}")
    module = LazyBiLSTM(hidden_width, depth, dropout)
    wrapper = PyTorchWrapper_v2(module, convert_inputs=_convert_inputs, convert_outputs=convert_padded_outputs)
    wrapper.set_dim("nO", hidden_width)
    if average:
        with_averaged_params(wrapper)
    lstm: Model[OutT, OutT] = Model(
        "bilstm",
        _forward,
        init=_init,
        layers=[wrapper],
        dims={"nI": None, "nO": hidden_width},
    )
    # Trained from scratch: HeadAdam.v1 gives it the head learning rate.
    mark_head(lstm)
    return lstm


class LazyBiLSTM(nn.Module):
    """A stacked bidirectional `nn.LSTM` whose input width is set by `build`."""

    def __init__(self, hidden_width: int, depth: int, dropout: float):
        super().__init__()
        self.hidden_width = hidden_width
        self.depth = depth
        self.dropout = nn.Dropout(dropout)
        self.inter_dropout = dropout if depth > 1 else 0.0
        self.lstm: Optional[nn.LSTM] = None
        # Empty buffer: follows .to(device), so `build` knows where to put the LSTM.
        self.register_buffer("_device_probe", torch.zeros(0), persistent=False)

    def build(self, nI: int) -> None:
        if self.lstm is not None:
            if self.lstm.input_size != nI:
                raise ValueError(
                    f"BiLSTM: built for input width {self.lstm.input_size}, got {nI}"
                )
            return
        self.lstm = nn.LSTM(
            nI,
            self.hidden_width // 2,
            num_layers=self.depth,
            bidirectional=True,
            batch_first=True,
            dropout=self.inter_dropout,
        ).to(self._device_probe.device)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        key = "lstm.weight_ih_l0"
        if self.lstm is None and key in state_dict:
            self.build(state_dict[key].shape[1])
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def forward(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """X (batch, length, nI), lengths (batch,) on CPU -> (batch, length, hidden_width)."""
        if self.lstm is None:
            raise ValueError("BiLSTM: the layer was not initialized")
        packed = pack_padded_sequence(self.dropout(X), lengths, batch_first=True, enforce_sorted=False)
        Y, _ = self.lstm(packed)
        Y, _ = pad_packed_sequence(Y, batch_first=True, total_length=X.shape[1])
        return Y


def _init(model: Model, X: Optional[OutT] = None, Y=None) -> None:
    if X is not None and len(X):
        model.set_dim("nI", X[0].shape[1])
    if not model.has_dim("nI"):
        raise ValueError(Errors.E014.format(layer="BiLSTM"))
    wrapper = model.layers[0]
    wrapper.set_dim("nI", model.get_dim("nI"))
    wrapper.shims[0]._model.build(model.get_dim("nI"))


def _forward(model: Model, Xs: OutT, is_train: bool):
    keep = [i for i, x in enumerate(Xs) if len(x)]
    if len(keep) == len(Xs):
        return model.layers[0](Xs, is_train)
    # pack_padded_sequence rejects empty sequences: run the others, give the
    # empty docs empty outputs (and no gradient).
    nO = model.get_dim("nO")
    Ys_kept, bp_kept = model.layers[0]([Xs[i] for i in keep], is_train) if keep else ([], None)
    Ys = [model.ops.alloc2f(0, nO) for _ in Xs]
    for i, y in zip(keep, Ys_kept):
        Ys[i] = y

    def backprop(dYs: OutT) -> OutT:
        dXs = [model.ops.alloc2f(*x.shape) for x in Xs]
        if bp_kept is not None:
            for i, dx in zip(keep, bp_kept([dYs[i] for i in keep])):
                dXs[i] = dx
        return dXs

    return Ys, backprop


def _convert_inputs(model: Model, Xs: OutT, is_train: bool):
    """As `convert_padded_inputs`, plus the lengths for packing."""
    args, get_dX = convert_padded_inputs(model, Xs, is_train)
    lengths = torch.tensor([len(x) for x in Xs], dtype=torch.long)
    return ArgsKwargs(args=args.args + (lengths,), kwargs={}), get_dX
