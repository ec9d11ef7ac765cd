"""The two CRF likelihoods that `crf-cost` compares, defined here so that the
package carries no benchmark-only hooks: pytorch-crf's own
`CRF.forward(..., reduction="none")` (the reference) and the package's
`crf_log_likelihood` over the same CRF's parameters."""
import types

import torch
from torch.nn.utils import parametrize
from torchcrf import CRF

from spacy_cluener.layers.crf_likelihood import crf_log_likelihood


def reference_log_likelihood(crf: CRF, emissions, tags, mask) -> torch.Tensor:
    """pytorch-crf's log-likelihood per sequence."""
    return crf(emissions, tags, mask=mask, reduction="none")


def fast_log_likelihood(crf: CRF, emissions, tags, mask) -> torch.Tensor:
    """`crf_log_likelihood` over the parameters of `crf`."""
    return crf_log_likelihood(emissions, tags, mask, crf.start_transitions, crf.end_transitions, crf.transitions)


def _reference_nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor, *_) -> torch.Tensor:
    with parametrize.cached():
        return -reference_log_likelihood(self.crf, emissions.float(), tags, mask).sum()


def train_with_reference(module) -> None:
    """Make one `EmissionCRF` (this process only) train with pytorch-crf's
    likelihood: its `nll` is replaced on the instance, so other pipelines in
    the process keep the package's."""
    module.nll = types.MethodType(_reference_nll, module)
