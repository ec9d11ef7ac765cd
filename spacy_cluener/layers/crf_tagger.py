"""Thinc model for the CRF tagger: tok2vec -> PyTorch emissions + CRF.

The torch module is sized by the tag set, which is only known once the
component has its labels, so the head is a Thinc layer that builds its
`PyTorchWrapper_v2` in `init` (as spacy-transformers builds its transformer).
`build_crf_head` is also called by the component before deserializing.
"""
from typing import List, Optional, Sequence

import numpy
import torch
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import ArgsKwargs, Model, PyTorchWrapper_v2, chain, torch2xp, xp2torch
from thinc.types import Floats2d, Floats3d

from ..errors import Errors
from .param_groups import mark_head
from .pytorch_crf import EmissionCRF
from .torch_averages import with_averaged_params

InT = List[Doc]
OutT = List[Floats2d]


@registry.architectures("spacy_cluener.CRFTagger.v1")
def build_crf_tagger(
    tok2vec: Model[InT, List[Floats2d]], dropout: float = 0.0
) -> Model[InT, OutT]:
    """Token vectors -> per-token emission scores of a constrained CRF.

    tok2vec (Model[List[Doc], List[Floats2d]]): any encoder: HashEmbedCNN, a
        BiLSTM, or a transformer listener.
    dropout (float): dropout on the token vectors before the emission layer.
    RETURNS (Model[List[Doc], List[Floats2d]]): emission scores per doc. The
        component reads the CRF from the "crf_head" ref for loss and decoding.
    """
    return _build_crf_tagger(tok2vec, None, dropout, average=False)


@registry.architectures("spacy_cluener.CRFTagger.v2")
def build_crf_tagger_v2(
    tok2vec: Model[InT, List[Floats2d]],
    encoder: Optional[Model[List[Floats2d], List[Floats2d]]] = None,
    dropout: float = 0.0,
) -> Model[InT, OutT]:
    """As v1, with an optional `encoder` between the token vectors and the
    emissions (e.g. `spacy_cluener.BiLSTM.v1`), and with the CRF head's
    weights averaged where the optimizer keeps averages (`use_averages`;
    v1's head kept its last-step weights: `layers/torch_averages.py`). The
    encoder is kept out of `tok2vec` so that a transformer listener sits at
    `model.tok2vec`, the one path whose config spaCy's `nlp.replace_listeners`
    rewrites (v1 with the listener inside a BiLSTM saved a config that no
    longer matched the weights).

    tok2vec (Model[List[Doc], List[Floats2d]]): token vectors: a listener or
        any encoder.
    encoder (Optional[Model[List[Floats2d], List[Floats2d]]]): layers on the
        token vectors before the emission layer; None for none.
    dropout (float): dropout on the vectors before the emission layer.
    RETURNS (Model[List[Doc], List[Floats2d]]): emission scores per doc.
    """
    return _build_crf_tagger(tok2vec, encoder, dropout, average=True)


def _build_crf_tagger(tok2vec, encoder, dropout: float, average: bool) -> Model[InT, OutT]:
    head: Model[List[Floats2d], OutT] = Model(
        "crf_head",
        _head_forward,
        init=_head_init,
        dims={"nI": None, "nO": None},
        attrs={"tag_names": None, "scheme": None, "dropout": dropout},
    )
    if average:  # v1's attrs (and saved bytes) stay as they were
        head.attrs["average"] = True
    model = chain(tok2vec, encoder, head) if encoder is not None else chain(tok2vec, head)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("crf_head", head)
    if encoder is not None:
        model.set_ref("encoder", encoder)
    return model


def set_tag_names(model: Model, tag_names: Sequence[str], scheme: str) -> None:
    """Tell the (not yet built) head which tags it predicts."""
    head = model.get_ref("crf_head")
    head.attrs["tag_names"] = list(tag_names)
    head.attrs["scheme"] = scheme


def build_crf_head(head: Model, nI: int) -> None:
    """Create the torch module for `head`, once, with input width nI."""
    if head.layers:
        return
    tag_names = head.attrs["tag_names"]
    module = EmissionCRF(nI, tag_names, head.attrs["scheme"], dropout=head.attrs["dropout"])
    wrapper = PyTorchWrapper_v2(
        module, convert_inputs=convert_padded_inputs, convert_outputs=convert_padded_outputs
    )
    if head.attrs.get("average"):
        with_averaged_params(wrapper)
    for layer in (head, wrapper):
        layer.set_dim("nI", nI, force=True)
        layer.set_dim("nO", len(tag_names), force=True)
    head.layers.append(wrapper)
    # Trained from scratch: HeadAdam.v1 gives it the head learning rate.
    mark_head(head)


def reset_crf_head(model: Model) -> None:
    """Drop a built head's torch module, so that the next initialization
    builds a new one (initializing a trained pipeline again)."""
    head = model.get_ref("crf_head")
    head.layers.clear()


