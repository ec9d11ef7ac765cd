"""benchmarks/scripts/plot_calibration.py: the docs' calibration figures from
`calibration`'s JSON, and a clear stop on a JSON written before they existed."""
import json
import subprocess
import sys

import numpy

from spacy_cluener.evaluation.confidence import ScoredEntity
from spacy_cluener.training.calibration import measure

from ..util import BENCHMARK_SCRIPTS

SCRIPT = BENCHMARK_SCRIPTS / "plot_calibration.py"


def _entities(seed, shift):
    rng = numpy.random.default_rng(seed)
    scores = rng.random(300)
    labels = rng.choice(["name", "address"], 300)
    correct = rng.random(300) < numpy.clip(scores - shift, 0, 1)
    return [ScoredEntity(str(lab), float(s), bool(c)) for lab, s, c in zip(labels, scores, correct)]


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          cwd=BENCHMARK_SCRIPTS.parent, timeout=300)


def test_draws_the_three_figures(tmp_path):
    result = {"heldout_before": measure(_entities(0, 0.2), 320, 0.9),
              "heldout_after": measure(_entities(1, 0.0), 320, 0.9)}
    for half in result.values():  # what the figures are drawn from
        assert [row["threshold"] for row in half["threshold_curve"]][:2] == [0.0, 0.05]
        assert set(half["per_type"]) == {"name", "address"}
        assert all(len(row["bins"]) == 10 for row in half["per_type"].values())
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(result), encoding="utf8")
    proc = _run(path, tmp_path / "figures")
    assert proc.returncode == 0, proc.stderr
    for name in ("reliability_before.png", "reliability_after.png", "threshold_curve.png"):
        assert (tmp_path / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_older_json_names_what_it_lacks(tmp_path):
    half = measure(_entities(0, 0.0), 320, 0.9)
    del half["threshold_curve"]
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"heldout_before": half, "heldout_after": half}), encoding="utf8")
    proc = _run(path, tmp_path / "figures")
    assert proc.returncode != 0
    assert "lacks threshold_curve" in proc.stderr + proc.stdout and "rerun `calibration`" in proc.stderr + proc.stdout
    assert not (tmp_path / "figures").exists()
