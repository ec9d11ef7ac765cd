"""Time the CRF likelihood: pytorch-crf's `CRF.forward` against ours.

Forward + backward, ms per batch (median of --repeats), one thread, 41 BIOES
tags (10 labels). Batches: 32 docs with lengths drawn like CLUENER (2..50
characters, mean ~37; the drawn mean is printed), and 32 x 128. Prints figures; asserts nothing.

    python scripts/bench_crf_normalizer.py [--repeats 15]
"""
import argparse
import statistics
import time

import torch

from spacy_cluener.layers.crf_likelihood import crf_log_likelihood
from spacy_cluener.layers.pytorch_crf import EmissionCRF
from spacy_cluener.tag_schemes import tag_names

LABELS = [f"L{i}" for i in range(10)]


def cluener_lengths(gen, batch):
    # Skewed towards long lines like CLUENER: 50 - (Gamma-ish), clipped to 2..50.
    lengths = 50 - torch.distributions.Exponential(1 / 13.0).sample((batch,)).round().long()
    return lengths.clamp(2, 50)


def timed(fn, emissions, repeats):
    times = []
    for _ in range(repeats):
        em = emissions.detach().requires_grad_()
        t0 = time.perf_counter()
        fn(em).sum().backward()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main(repeats):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    names = tag_names(LABELS, "BIOES")
    module = EmissionCRF(8, names, "BIOES")
    with torch.no_grad():
        module.crf.parametrizations.transitions.original.normal_()
    crf = module.crf
    gen = torch.Generator().manual_seed(0)
    cluener = cluener_lengths(gen, 32)
    shapes = {
        f"32 docs, CLUENER lengths (mean {cluener.float().mean():.1f}, max {int(cluener.max())})": cluener,
        "32 x 128": torch.full((32,), 128),
    }
    print(f"{len(names)} tags, forward+backward, ms per batch, median of {repeats}")
    for title, lengths in shapes.items():
        length = int(lengths.max())
        mask = torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)
        emissions = torch.randn(32, length, len(names)) * 3
        with torch.no_grad():
            tags = module.decode(emissions, mask)

        def reference(em):
            with torch.nn.utils.parametrize.cached():
                return crf(em, tags, mask=mask, reduction="none")

        def ours(em):
            with torch.nn.utils.parametrize.cached():
                return crf_log_likelihood(
                    em, tags, mask, crf.start_transitions, crf.end_transitions, crf.transitions
                )

        old = timed(reference, emissions, repeats)
        new = timed(ours, emissions, repeats)
        print(f"{title}: pytorch-crf {old:.1f} ms, crf_log_likelihood {new:.1f} ms ({old / new:.1f}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    main(parser.parse_args().repeats)
