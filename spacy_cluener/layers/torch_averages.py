"""Parameter averaging for the torch layers of a model (CRF head, BiLSTM).

With `use_averages = true` thinc's optimizer keeps a moving average of every
parameter, and `spacy train` evaluates and saves inside
`nlp.use_params(optimizer.averages)`. thinc 8.3's `PyTorchShim` stores the
averages of torch parameters under `(shim.id, name)` keys, but its
`use_params` looks them up as `"pytorch_{id}_{name}"` strings and never finds
them: a torch layer kept its last-step weights while the Thinc layers around
it were averaged. `AveragedPyTorchShim` reads the keys the optimizer writes.
"""
import contextlib

from thinc.api import Model, xp2torch
from thinc.shims import PyTorchShim


class AveragedPyTorchShim(PyTorchShim):
    """A `PyTorchShim` whose `use_params` swaps in the averages that its own
    `finish_update` gave the optimizer (and puts the weights back after)."""

    @contextlib.contextmanager
    def use_params(self, params):
        state = {
            name: xp2torch(params[(self.id, name)], device=self.device)
            for name, _ in self._model.named_parameters()
            if (self.id, name) in params
        }
        if not state:
            yield
            return
        backup = {key: value.clone() for key, value in self._model.state_dict().items()}
        self._model.load_state_dict(state, strict=False)
        try:
            yield
        finally:
            self._model.load_state_dict(backup)


def with_averaged_params(wrapper: Model) -> Model:
    """Give a `PyTorchWrapper_v2`'s shims the `use_params` above. The shim
    class adds no state, so its class is switched in place (same id, module
    and settings) rather than rebuilt from PyTorchShim's private fields."""
    for shim in wrapper.shims:
        if type(shim) is PyTorchShim:
            shim.__class__ = AveragedPyTorchShim
    return wrapper
