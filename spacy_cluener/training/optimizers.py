"""`spacy_cluener.HeadAdam.v1`: Adam with one learning rate for the
pretrained encoder and another for the head trained from scratch.

Fine-tuning BERT wants a small rate (about 3e-5); the emission layer and the
CRF transitions start from random values and learn far too slowly at it, so
they get their own (about 1e-3). Both rates may be schedules
(`warmup_linear.v1`); they are stepped together by `step_schedules`, which
spaCy's training loop calls once per optimizer step.

Which parameters are "head" is decided by `param_groups.is_head`, filled in
by the layers that build the head (`crf_tagger.build_crf_head`, the BiLSTM).
With no head registered every parameter gets `learn_rate`, i.e. this is then
plain `Adam.v1`.
"""
from typing import Tuple, cast

from spacy.util import registry
from thinc.optimizers import ADAM_DEFAULTS, FloatOrSeq, Optimizer
from thinc.types import FloatsXd

from ..layers.param_groups import is_head


class HeadOptimizer(Optimizer):
    """A Thinc `Optimizer` whose head parameters use `head_learn_rate`."""

    __slots__ = ["head_learn_rate"]

    def __init__(self, learn_rate: FloatOrSeq, *, head_learn_rate: FloatOrSeq, **kwargs):
        super().__init__(learn_rate, **kwargs)
        self._set_attr_or_schedule("head_learn_rate", head_learn_rate)

    def __call__(
        self,
        key: Tuple[int, str],
        weights: FloatsXd,
        gradient: FloatsXd,
        *,
        lr_scale: float = 1.0,
    ):
        if not is_head(key):
            return super().__call__(key, weights, gradient, lr_scale=lr_scale)
        # Thinc reads self.learn_rate in the Adam step and in the weight decay;
        # swapping it (rather than passing lr_scale = head / base) stays exact
        # when the base rate is 0, e.g. at step 0 of a warmup.
        base_rate = self.learn_rate
        self.learn_rate = self.head_learn_rate
        try:
            return super().__call__(key, weights, gradient, lr_scale=lr_scale)
        finally:
            self.learn_rate = base_rate


@registry.optimizers("spacy_cluener.HeadAdam.v1")
def create_head_adam(
    learn_rate: FloatOrSeq = 3e-5,
    head_learn_rate: FloatOrSeq = 1e-3,
    *,
    L2: FloatOrSeq = ADAM_DEFAULTS["L2"],
    beta1: FloatOrSeq = ADAM_DEFAULTS["beta1"],
    beta2: FloatOrSeq = ADAM_DEFAULTS["beta2"],
    eps: FloatOrSeq = ADAM_DEFAULTS["eps"],
    grad_clip: FloatOrSeq = ADAM_DEFAULTS["grad_clip"],
    L2_is_weight_decay: bool = cast(bool, ADAM_DEFAULTS["L2_is_weight_decay"]),
    use_averages: bool = False,
) -> HeadOptimizer:
    """Adam (AdamW with L2_is_weight_decay) with a separate head learning rate.

    learn_rate (float | schedule): rate of the transformer (non-head) parameters.
    head_learn_rate (float | schedule): rate of the CRF head (and BiLSTM) parameters.
    grad_clip (float): Thinc clips each parameter array's gradient to this L2
        norm (per array, not one global norm as torch's clip_grad_norm_).
    Other arguments are those of Thinc's `Adam.v1`. use_averages defaults to
    False: parameter averages would double the memory of a BERT-base model.
    RETURNS (HeadOptimizer): the optimizer.
    """
    return HeadOptimizer(
        learn_rate,
        head_learn_rate=head_learn_rate,
        L2=L2,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        grad_clip=grad_clip,
        L2_is_weight_decay=L2_is_weight_decay,
        use_averages=use_averages,
        use_radam=False,
    )
