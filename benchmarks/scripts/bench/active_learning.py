"""Reading `active-learning`'s results (scripts/active_learning.py): one
JSON per strategy and seed, for the table (collate_results.py) and the
chart (plot_active_learning.py); and the `sequence` strategy's score, the
probability of a doc's whole predicted tagging."""
import json
import re
import statistics
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy

NAME = re.compile(r"(?P<strategy>[a-z]+)-seed(?P<seed>\d+)\.json")


def curves(results: Path) -> Dict[str, Dict[int, List[dict]]]:
    """{strategy: {seed: rows}}, rows as the script writes them (round,
    labelled, ents_p, ents_r, ents_f, ...)."""
    out: Dict[str, Dict[int, List[dict]]] = {}
    for path in sorted(Path(results).glob("*-seed*.json")):
        match = NAME.fullmatch(path.name)
        if match:
            data = json.loads(path.read_text(encoding="utf8"))
            out.setdefault(match["strategy"], {})[int(match["seed"])] = data["rounds"]
    return out


def mean_curve(by_seed: Dict[int, List[dict]]) -> List[dict]:
    """Per round: labelled docs and the mean dev F over the seeds."""
    first = next(iter(by_seed.values()))
    return [{"labelled": row["labelled"], "f": statistics.mean(rows[i]["ents_f"] for rows in by_seed.values())}
            for i, row in enumerate(first)]


def docs_to_reach(curve: List[dict], target: float) -> Optional[float]:
    """Labelled docs at which a mean curve first reaches `target` F, read by
    linear interpolation between rounds; None if it never does."""
    previous = None
    for point in curve:
        if point["f"] >= target:
            if previous is None:
                return float(point["labelled"])
            lo, hi = previous, point
            share = (target - lo["f"]) / (hi["f"] - lo["f"])
            return lo["labelled"] + share * (hi["labelled"] - lo["labelled"])
        previous = point
    return None


def path_probabilities(nlp, texts: Sequence[str], batch_size: int = 256) -> List[float]:
    """Per text, P(the predicted tagging | text) of the pipeline's crf_ner:
    its Viterbi path's likelihood (`crf_log_likelihood`, float64) under the
    same constraints and temperature as its entity scores; 1.0 for an empty
    text. Lower = less sure, and a text without entities is not sure by
    default: missed entities count."""
    import torch
    from spacy.attrs import IS_SPACE
    from spacy.util import minibatch

    from spacy_cluener.layers.crf_batch import crf_parameters
    from spacy_cluener.layers.crf_likelihood import FORBIDDEN, crf_log_likelihood
    from spacy_cluener.layers.crf_tagger import get_crf_module

    comp = nlp.get_pipe("crf_ner")
    temperature = float(comp.cfg.get("temperature", 1.0))
    params = [torch.tensor(p, dtype=torch.float64) / temperature
              for p in crf_parameters(get_crf_module(comp.model))]
    before = [proc for _, proc in nlp.pipeline[: nlp.pipe_names.index("crf_ner")]]
    out: List[float] = []
    for batch in minibatch(texts, batch_size):
        docs = [nlp.make_doc(text) for text in batch]
        for proc in before:
            docs = list(proc.pipe(docs))
        spaces = [doc.to_array(IS_SPACE).astype(bool) for doc in docs]
        emissions = comp.model.predict(docs)
        for doc, scores, tags, space in zip(docs, emissions, comp._decode(emissions, spaces), spaces):
            if not len(doc):
                out.append(1.0)
                continue
            scores = numpy.array(scores, dtype="float64")
            allowed = comp._allowed(len(doc), space, None)
            if allowed is not None:
                scores[~allowed] = FORBIDDEN
            log_p = crf_log_likelihood(torch.tensor(scores / temperature)[None], torch.as_tensor(tags)[None],
                                       torch.ones((1, len(doc)), dtype=torch.bool), *params)
            out.append(float(numpy.exp(log_p.item())))
    return out
