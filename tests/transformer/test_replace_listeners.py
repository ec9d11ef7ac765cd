"""spaCy's `nlp.replace_listeners` on the transformer pipeline: crf_ner gets
its own copy of the transformer, and the pipeline saves and loads without the
shared one, predicting as before (configs/trf_crf.cfg, with and without the
BiLSTM encoder, on the tiny BERT)."""
import pytest
import spacy
import torch
from spacy import util
from thinc.api import fix_random_seed

from ..util import TRF_CONFIG, ents, make_examples

TEXTS = ["浙商银行企业信贷部叶老桂博士在北京工作", "张三在上海", "", "北京" * 80]


@pytest.mark.parametrize("depth", [0, 1], ids=["no-bilstm", "bilstm"])
def test_replace_listeners_saves_and_loads(tiny_bert, tmp_path, depth):
    config = util.load_config(TRF_CONFIG, overrides={
        "components.transformer.model.name": str(tiny_bert),
        "components.crf_ner.model.encoder.depth": depth,
        "components.crf_ner.model.encoder.hidden_width": 16,
    }, interpolate=False).interpolate()
    fix_random_seed(0)
    nlp = util.load_model_from_config(config, auto_fill=True, validate=True)
    nlp.initialize(lambda: make_examples(nlp))
    # The emission layer starts at zero: give it weights, so entities are predicted.
    torch.nn.init.normal_(nlp.get_pipe("crf_ner").crf.emissions.weight, std=1.0)
    before = [ents(doc) for doc in nlp.pipe(TEXTS)]
    assert any(before)

    nlp.replace_listeners("transformer", "crf_ner", ["model.tok2vec"])
    assert [ents(doc) for doc in nlp.pipe(TEXTS)] == before
    nlp.to_disk(tmp_path / "replaced")
    loaded = spacy.load(tmp_path / "replaced", exclude=["transformer"])
    assert loaded.pipe_names == ["crf_ner"]
    assert [ents(doc) for doc in loaded.pipe(TEXTS)] == before


def test_replaced_listener_inside_a_bilstm_says_why_it_cannot_load(tiny_bert, tmp_path):
    """CRFTagger.v1 with the listener inside BiLSTMOnTok2Vec (the shape of
    trf_crf.cfg before CRFTagger.v2): spaCy rewrites the config at
    model.tok2vec only, so the saved config builds another model. E062 says
    so, instead of E017's "damaged directory"."""
    config = util.load_config(TRF_CONFIG, overrides={"components.transformer.model.name": str(tiny_bert)},
                              interpolate=False)
    model = config["components"]["crf_ner"]["model"]
    listener = model["tok2vec"]
    config["components"]["crf_ner"]["model"] = {
        "@architectures": "spacy_cluener.CRFTagger.v1", "dropout": model["dropout"],
        "tok2vec": {"@architectures": "spacy_cluener.BiLSTMOnTok2Vec.v1", "depth": 0, "tok2vec": listener},
    }
    nlp = util.load_model_from_config(config.interpolate(), auto_fill=True, validate=True)
    nlp.initialize(lambda: make_examples(nlp))
    nlp.replace_listeners("transformer", "crf_ner", ["model.tok2vec.tok2vec"])
    nlp.to_disk(tmp_path / "replaced")
    with pytest.raises(OSError, match=r"\[E062\].*replace_listeners"):
        spacy.load(tmp_path / "replaced")
