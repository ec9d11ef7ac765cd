"""benchmarks/scripts/crf_cost.py --quick: it runs, and writes every figure.

Speeds depend on the machine and its load, so nothing here asserts a timing:
only that each figure is there and is a positive finite number.
"""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ..util import BENCHMARK_SCRIPTS, positive_finite

pytestmark = pytest.mark.slow  # trains four pipelines in a subprocess

SCRIPT = BENCHMARK_SCRIPTS / "crf_cost.py"
HEADS = ("crf_ner", "ner", "softmax", "crf_ner_torchcrf")


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, SPACY_CLUENER_SHARED=str(data_dir.parent))
    # CI machines are shared: one thread, as the benchmark's docs ask.
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def result(data_dir, tmp_path_factory):
    output = tmp_path_factory.mktemp("benchmark") / "quick.json"
    proc = _run(data_dir, "--quick", "--output", str(output))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "crf_ner" in proc.stdout  # the table
    return json.loads(output.read_text(encoding="utf8"))


@pytest.mark.parametrize("section", ["inference_chars_per_s", "train_chars_per_s"])
def test_every_head_has_a_speed(result, section):
    assert set(result[section]) == set(HEADS)
    for head in HEADS:
        assert positive_finite(result[section][head]), (section, head, result[section][head])


def test_viterbi_share_is_a_fraction(result):
    share = result["viterbi_share"]
    assert isinstance(share, float) and math.isfinite(share)
    assert 0.0 <= share <= 1.0


def test_confidence_cost_share_is_reported(result):
    # the extra predict time of crf_ner's entity scores, over its predict time
    share = result["confidence_cost_share"]
    assert isinstance(share, float) and math.isfinite(share)
    assert result["confidence"]["confidence_cost_share"] == share
    assert isinstance(result["confidence"]["met"], bool)


def test_conversion_speed(result):
    assert positive_finite(result["convert_chars_per_s"])
    assert result["convert"]["chars"] > 0 and result["convert"]["docs"] > 0


def test_likelihood_alone_old_and_new(result):
    for row in result["normalizer_ms"].values():
        for key in ("pytorch_crf_ms", "crf_log_likelihood_ms", "speedup"):
            assert positive_finite(row[key]), (key, row)


def test_goal_ratios_are_reported(result):
    for key in ("inference_vs_ner", "inference_cost_vs_softmax", "train_cost_vs_softmax", "train_cost_vs_softmax_torchcrf"):
        assert positive_finite(result["goals"][key])
    assert all(isinstance(met, bool) for met in result["goals"]["met"].values())


def test_machine_and_settings_are_recorded(result):
    assert result["quick"] is True
    machine = result["machine"]
    for key in ("cpu_model", "torch", "spacy"):
        assert isinstance(machine[key], str) and machine[key]
    for key in ("cpu_cores", "torch_threads"):
        assert isinstance(machine[key], int) and machine[key] > 0
    assert result["settings"]["n_docs"] > 0 and result["settings"]["chars"] > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is available here")
def test_gpu_without_cuda_fails_clearly(data_dir, tmp_path):
    output = tmp_path / "gpu.json"
    proc = _run(data_dir, "--quick", "--gpu", "--output", str(output))
    assert proc.returncode != 0
    assert "CUDA" in proc.stderr and "Traceback" not in proc.stderr
    assert not output.exists()
