"""`calibrate`: fit crf_ner's entity scores to how often they are right.

The CRF's marginals are over-confident on text it was not trained on. On a
seeded half of a gold corpus (the other half is held out, never fitted on):

1. a temperature T for the marginals (every score of the CRF divided by T,
   forbidden transitions kept; Viterbi and doc.ents unchanged), by the lowest
   log-loss of the entity scores against exact-match correctness
   (`temperature.fit_temperature`);
2. per type, where it pays: a monotone map of the tempered scores, Platt
   (default) or isotonic (`components/score_maps.py`), kept only when its
   cross-validated Brier score on the fit half (5 folds, 3 repeats) beats the
   tempered scores by at least `MIN_GAIN` (relative), and only for types
   with at least `min_entities` scored entities in the fit half.

Both are stored in the component's cfg (`temperature`, `calibration`), saved
and loaded with the weights and applied in `predict` whenever scores are
computed. `calibration.fit` records the data (path and sha256), the seed and
the held-out doc indices, so `report` on the same file states the
calibration on the held-out half only. The ECE, per-type ECE and the recall
at a target precision are measured on the held-out half before (the raw
marginals: T = 1, no maps) and after.
"""
import hashlib
import math
import os
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy
import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin

from ..components.score_maps import FITTERS, apply_map, brier
from ..errors import Errors, Warnings
from ..evaluation.confidence import (
    ScoredEntity,
    calibration,
    enable_scores,
    scored_entities,
    threshold_curve,
    threshold_for_precision,
)
from ..evaluation.report import predict_examples
from .temperature import fit_temperature

MIN_GAIN = 0.01
MIN_ENTITIES = 40
FOLDS = 5
REPEATS = 3
# Platt only by default: on CLUENER dev (about 65 entities per type in the fit
# half), isotonic maps chosen by cross-validation still raised the held-out
# ECE (they overfit so few points); `--maps auto` compares both.
DEFAULT_METHODS = ("platt",)
MAP_CHOICES = {"platt": ("platt",), "isotonic": ("isotonic",), "auto": ("platt", "isotonic")}
NOISE_DRAWS = 200


def split_halves(n_docs: int, seed: int) -> Tuple[List[int], List[int]]:
    """Doc indices (fit, held out): a seeded permutation, the first half
    (rounded up) fits, the rest is held out; both sorted."""
    order = numpy.random.default_rng(seed).permutation(n_docs)
    n_fit = (n_docs + 1) // 2
    return sorted(int(i) for i in order[:n_fit]), sorted(int(i) for i in order[n_fit:])


