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