def resize_crf_head(model: Model, tag_names: Sequence[str]) -> None:
    """Grow a built head to a larger tag set (a label added after
    initialization), keeping the learned weights (`EmissionCRF.resized`).
    The torch module gets a new wrapper, hence a new shim id, so the
    optimizer starts fresh moments for the resized parameters instead of
    meeting the old shapes."""
    head = model.get_ref("crf_head")
    head.attrs["tag_names"] = list(tag_names)
    if not head.layers:
        return
    old = head.layers[0].shims[0]._model
    wrapper = PyTorchWrapper_v2(
        old.resized(tag_names), convert_inputs=convert_padded_inputs, convert_outputs=convert_padded_outputs
    )
    if head.attrs.get("average"):
        with_averaged_params(wrapper)
    wrapper.set_dim("nI", head.get_dim("nI"))
    wrapper.set_dim("nO", len(tag_names))
    head.layers[0] = wrapper
    head.set_dim("nO", len(tag_names), force=True)
    mark_head(head)


def get_crf_module(model: Model) -> Optional[EmissionCRF]:
    head = model.get_ref("crf_head")
    if not head.layers:
        return None
    return head.layers[0].shims[0]._model


def tok2vec_width(model: Model) -> Optional[int]:
    """The width of what the CRF head reads: the encoder's output if it has
    one (a BiLSTM), else the token vectors'."""
    for ref in ("encoder", "tok2vec"):
        if model.has_ref(ref) and model.get_ref(ref).has_dim("nO"):
            return model.get_ref(ref).get_dim("nO")
    return None


def _head_init(model: Model, X: Optional[List[Floats2d]] = None, Y=None) -> None:
    if model.attrs["tag_names"] is None:
        raise ValueError(Errors.E015)
    if X is not None and len(X):
        nI = X[0].shape[1]
    elif model.has_dim("nI"):
        nI = model.get_dim("nI")
    else:
        raise ValueError(Errors.E014.format(layer="crf_head"))
    build_crf_head(model, nI)


def _head_forward(model: Model, Xs: List[Floats2d], is_train: bool):
    if not is_train and all(isinstance(X, numpy.ndarray) for X in Xs):
        module = model.layers[0].shims[0]._model
        if module.emissions.weight.device.type == "cpu":
            return _predict_emissions(module, Xs, model.get_dim("nO")), _no_backprop
    return model.layers[0](Xs, is_train)


def _predict_emissions(module, Xs: List[Floats2d], n_tags: int) -> OutT:
    """Prediction on the CPU: the emission layer's Linear on all the docs'
    rows at once, without padding, the wrapper's conversions or a copy in or
    out (torch.from_numpy shares the arrays). Dropout is off at prediction,
    so this is what the module's forward gives."""
    lengths = [len(X) for X in Xs]
    filled = [X for X in Xs if len(X)]
    if not filled:
        return [numpy.zeros((0, n_tags), dtype="float32") for _ in Xs]
    rows = filled[0] if len(filled) == 1 else numpy.concatenate(filled)
    with torch.no_grad():
        Y = torch.nn.functional.linear(
            torch.from_numpy(numpy.ascontiguousarray(rows, dtype="float32")),
            module.emissions.weight, module.emissions.bias,
        ).numpy()
    out, offset = [], 0
    for n in lengths:
        out.append(Y[offset : offset + n])
        offset += n
    return out


def _no_backprop(dY: OutT) -> List[Floats2d]:
    raise ValueError(Errors.E070)


def pad(model: Model, seqs: Sequence[Floats2d], width: int) -> Floats3d:
    """Zero-pad variable-length (length, width) arrays into one batch array.

    An empty sequence is skipped whatever its width: spacy-transformers gives
    an empty doc a (0, 0) array, not (0, width).
    """
    longest = max((len(s) for s in seqs), default=0)
    out = model.ops.alloc3f(len(seqs), longest, width)
    for i, s in enumerate(seqs):
        if len(s):
            out[i, : len(s)] = s
    return out


def convert_padded_inputs(model: Model, Xs: List[Floats2d], is_train: bool):
    """PyTorchWrapper input conversion: a list of (length, nI) arrays -> one
    zero-padded (batch, longest, nI) tensor; gradients are unpadded again."""
    device = model.shims[0].device
    lengths = [len(x) for x in Xs]
    Xt = xp2torch(pad(model, Xs, model.get_dim("nI")), requires_grad=is_train, device=device)

    def get_dX(dXt: ArgsKwargs) -> List[Floats2d]:
        dX = torch2xp(dXt.args[0])
        return [model.ops.as_contig(dX[i, :n]) for i, n in enumerate(lengths)]

    return ArgsKwargs(args=(Xt,), kwargs={}), get_dX


def convert_padded_outputs(model: Model, X_Yt, is_train: bool):
    """PyTorchWrapper output conversion: (batch, longest, nO) -> a list of
    (length, nO) arrays, and back for the gradient."""
    Xs, Yt = X_Yt
    device = model.shims[0].device
    lengths = [len(x) for x in Xs]
    Y = torch2xp(Yt)
    Ys = [model.ops.as_contig(Y[i, :n]) for i, n in enumerate(lengths)]

    def get_dYt(dYs: List[Floats2d]) -> ArgsKwargs:
        dYt = xp2torch(pad(model, dYs, model.get_dim("nO")), device=device)
        return ArgsKwargs(args=((Yt,),), kwargs={"grad_tensors": (dYt,)})

    return Ys, get_dYt
