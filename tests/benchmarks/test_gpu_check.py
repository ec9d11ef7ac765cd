"""benchmarks/scripts/gpu_check.py --dry-run: the GPU check's own code path on CPU (tiny
BERT, a few steps), so that the check that needs a GPU cannot rot.

Nothing here asserts a speed: only that every key is written, that what was
measured is a positive finite number, and that each command it runs succeeds.
"""
import json
import os
import subprocess
import sys

import pytest

from ..util import BENCHMARK_SCRIPTS, REPO, positive_finite

pytestmark = pytest.mark.slow  # the GPU check's CPU dry run: several `spacy train` runs

pytest.importorskip("spacy_transformers")
pytest.importorskip("transformers")

SCRIPT = BENCHMARK_SCRIPTS / "gpu_check.py"
KEYS = ("dry_run", "device", "versions", "sizes", "notes", "errors", "train", "train_chars_per_s",
        "peak_gpu_mem_bytes", "inference_chars_per_s", "viterbi_share", "commands", "interop", "broken", "seconds_total")


@pytest.fixture(scope="module")
def result(data_dir, tmp_path_factory):
    if not (data_dir.parent / "models" / "chinese-bert-vocab" / "vocab.txt").exists():
        pytest.skip("Chinese BERT vocab not found")
    output = tmp_path_factory.mktemp("gpu_check") / "gpu_check.json"
    env = dict(os.environ, SPACY_CLUENER_SHARED=str(data_dir.parent),
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--dry-run", "--output", str(output)],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-5000:]
    assert output.with_suffix(".log").read_text(encoding="utf8").strip()
    return json.loads(output.read_text(encoding="utf8"))


def test_every_key_is_written(result):
    assert set(KEYS) <= set(result)
    assert result["dry_run"] is True and result["device"] == "cpu"
    assert result["broken"] == [] and result["errors"] == []
    assert result["interop"]["ok"] is True and result["interop"]["ops"] == "NumpyOps"
    assert any("mixed precision" in note for note in result["notes"])


def test_training_runs(result):
    assert set(result["train"]) == {"fp32", "frozen_bilstm"}
    for name, row in result["train"].items():
        assert row["rc"] == 0, row.get("error")
        assert positive_finite(row["seconds"]) and positive_finite(row["chars_per_s"]), (name, row)
        assert len(row["losses_per_1k_chars"]) >= 2
        for point in row["losses_per_1k_chars"]:
            assert positive_finite(point["crf_ner"]) and point["chars"] > 0
        assert isinstance(row["loss_falls"], bool)
        assert row["peak_gpu_mem_bytes"] is None  # CPU


def test_speeds(result):
    assert set(result["train_chars_per_s"]) == {"fp32", "hf_loop"}
    assert set(result["inference_chars_per_s"]) == {"fp32"}
    for value in (*result["train_chars_per_s"].values(), *result["inference_chars_per_s"].values()):
        assert positive_finite(value)
    assert 0.0 < result["viterbi_share"] <= 1.0
    assert result["peak_gpu_mem_bytes"] == {}


def test_commands(result):
    assert set(result["commands"]) == {"evaluate", "report", "predict"}
    for name, row in result["commands"].items():
        assert row["rc"] == 0, (name, row.get("error"))
        assert positive_finite(row["seconds"])
    assert isinstance(result["commands"]["evaluate"]["ents_f"], float)
