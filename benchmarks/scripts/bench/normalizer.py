"""The CRF likelihood alone: pytorch-crf's `CRF.forward` against
`crf_log_likelihood`, forward + backward, ms per batch (median)."""
import statistics
import time
from typing import Dict

import torch
from torch.nn.utils import parametrize

from spacy_cluener.layers.pytorch_crf import EmissionCRF
from spacy_cluener.tag_schemes import tag_names

from .likelihoods import fast_log_likelihood, reference_log_likelihood

LABELS = [f"L{i}" for i in range(10)]  # CLUENER has 10 types: 41 BIOES tags
LIKELIHOODS = {"pytorch_crf": reference_log_likelihood, "crf_log_likelihood": fast_log_likelihood}


def cluener_lengths(batch: int, generator: torch.Generator) -> torch.Tensor:
    """Lengths skewed towards long lines as in CLUENER (2..50, mean ~37)."""
    drawn = torch.empty(batch).exponential_(1 / 13.0, generator=generator).round().long()
    return (50 - drawn).clamp(2, 50)


def time_likelihoods(repeats: int, batch: int = 32) -> Dict[str, dict]:
    """ms per batch of each likelihood on a CLUENER-like batch and on batch x 128."""
    torch.manual_seed(0)
    names = tag_names(LABELS, "BIOES")
    module = EmissionCRF(8, names, "BIOES")
    with torch.no_grad():
        module.crf.parametrizations.transitions.original.normal_()
    gen = torch.Generator().manual_seed(0)
    shapes = {"cluener": cluener_lengths(batch, gen), f"{batch}x128": torch.full((batch,), 128)}
    out = {}
    for shape, lengths in shapes.items():
        length = int(lengths.max())
        mask = torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)
        emissions = torch.randn(batch, length, len(names), generator=gen) * 3
        tags = module.decode(emissions, mask)
        row = {"batch": batch, "mean_length": float(lengths.float().mean()), "max_length": length}
        for name, likelihood in LIKELIHOODS.items():
            times = []
            for _ in range(repeats):
                em = emissions.clone().requires_grad_()
                start = time.perf_counter()
                with parametrize.cached():
                    likelihood(module.crf, em, tags, mask).sum().backward()
                times.append(time.perf_counter() - start)
            row[f"{name}_ms"] = 1000 * statistics.median(times)
        row["speedup"] = row["pytorch_crf_ms"] / row["crf_log_likelihood_ms"]
        out[shape] = row
    return out
