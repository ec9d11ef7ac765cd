"""crf_ner whose model listens to an upstream component (configs/cnn_crf.cfg's
tok2vec, configs/trf_crf.cfg's transformer) that did not run on the doc: an
error (E084), not the entities that zero vectors decode to."""
import pytest
import spacy
from spacy.util import load_config

from ..util import TRAIN_DATA, TRF_CONFIG, make_examples, small_cnn_nlp, train_from_config

TEXT = "浙商银行企业信贷部叶老桂博士在北京工作"


@pytest.fixture(scope="module")
def cnn_nlp():
    nlp = small_cnn_nlp()
    examples = make_examples(nlp)
    nlp.initialize(lambda: examples)
    return nlp


def test_cnn_listener_without_tok2vec_raises(cnn_nlp):
    assert len(cnn_nlp(TEXT)) == len(TEXT)  # the whole pipeline predicts
    with cnn_nlp.select_pipes(disable="tok2vec"):
        with pytest.raises(ValueError, match=r"E084.*tok2vec component \(upstream '\*'\)"):
            cnn_nlp(TEXT)
        # an empty doc has nothing to read: no error, no entity
        assert cnn_nlp("").ents == ()
    with pytest.raises(ValueError, match="E084"):
        cnn_nlp.get_pipe("crf_ner")(cnn_nlp.make_doc(TEXT))
    # one doc of a batch without the tensor is enough
    docs = [cnn_nlp.get_pipe("tok2vec")(cnn_nlp.make_doc(TEXT)), cnn_nlp.make_doc("北京")]
    with pytest.raises(ValueError, match="E084"):
        list(cnn_nlp.get_pipe("crf_ner").pipe(docs))


def test_cnn_listener_replaced_needs_no_tok2vec(tmp_path):
    """After replace_listeners crf_ner has its own encoder: no check."""
    nlp = small_cnn_nlp()
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    nlp.update(examples, sgd=optimizer)  # training reads the listener's upstream output
    expected = [(e.start, e.end, e.label_) for e in nlp(TEXT).ents]
    nlp.replace_listeners("tok2vec", "crf_ner", ["model.tok2vec"])
    with nlp.select_pipes(disable="tok2vec"):
        assert [(e.start, e.end, e.label_) for e in nlp(TEXT).ents] == expected


def test_transformer_listener_without_transformer_raises(tiny_bert, tmp_path):
    pytest.importorskip("spacy_transformers")
    config = load_config(TRF_CONFIG, overrides={"components.transformer.model.name": str(tiny_bert)},
                         interpolate=False).interpolate()
    nlp = train_from_config(config, 1)  # one update: training gets the transformer's output
    assert len(nlp(TEXT)) == len(TEXT)
    with nlp.select_pipes(disable="transformer"):
        with pytest.raises(ValueError, match=r"E084.*transformer component \(upstream '\*'\)"):
            nlp(TEXT)
    with pytest.raises(ValueError, match="E084"):
        nlp.get_pipe("crf_ner")(nlp.make_doc(TEXT))
    # docs the transformer annotated in another call are fine
    docs = list(nlp.get_pipe("transformer").pipe(nlp.make_doc(t) for t, _ in TRAIN_DATA))
    assert len(list(nlp.get_pipe("crf_ner").pipe(docs))) == len(TRAIN_DATA)
    nlp.to_disk(tmp_path / "trf")
    excluded = spacy.load(tmp_path / "trf", exclude=["transformer"])
    with pytest.raises(ValueError, match="E084"):
        excluded(TEXT)
