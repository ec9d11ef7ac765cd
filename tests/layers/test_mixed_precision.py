"""What the GPU path relies on, checked on CPU: the CRF runs in float32
whatever dtype its emissions arrive in (fp16/bf16 autocast upstream), the
BiLSTM's lengths stay a CPU int64 tensor (pack_padded_sequence needs them
there), and the GPU check's bf16 switch sets torch's CUDA autocast dtype."""
import importlib.util
from pathlib import Path

import numpy
import pytest
import torch

from spacy_cluener.layers import EmissionCRF, length_mask
from spacy_cluener.layers.bilstm import _convert_inputs, build_bilstm_on_tok2vec
from spacy_cluener.tag_schemes import tag_names

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def crf():
    torch.manual_seed(0)
    return EmissionCRF(8, tag_names(["A", "B"], "BIOES"), "BIOES")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_crf_is_float32_for_half_emissions(crf, dtype):
    emissions = (torch.randn(3, 7, 9) * 3).to(dtype)
    mask = length_mask([7, 4, 1])
    tags = crf.decode(emissions.float(), mask)
    assert torch.equal(crf.decode(emissions, mask), tags)
    half = emissions.clone().requires_grad_()
    full = emissions.float().requires_grad_()
    loss = crf.nll(half, tags, mask)
    assert loss.dtype == torch.float32
    assert torch.equal(loss, crf.nll(full, tags, mask))
    loss.backward()
    assert half.grad.dtype == dtype and torch.isfinite(half.grad.float()).all()


def test_bilstm_lengths_on_cpu():
    from thinc.api import Linear

    model = build_bilstm_on_tok2vec(Linear(4, 4), hidden_width=6, depth=1)
    wrapper = model.get_ref("bilstm").layers[0]
    wrapper.set_dim("nI", 4)
    Xs = [numpy.ones((n, 4), dtype="float32") for n in (3, 1)]
    args, _ = _convert_inputs(wrapper, Xs, False)
    lengths = args.args[-1]
    assert lengths.device.type == "cpu" and lengths.dtype == torch.int64
    assert lengths.tolist() == [3, 1]


def test_bf16_autocast_callback():
    spec = importlib.util.spec_from_file_location("step_log", REPO / "benchmarks" / "scripts" / "bench" / "step_log.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    before = torch.get_autocast_dtype("cuda")
    try:
        assert module.autocast_dtype("bfloat16")(object) is object
        assert torch.get_autocast_dtype("cuda") == torch.bfloat16
    finally:
        torch.set_autocast_dtype("cuda", before)
