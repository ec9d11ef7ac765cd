"""benchmarks/scripts/lexicon_cost.py on a few docs: it runs, and writes every figure
for each of its three pipelines (no timing is asserted)."""
import json
import os
import subprocess
import sys

import pytest

from ..util import BENCHMARK_SCRIPTS, positive_finite

pytestmark = pytest.mark.slow  # trains three pipelines in a subprocess

SCRIPT = BENCHMARK_SCRIPTS / "lexicon_cost.py"
HEADS = ("no_lexicon", "lexicon_sets", "lexicon")
RATES = ("train_chars_per_s", "train_cpu_chars_per_s", "inference_chars_per_s", "inference_cpu_chars_per_s")


def test_benchmark_lexicon_writes_every_figure(data_dir, tmp_path):
    output = tmp_path / "lexicon.json"
    env = dict(os.environ, SPACY_CLUENER_SHARED=str(data_dir.parent), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--n-docs", "40", "--repeats", "1", "--output", str(output)],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(output.read_text(encoding="utf8"))
    assert result["n_docs"] == 40 and result["chars"] > 0
    for head in HEADS:
        for key in RATES:
            assert positive_finite(result[head][key]), (head, key, result[head][key])
    for key in RATES:
        assert result[f"ratio_{key}"] == round(result["lexicon"][key] / result["no_lexicon"][key], 3)
        assert result[f"ratio_sets_{key}"] == round(result["lexicon_sets"][key] / result["no_lexicon"][key], 3)
    assert positive_finite(result["match_chars_per_s"]) and result["lexicon_words"] > 300_000
