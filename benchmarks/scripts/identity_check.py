"""Fully annotated training and plain decoding are unchanged by issue 23.

Trains a small crf_ner a few updates on a fixed seed and prints the sha256 of
`nlp.to_bytes()`, of the losses and of the predicted tag ids: run it on the
commit before and after a change; equal digests mean the fully annotated
loss, its gradients and unconstrained decoding are byte-identical.

    python benchmarks/scripts/identity_check.py OUT.json
"""
import hashlib
import json
import sys

import spacy
from spacy.training import Example
from thinc.api import fix_random_seed

TRAIN = [
    ("张三在上海工作", [(0, 2, "name"), (3, 5, "address")]),
    ("李四去了广州", [(0, 2, "name"), (4, 6, "address")]),
    ("我爱北京天安门", [(2, 4, "address"), (4, 7, "scene")]),
    ("王五是腾讯的工程师", [(0, 2, "name"), (3, 5, "company"), (6, 9, "position")]),
]
MODEL = {
    "@architectures": "spacy_cluener.CRFTagger.v1",
    "dropout": 0.1,
    "tok2vec": {
        "@architectures": "spacy.HashEmbedCNN.v2", "pretrained_vectors": None, "width": 32,
        "depth": 2, "embed_size": 500, "window_size": 1, "maxout_pieces": 2, "subword_features": False,
    },
}


def run(scheme: str) -> dict:
    fix_random_seed(0)
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_ner", config={"model": MODEL, "scheme": scheme, "scores": True})
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in TRAIN]
    optimizer = nlp.initialize(lambda: examples)
    losses = []
    for _ in range(40):
        step = {}
        nlp.update(examples, sgd=optimizer, losses=step)
        losses.append(step["crf_ner"])
    texts = [t for t, _ in TRAIN] + ["王五去了北京", "张三  李四\n北京", "", "上海" * 30]
    docs = list(nlp.pipe(texts))
    preds = [[(t.ent_iob_, t.ent_type_) for t in d] for d in docs]
    scores = [[round(float(s), 12) for s in d.spans["crf_ner"].attrs.get("scores", [])] for d in docs]
    digest = lambda x: hashlib.sha256(x).hexdigest()  # noqa: E731
    return {
        "weights_sha256": digest(nlp.get_pipe("crf_ner").model.to_bytes()),
        "losses": losses,
        "predictions_sha256": digest(json.dumps(preds).encode()),
        "n_entities": sum(len(d.ents) for d in docs),
        "scores_sha256": digest(json.dumps(scores).encode()),
    }


def main(out: str) -> None:
    result = {scheme: run(scheme) for scheme in ("BIO", "BIOES")}
    with open(out, "w", encoding="utf8") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
