"""Helpers of the crf_ner contract tests (issue 23). SMALL_MODEL is the one of
test_crf_ner.py, here so that no test module imports another; when
tests/util.py gets its own, this one goes."""

SMALL_MODEL = {
    "@architectures": "spacy_cluener.CRFTagger.v1",
    "dropout": 0.0,
    "tok2vec": {
        "@architectures": "spacy.HashEmbedCNN.v2",
        "pretrained_vectors": None,
        "width": 32,
        "depth": 2,
        "embed_size": 500,
        "window_size": 1,
        "maxout_pieces": 2,
        "subword_features": False,
    },
}


def add_ner(nlp, name="ner", config=None, **kwargs):
    """spaCy's `nlp.add_pipe("ner")`, swapped to crf_ner with the small model."""
    return nlp.add_pipe("crf_ner", name=name, config={"model": SMALL_MODEL, **(config or {})}, **kwargs)


def create_ner(nlp, name="ner", config=None):
    """spaCy's `nlp.create_pipe("ner")`, swapped to crf_ner."""
    return nlp.create_pipe("crf_ner", name=name, config={"model": SMALL_MODEL, **(config or {})})


def small_model():
    """spaCy's `registry.resolve({"model": DEFAULT_NER_MODEL})["model"]`, swapped."""
    from spacy import registry

    return registry.resolve({"model": SMALL_MODEL}, validate=True)["model"]