def file_sha256(path: Union[str, Path]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file_:
        for block in iter(lambda: file_.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def calibration_of(nlp: Language) -> Optional[Dict[str, Any]]:
    """The `calibration` cfg of the first crf_ner that has one, else None."""
    for _, pipe in nlp.pipeline:
        cal = getattr(pipe, "cfg", {}).get("calibration") if hasattr(pipe, "cfg") else None
        if cal:
            return cal
    return None


def heldout_indices(nlp: Language, data_path: Union[str, Path]) -> Optional[List[int]]:
    """The doc indices `calibrate` held out of `data_path` when it fitted
    `nlp`'s calibration on that same file (same sha256), else None (the file
    was not fitted on: every doc is held out)."""
    cal = calibration_of(nlp)
    fit = (cal or {}).get("fit") or {}
    if fit.get("data_sha256") and fit["data_sha256"] == file_sha256(data_path):
        return list(fit["heldout_docs"])
    return None


def _entities(nlp: Language, docs: Sequence[Doc], key: str, batch_size: int) -> Tuple[List[ScoredEntity], int]:
    return scored_entities(predict_examples(nlp, docs, batch_size=batch_size), key)


def noise_floor(entities: Sequence[ScoredEntity], seed: int = 0, draws: int = NOISE_DRAWS) -> Optional[float]:
    """The mean ECE of a perfectly calibrated scorer with these scores and
    this many entities (correctness drawn with probability = score): what
    sampling noise alone gives on a sample of this size."""
    if not entities:
        return None
    scores = numpy.array([e.score for e in entities], dtype="float64")
    rng = numpy.random.default_rng(seed)
    values = []
    for _ in range(draws):
        correct = rng.random(len(scores)) < scores
        values.append(calibration([ScoredEntity("", float(s), bool(c)) for s, c in zip(scores, correct)])["ece"])
    return float(numpy.mean(values))


def measure(entities: Sequence[ScoredEntity], n_gold: int, target_precision: float) -> Dict[str, Any]:
    """ECE overall and per type (with each one's noise floor), and the
    threshold for `target_precision` with the recall it keeps."""
    labels = sorted({e.label for e in entities})
    overall = calibration(entities)
    per_type = {}
    for label in labels:
        mine = [e for e in entities if e.label == label]
        c = calibration(mine)
        per_type[label] = {"n": c["n"], "ece": c["ece"], "mean_score": c["mean_score"], "accuracy": c["accuracy"],
                           "ece_noise_floor": noise_floor(mine), "bins": c["bins"]}
    return {
        "n_entities": len(entities),
        "n_gold": n_gold,
        "ece": overall["ece"],
        "ece_noise_floor": noise_floor(entities),
        "mean_score": overall["mean_score"],
        "accuracy": overall["accuracy"],
        "bins": overall["bins"],
        "per_type": per_type,
        "target": threshold_for_precision(entities, n_gold, target_precision),
        "threshold_curve": threshold_curve(entities, n_gold),
    }


def choose_maps(
    entities: Sequence[ScoredEntity], *, seed: int = 0, min_entities: int = MIN_ENTITIES,
    methods: Sequence[str] = DEFAULT_METHODS,
) -> Tuple[Dict[str, Dict], Dict[str, Dict]]:
    """Per type: the map of `methods` with the lowest cross-validated Brier
    score (FOLDS folds, REPEATS seeded repeats), when it beats the scores as
    they are by MIN_GAIN; fitted again on all of that type's entities.
    RETURNS (maps, choices): the maps to store, and for every type what was
    compared."""
    maps: Dict[str, Dict] = {}
    choices: Dict[str, Dict] = {}
    rng = numpy.random.default_rng(seed)
    for label in sorted({e.label for e in entities}):
        scores = numpy.array([e.score for e in entities if e.label == label], dtype="float64")
        correct = numpy.array([e.correct for e in entities if e.label == label], dtype=bool)
        choice: Dict[str, Any] = {"n": int(len(scores)), "method": None}
        choices[label] = choice
        if len(scores) < min_entities or correct.all() or not correct.any():
            choice["why"] = f"fewer than {min_entities} entities, or all of one kind"
            continue
        cv = {"none": 0.0, **{m: 0.0 for m in methods}}
        for _ in range(REPEATS):
            folds = rng.permutation(len(scores)) % FOLDS
            for k in range(FOLDS):
                train, test = folds != k, folds == k
                cv["none"] += brier(scores[test], correct[test]) * test.sum()
                for method in methods:
                    fitted = FITTERS[method](scores[train], correct[train])
                    cv[method] += brier(apply_map(fitted, scores[test]), correct[test]) * test.sum()
        cv = {m: v / (REPEATS * len(scores)) for m, v in cv.items()}
        choice["cv_brier"] = cv
        best = min(methods, key=lambda m: cv[m])
        if cv[best] <= (1 - MIN_GAIN) * cv["none"]:
            choice["method"] = best
            maps[label] = FITTERS[best](scores, correct)
        else:
            choice["why"] = f"no map lowers the cross-validated Brier score by {MIN_GAIN:.0%}"
    return maps, choices


def _crf_name(nlp: Language, name: Optional[str]) -> str:
    from ..components.crf_ner import CRFEntityRecognizer

    names = [n for n, pipe in nlp.pipeline if isinstance(pipe, CRFEntityRecognizer)]
    if name is not None:
        if name not in names:
            raise ValueError(Errors.E060.format(what=f"no crf_ner component named {name!r} (found: {names or 'none'})"))
        return name
    if not names:
        raise ValueError(Errors.E060.format(what="no crf_ner component: only crf_ner's scores can be calibrated"))
    return names[0]


def calibrate_pipeline(
    nlp: Language,
    gold_docs: Sequence[Doc],
    *,
    seed: int = 0,
    name: Optional[str] = None,
    min_entities: int = MIN_ENTITIES,
    target_precision: float = 0.9,
    batch_size: int = 256,
    data: Optional[Dict[str, Any]] = None,
    map_kind: str = "platt",
) -> Dict[str, Any]:
    """Fit the calibration of `nlp`'s crf_ner on a seeded half of
    `gold_docs`, in place; RETURNS what was fitted and the held-out figures
    before and after. `data` (path, sha256) goes into the stored record."""
    name = _crf_name(nlp, name)
    comp = nlp.get_pipe(name)
    enable_scores(nlp)
    key = comp.spans_key
    if key is None:
        raise ValueError(Errors.E060.format(what=f"{name} has spans_key = null, so it stores no scores to "
                                                 "calibrate: load it with a spans_key (e.g. \"crf_ner\")"))
    gold_docs = list(gold_docs)
    if len(gold_docs) < 2:
        raise ValueError(Errors.E061.format(n=len(gold_docs)))
    fit_idx, held_idx = split_halves(len(gold_docs), seed)
    fit_docs = [gold_docs[i] for i in fit_idx]
    held_docs = [gold_docs[i] for i in held_idx]
    # from the raw marginals, also for a pipeline calibrated before
    comp.cfg["calibration"] = None
    comp.temperature = 1.0
    before = measure(*_entities(nlp, held_docs, key, batch_size), target_precision)
    if map_kind not in MAP_CHOICES:
        raise ValueError(Errors.E060.format(what=f"maps must be one of {', '.join(MAP_CHOICES)}, not {map_kind!r}"))
    methods = MAP_CHOICES[map_kind]
    fit_entities, _ = _entities(nlp, fit_docs, key, batch_size)
    if fit_entities:
        fitted_t = fit_temperature(nlp, fit_docs, name=name)
        fit_entities, _ = _entities(nlp, fit_docs, key, batch_size)
        maps, choices = choose_maps(fit_entities, seed=seed, min_entities=min_entities, methods=methods)
    else:
        warnings.warn(Warnings.W007.format(n=len(fit_docs)), stacklevel=2)
        fitted_t = {"temperature": 1.0, "log_loss_t1": None, "log_loss": None}
        maps, choices = {}, {}
    record = {
        "version": 1,
        "temperature": comp.temperature,
        "per_type": maps,
        "fit": {
            **(data or {}),
            "seed": seed,
            "n_docs": len(gold_docs),
            "fit_docs": len(fit_idx),
            "heldout_docs": held_idx,
            "min_entities": min_entities,
            "methods": list(methods),
            "choices": choices,
        },
    }
    comp.cfg["calibration"] = record
    after = measure(*_entities(nlp, held_docs, key, batch_size), target_precision)
    return {
        "component": name,
        "temperature": fitted_t,
        "maps": {label: m["method"] for label, m in maps.items()},
        "choices": choices,
        "split": {"seed": seed, "n_docs": len(gold_docs), "fit_docs": len(fit_idx), "heldout_docs": len(held_idx)},
        "heldout_before": before,
        "heldout_after": after,
    }


def _check_output(model: str, output: Path) -> None:
    """Refuse an OUTPUT that is the input pipeline, inside it or holds it,
    or an existing file."""
    if output.exists() and not output.is_dir():
        raise OSError(Errors.E063.format(path=output, problem="is a file, not a pipeline directory"))
    source = Path(model)
    if source.exists():
        a, b = source.resolve(), output.resolve()
        if a == b or a in b.parents or b in a.parents:
            raise OSError(Errors.E063.format(path=output, problem=f"is (or holds, or is inside) the input pipeline {model}"))


def save_atomically(nlp: Language, output: Path) -> None:
    """nlp.to_disk into a hidden directory beside OUTPUT, then renamed into
    place; an existing OUTPUT is replaced only once the new one is complete
    (it is moved aside, the new one renamed in, the old one removed). An error
    or Ctrl-C leaves OUTPUT as it was and no half-written pipeline."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    tmp = output.with_name(f".{output.name}.{token}.partial")
    old = output.with_name(f".{output.name}.{token}.old")
    try:
        nlp.to_disk(tmp)
        if output.exists():
            os.replace(output, old)
        os.replace(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not output.exists():
            os.replace(old, output)
        raise
    shutil.rmtree(old, ignore_errors=True)


def calibrate(
    model: str,
    data_path: Union[str, Path],
    output: Union[str, Path],
    *,
    seed: int = 0,
    name: Optional[str] = None,
    min_entities: int = MIN_ENTITIES,
    target_precision: float = 0.9,
    batch_size: int = 256,
    maps: str = "platt",
) -> Dict[str, Any]:
    """Load MODEL, calibrate its crf_ner on a seeded half of DATA (a gold
    .spacy file) and save the calibrated copy to OUTPUT (atomically; MODEL is
    never written). RETURNS `calibrate_pipeline`'s figures, with the paths."""
    output = Path(output)
    _check_output(model, output)
    nlp = spacy.load(model)
    data_path = Path(data_path)
    docs = list(DocBin().from_disk(data_path).get_docs(nlp.vocab))
    data = {"data": str(data_path), "data_sha256": file_sha256(data_path)}
    result = calibrate_pipeline(
        nlp, docs, seed=seed, name=name, min_entities=min_entities, target_precision=target_precision,
        batch_size=batch_size, data=data, map_kind=maps,
    )
    save_atomically(nlp, output)
    return {"model": str(model), "output": str(output), **data, **result}


def summary(result: Dict[str, Any]) -> List[str]:
    """Lines for the command line: what was fitted and the held-out figures."""
    before, after = result["heldout_before"], result["heldout_after"]

    def recall(m):
        t = m["target"]
        return "none" if t["threshold"] is None else f"{100 * t['r']:.1f} % (threshold {t['threshold']:.4f})"

    def ece(v):
        return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4f}"

    split = result["split"]
    lines = [
        f"fitted on {split['fit_docs']} of {split['n_docs']} docs (seed {split['seed']}); "
        f"figures on the {split['heldout_docs']} held-out docs",
        f"temperature {result['temperature']['temperature']:.3f}; per-type maps: "
        + (", ".join(f"{k} {v}" for k, v in sorted(result["maps"].items())) or "none"),
        f"ECE {ece(before['ece'])} -> {ece(after['ece'])} (noise floor {ece(after['ece_noise_floor'])}); "
        f"recall at precision >= {100 * after['target']['target_precision']:.0f} %: {recall(before)} -> {recall(after)}",
    ]
    for label in sorted(after["per_type"]):
        b = before["per_type"].get(label, {}).get("ece")
        a = after["per_type"][label]
        lines.append(f"  {label}: ECE {ece(b)} -> {ece(a['ece'])} (n {a['n']}, noise floor {ece(a['ece_noise_floor'])})")
    return lines
