"""benchmarks/scripts/int8_cost.py on a small BERT and a few docs: it runs
every variant (torch fp32, int8 with `--engine auto` and with `--engine x86`, onnxruntime fp32 and int8 where
onnxruntime is installed) and writes every figure (no timing is asserted)."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from ..util import BENCHMARK_SCRIPTS, positive_finite

pytestmark = pytest.mark.slow  # builds, quantizes and times pipelines in subprocesses

SCRIPT = BENCHMARK_SCRIPTS / "int8_cost.py"
HAS_ORT = importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None


def test_int8_cost_writes_every_figure(data_dir, tmp_path):
    variants = ["fp32", "int8", "int8-x86"] + (["onnx-fp32", "onnx-int8"] if HAS_ORT else [])
    output = tmp_path / "int8.json"
    env = dict(os.environ, SPACY_CLUENER_SHARED=str(data_dir.parent), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(output), "--n-docs", "12", "--repeats", "1",
         "--threads", "1,2", "--layers", "2", "--hidden", "64", "--variants", ",".join(variants)],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(output.read_text(encoding="utf8"))
    assert result["settings"]["n_docs"] == 12 and result["settings"]["bert"]["layers"] == 2
    assert list(result["variants"]) == variants
    for name, row in result["variants"].items():
        assert positive_finite(row["loaded_rss_mb"]) and positive_finite(row["peak_rss_mb"])
        for threads in ("1", "2"):
            for mode in ("batched", "single"):
                figures = row["threads"][threads][mode]
                assert positive_finite(figures["chars_per_s"]) and positive_finite(figures["chars_per_cpu_s"])
                if name != "fp32":
                    ratio = result["speedup_vs_fp32"][name][threads][mode]
                    assert positive_finite(ratio["cpu"]) and positive_finite(ratio["wall"])
        assert 0 < row["profile"]["bert_module_share"] <= 1
    sizes = result["size_bytes"]["bert_transformer_weights"]
    assert 0 < sizes["int8"] < sizes["fp32"]
    assert result["int8_engine"] in ("x86", "fbgemm", "onednn", "qnnpack")
    assert result["goals"]["int8_size_ratio"] == round(sizes["int8"] / sizes["fp32"], 3)
