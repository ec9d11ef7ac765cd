"""layers/pytorch_int8.py: which int8 engine "auto" picks, and that choosing
one leaves torch's process-wide setting as it was."""
import pytest
import torch

from spacy_cluener.layers.pytorch_int8 import cpu_int8_flags, quantized_engine, resolve_engine


def cpuinfo(tmp_path, flags: str):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx2 {flags}\n\n", encoding="utf8")
    return path


def test_int8_flags_are_read_from_cpuinfo(tmp_path):
    assert cpu_int8_flags(cpuinfo(tmp_path, "avx512f avx512_vnni amx_tile amx_int8")) == ("avx512_vnni", "amx_int8")
    assert cpu_int8_flags(cpuinfo(tmp_path, "avx512f")) == ()
    assert cpu_int8_flags(tmp_path / "missing") == ()


@pytest.mark.skipif("onednn" not in torch.backends.quantized.supported_engines, reason="no onednn engine")
def test_auto_is_onednn_only_with_int8_dot_products(tmp_path):
    assert resolve_engine("auto", cpuinfo(tmp_path, "avx_vnni")) == "onednn"
    assert resolve_engine("auto", cpuinfo(tmp_path, "avx512f")) == torch.backends.quantized.engine


def test_engine_names_are_checked():
    with pytest.raises(ValueError, match=r"\[E076\].*'avx9000'.*auto, x86, fbgemm, onednn"):
        resolve_engine("avx9000")
    if "fbgemm" not in torch.backends.quantized.supported_engines:
        with pytest.raises(ValueError, match=r"\[E076\].*not supported"):
            resolve_engine("fbgemm")


def test_the_process_wide_engine_is_given_back():
    before = torch.backends.quantized.engine
    other = next(e for e in ("fbgemm", "onednn", "x86") if e in torch.backends.quantized.supported_engines
                 and e != before)
    with quantized_engine(other) as resolved:
        assert resolved == other == torch.backends.quantized.engine
    assert torch.backends.quantized.engine == before
    with pytest.raises(RuntimeError):
        with quantized_engine(other):
            raise RuntimeError("while packing")
    assert torch.backends.quantized.engine == before
