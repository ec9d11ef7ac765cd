"""Rules + model: an `entity_ruler` before `crf_ner`, on a labelled corpus.

The ruler's patterns are the distinct entity texts of the training corpus for
the given types. Measures: whether every entity the ruler sets is in the
final doc.ents (label and bounds), and the entity F of the model alone and of
ruler + model, overall and on the types the ruler does not set.

    python benchmarks/scripts/ruler_plus_model.py MODEL corpus/cluener-train.spacy corpus/cluener-dev.spacy OUT.json --types game,movie
"""
import json
import time
from pathlib import Path

import spacy
import typer
from spacy.scorer import Scorer
from spacy.tokens import DocBin
from spacy.training import Example

from spacy_cluener.cli import run_script


def _scores(preds, golds, skip=()):
    examples = []
    for pred, gold in zip(preds, golds):
        if skip:
            pred = pred.copy()
            gold = gold.copy()
            pred.ents = [e for e in pred.ents if e.label_ not in skip]
            gold.ents = [e for e in gold.ents if e.label_ not in skip]
        examples.append(Example(pred, gold))
    s = Scorer.score_spans(examples, "ents")
    return {"p": s["ents_p"], "r": s["ents_r"], "f": s["ents_f"]}


def main(
    model: str = typer.Argument(...),
    train: Path = typer.Argument(..., exists=True),
    dev: Path = typer.Argument(..., exists=True),
    out: Path = typer.Argument(...),
    types: str = typer.Option("game,movie", "--types"),
) -> None:
    rule_types = types.split(",")
    nlp = spacy.load(model)
    train_docs = DocBin().from_disk(train).get_docs(nlp.vocab)
    texts = sorted({(e.text, e.label_) for d in train_docs for e in d.ents if e.label_ in rule_types})
    patterns = [{"label": label, "pattern": text} for text, label in texts]
    golds = list(DocBin().from_disk(dev).get_docs(nlp.vocab))
    start = time.perf_counter()
    alone = list(nlp.pipe(d.text for d in golds))
    ruler_nlp = spacy.load(model)
    ruler = ruler_nlp.add_pipe("entity_ruler", before="crf_ner")
    ruler.add_patterns(patterns)
    combined = list(ruler_nlp.pipe(d.text for d in golds))
    ruler_only = spacy.blank(nlp.lang)
    ruler_only.tokenizer = ruler_nlp.tokenizer
    ruler_only.add_pipe("entity_ruler").add_patterns(patterns)
    rules = list(ruler_only.pipe(d.text for d in golds))
    seconds = time.perf_counter() - start
    n_rules = sum(len(d.ents) for d in rules)
    kept = sum(
        1 for r, c in zip(rules, combined) for e in r.ents
        if (e.start, e.end, e.label_) in {(x.start, x.end, x.label_) for x in c.ents}
    )
    result = {
        "model": model,
        "rule_types": rule_types,
        "n_patterns": len(patterns),
        "ruler_entities": n_rules,
        "ruler_entities_kept": kept,
        "model_alone": _scores(alone, golds),
        "ruler_plus_model": _scores(combined, golds),
        "ruler_alone_on_its_types": _scores(rules, golds, skip=set(nlp.get_pipe("crf_ner").labels) - set(rule_types)),
        "model_alone_other_types": _scores(alone, golds, skip=set(rule_types)),
        "ruler_plus_model_other_types": _scores(combined, golds, skip=set(rule_types)),
        "model_alone_rule_types": _scores(alone, golds, skip=set(nlp.get_pipe("crf_ner").labels) - set(rule_types)),
        "ruler_plus_model_rule_types": _scores(combined, golds, skip=set(nlp.get_pipe("crf_ner").labels) - set(rule_types)),
        "docs": len(golds),
        "seconds": round(seconds, 1),
    }
    out.write_text(json.dumps(result, indent=2), encoding="utf8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    run_script(main)
