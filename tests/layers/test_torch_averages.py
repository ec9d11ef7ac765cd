"""With `use_averages`, `nlp.use_params(optimizer.averages)` (how `spacy
train` evaluates and saves) swaps in the averages of the torch layers too:
CRFTagger.v2's head and BiLSTM.v1. v1's head keeps its last-step weights, as
the pipelines trained with it had them."""
import numpy
import pytest
import spacy
from thinc.api import Adam, fix_random_seed

from ..util import TRAIN_DATA, make_examples

TOK2VEC = {
    "@architectures": "spacy.HashEmbedCNN.v2", "width": 16, "depth": 1, "embed_size": 100,
    "window_size": 1, "maxout_pieces": 2, "subword_features": False, "pretrained_vectors": None,
}


def trained(architecture: str, encoder=None):
    fix_random_seed(0)
    nlp = spacy.blank("zh")
    model = {"@architectures": architecture, "tok2vec": TOK2VEC, "dropout": 0.0}
    if encoder is not None:
        model["encoder"] = encoder
    crf_ner = nlp.add_pipe("crf_ner", config={"model": model})
    nlp.initialize(lambda: make_examples(nlp))
    optimizer = Adam(0.01, use_averages=True)
    for _ in range(5):
        nlp.update(make_examples(nlp, TRAIN_DATA), sgd=optimizer)
    return nlp, crf_ner, optimizer


def torch_layers(crf_ner):
    """(shim id, torch module) of each torch layer of the component."""
    return [(shim.id, shim._model) for node in crf_ner.model.walk() for shim in node.shims]


def state(module):
    return {name: param.detach().numpy().copy() for name, param in module.named_parameters()}


@pytest.mark.parametrize("encoder", [None, {"@architectures": "spacy_cluener.BiLSTM.v1", "hidden_width": 8,
                                            "depth": 1, "dropout": 0.0}], ids=["head", "head+bilstm"])
def test_v2_torch_layers_use_the_averages(encoder):
    nlp, crf_ner, optimizer = trained("spacy_cluener.CRFTagger.v2", encoder)
    layers = torch_layers(crf_ner)
    assert len(layers) == (2 if encoder else 1)
    last = [state(module) for _, module in layers]
    with nlp.use_params(optimizer.averages):
        for (shim_id, module), weights in zip(layers, last):
            for name, value in state(module).items():
                average = optimizer.averages[(shim_id, name)]
                numpy.testing.assert_array_equal(value, average)
                assert not numpy.array_equal(average, weights[name]), name
    for (_, module), weights in zip(layers, last):  # put back after
        for name, value in state(module).items():
            numpy.testing.assert_array_equal(value, weights[name])


def test_v1_head_keeps_its_last_weights():
    nlp, crf_ner, optimizer = trained("spacy_cluener.CRFTagger.v1")
    [(_, module)] = torch_layers(crf_ner)
    last = state(module)
    with nlp.use_params(optimizer.averages):
        for name, value in state(module).items():
            numpy.testing.assert_array_equal(value, last[name])
