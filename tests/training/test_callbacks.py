"""`spacy_cluener.init_frozen_transformer.v1` on a sourced transformer: its
weights are loaded, so the `name` it was trained from is not checked."""
import shutil

import pytest
import spacy
import torch
from spacy.tokens import DocBin
from spacy.training.initialize import init_nlp
from spacy.util import load_config

from spacy_cluener.training.callbacks import check_local_weights

from ..util import TRF_CONFIG, make_examples, train_from_config

pytest.importorskip("spacy_transformers")


@pytest.fixture(scope="module")
def sourced(tiny_bert, tmp_path_factory):
    """A trained transformer pipeline whose BERT directory is gone (it was
    trained elsewhere, from a relative path), and a corpus."""
    root = tmp_path_factory.mktemp("sourced")
    bert = root / "bert"
    shutil.copytree(tiny_bert, bert)
    config = load_config(TRF_CONFIG, overrides={"components.transformer.model.name": str(bert)},
                         interpolate=False).interpolate()
    nlp = train_from_config(config, 1)
    nlp.to_disk(root / "model")
    shutil.rmtree(bert)
    corpus = root / "train.spacy"
    DocBin(docs=[eg.reference for eg in make_examples(nlp)]).to_disk(corpus)
    return root / "model", corpus, bert


def test_check_local_weights_skips_loaded_transformer(sourced):
    model, _, bert = sourced
    nlp = spacy.load(model)
    assert nlp.get_pipe("transformer").model.attrs["name"] == str(bert)
    check_local_weights(nlp)  # no E009: the weights are in the pipeline


def test_train_on_sourced_frozen_transformer(sourced):
    model, corpus, _ = sourced
    config = load_config(TRF_CONFIG, overrides={
        "paths.train": str(corpus), "paths.dev": str(corpus),
        "training.frozen_components": ["transformer"],
    }, interpolate=False)
    config["components"]["transformer"] = {"source": str(model)}
    config["components"]["crf_ner"] = {"source": str(model)}
    nlp = init_nlp(config)
    reference = spacy.load(model).get_pipe("transformer").model.transformer.state_dict()
    state = nlp.get_pipe("transformer").model.transformer.state_dict()
    assert all(torch.equal(state[k], reference[k]) for k in reference)
