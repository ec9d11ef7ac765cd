"""Which parameters belong to the task head, for per-group learning rates.

Thinc optimizers see a parameter only as `key = (node_id, name)`: the `id`
of the Thinc `Model` that owns a Thinc parameter, or of the `PyTorchShim`
that owns a torch parameter (named as in `named_parameters()`). Models and
shims are numbered by two separate counters, so an id alone is ambiguous:
a head key is matched on the id *and* the name. Layers that are trained from
scratch on top of a pretrained encoder (the CRF head, the optional BiLSTM)
register themselves here when they are built; `HeadAdam.v1` gives their
parameters the head learning rate and everything else (the transformer) the
base rate.

Shims are held by weak reference and their parameter names are read when
asked (the BiLSTM creates its torch LSTM lazily), so registering does not
keep a pipeline alive.
"""
import weakref
from typing import Set, Tuple, Union

from thinc.api import Model
from thinc.shims import Shim

_HEAD_SHIMS: "weakref.WeakValueDictionary[int, Shim]" = weakref.WeakValueDictionary()
_HEAD_PARAM_KEYS: Set[Tuple[int, str]] = set()


def mark_head(node: Union[Model, Shim]) -> None:
    """Put a layer (with all its sublayers and their shims) in the head group.

    node (Model | Shim): e.g. the `crf_head` layer of `CRFTagger.v1`.
    """
    if isinstance(node, Shim):
        _HEAD_SHIMS[node.id] = node
        return
    for layer in node.walk():
        _HEAD_PARAM_KEYS.update((layer.id, name) for name in layer.param_names)
        for shim in layer.shims:
            _HEAD_SHIMS[shim.id] = shim


def is_head(key: Tuple[int, str]) -> bool:
    """Whether an optimizer key `(node_id, param_name)` is a head parameter."""
    if key in _HEAD_PARAM_KEYS:
        return True
    shim = _HEAD_SHIMS.get(key[0])
    if shim is None or not hasattr(shim, "_model"):
        return False
    return any(name == key[1] for name, _ in shim._model.named_parameters())


def is_head_shim(shim: Shim) -> bool:
    """Whether a shim was registered with `mark_head`."""
    return _HEAD_SHIMS.get(shim.id) is shim
