"""Monotone maps of entity scores, per type: what `calibrate` fits on top of
the temperature (`training/calibration.py`) and `crf_ner` applies in predict.

A map is a JSON-ready dict stored in crf_ner's cfg (`calibration.per_type`),
so it is saved and loaded with the weights; numpy only, no torch:

- `{"method": "platt", "a": A, "b": B}`: sigmoid(A * logit(p) + B), A > 0;
- `{"method": "isotonic", "x": [...], "y": [...]}`: the pool-adjacent-
  violators fit, read by linear interpolation between its blocks (flat
  beyond the ends), so it is monotone and continuous.

Both keep the order of the scores within a type (a threshold on the mapped
score is a threshold on the raw one), so Viterbi's entities and the ranking
that `--uncertainty-first` uses within a type are unchanged.
"""
from typing import Dict, Optional, Sequence

import numpy

_EPS = 1e-6
METHODS = ("platt", "isotonic")


def _logit(p: numpy.ndarray) -> numpy.ndarray:
    p = numpy.clip(p, _EPS, 1 - _EPS)
    return numpy.log(p) - numpy.log1p(-p)


def apply_map(score_map: Optional[Dict], scores: numpy.ndarray) -> numpy.ndarray:
    """The mapped scores (float64, in [0, 1]); None: unchanged."""
    scores = numpy.asarray(scores, dtype="float64")
    if score_map is None or not len(scores):
        return scores
    method = score_map.get("method")
    if method == "platt":
        z = float(score_map["a"]) * _logit(scores) + float(score_map["b"])
        return 1.0 / (1.0 + numpy.exp(-z))
    if method == "isotonic":
        return numpy.interp(scores, numpy.asarray(score_map["x"], "float64"), numpy.asarray(score_map["y"], "float64"))
    raise ValueError(f"unknown score map method {method!r} (expected one of {', '.join(METHODS)})")


def fit_platt(scores: Sequence[float], correct: Sequence[bool], iterations: int = 50) -> Dict:
    """Logistic regression of correctness on logit(score) (Newton steps with
    a small ridge, so that a separable sample stays finite); the slope is
    kept positive (a monotone map)."""
    x = _logit(numpy.asarray(scores, "float64"))
    y = numpy.asarray(correct, "float64")
    a, b = 1.0, 0.0
    ridge = 1e-3
    for _ in range(iterations):
        p = 1.0 / (1.0 + numpy.exp(-(a * x + b)))
        w = p * (1 - p)
        g = numpy.array([((p - y) * x).sum() + ridge * (a - 1.0), (p - y).sum() + ridge * b])
        h = numpy.array([[(w * x * x).sum() + ridge, (w * x).sum()], [(w * x).sum(), w.sum() + ridge]])
        try:
            step = numpy.linalg.solve(h, g)
        except numpy.linalg.LinAlgError:
            break
        a, b = a - step[0], b - step[1]
        if numpy.abs(step).max() < 1e-9:
            break
    return {"method": "platt", "a": float(max(a, 1e-3)), "b": float(b)}


def fit_isotonic(scores: Sequence[float], correct: Sequence[bool]) -> Dict:
    """Pool adjacent violators: the non-decreasing step function of the score
    closest (least squares) to correctness; stored as each block's mean score
    and mean correctness."""
    order = numpy.argsort(numpy.asarray(scores, "float64"), kind="stable")
    x = numpy.asarray(scores, "float64")[order]
    y = numpy.asarray(correct, "float64")[order]
    # blocks as (sum_y, sum_x, n), merged while a block's mean is below its predecessor's
    sums_y, sums_x, counts = [], [], []
    for xi, yi in zip(x, y):
        sums_y.append(yi)
        sums_x.append(xi)
        counts.append(1)
        while len(counts) > 1 and sums_y[-2] / counts[-2] >= sums_y[-1] / counts[-1]:
            sy, sx, n = sums_y.pop(), sums_x.pop(), counts.pop()
            sums_y[-1] += sy
            sums_x[-1] += sx
            counts[-1] += n
    n = numpy.asarray(counts, "float64")
    xs = numpy.asarray(sums_x) / n
    ys = numpy.asarray(sums_y) / n
    # keep the map strictly inside (0, 1): a held-out entity is never certain
    ys = numpy.clip(ys, 0.001, 0.999)
    return {"method": "isotonic", "x": [round(float(v), 6) for v in xs], "y": [round(float(v), 6) for v in ys]}


FITTERS = {"platt": fit_platt, "isotonic": fit_isotonic}


def brier(scores: numpy.ndarray, correct: numpy.ndarray) -> float:
    return float(numpy.mean((numpy.asarray(scores, "float64") - numpy.asarray(correct, "float64")) ** 2))
