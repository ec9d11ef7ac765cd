"""Fine-tuning controls of configs/trf_crf.cfg, on a tiny random BERT.

Where the mechanism is spaCy's own (accumulate_gradient, grad_clip,
patience) the resolved config is checked; where it is ours (head learning
rate, frozen transformer, BiLSTM) the behaviour is.
"""
import io

import numpy
import pytest
import spacy
import torch
from spacy.schemas import ConfigSchemaTraining
from spacy.training import Corpus
from spacy.training.initialize import init_nlp
from spacy.training.loop import train as train_loop
from spacy.util import registry
from thinc.api import Linear, fix_random_seed

from spacy_cluener.components.crf_ner import CRFEntityRecognizer
from spacy_cluener.layers.bilstm import LazyBiLSTM, build_bilstm_on_tok2vec
from spacy_cluener.layers.param_groups import is_head, is_head_shim, mark_head
from spacy_cluener.training import HeadOptimizer

from ..util import HIDDEN, trf_config

pytestmark = pytest.mark.slow  # trains the tiny BERT pipeline many times


def resolve_training(config):
    return registry.resolve(config.interpolate()["training"], schema=ConfigSchemaTraining)


def pipes(nlp):
    trf = nlp.get_pipe("transformer")
    crf = next(p for _, p in nlp.pipeline if isinstance(p, CRFEntityRecognizer))
    return trf, crf


def snapshot(module: torch.nn.Module):
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def max_change(before, module: torch.nn.Module) -> float:
    return max(float((p.detach() - before[name]).abs().max()) for name, p in module.named_parameters())


# (a) separate learning rates -------------------------------------------------


def test_head_adam_uses_head_rate_for_marked_params():
    head, body = Linear(3, 2), Linear(3, 2)
    for model in (head, body):
        model.initialize()
    mark_head(head)
    assert is_head((head.id, "W")) and not is_head((body.id, "W"))
    opt = registry.resolve(
        {"o": {"@optimizers": "spacy_cluener.HeadAdam.v1", "learn_rate": 1e-4, "head_learn_rate": 1e-2,
               "L2": 0.0, "grad_clip": 0.0}}
    )["o"]
    assert isinstance(opt, HeadOptimizer)
    for model, rate in ((head, 1e-2), (body, 1e-4)):
        W = model.get_param("W").copy()
        model.inc_grad("W", numpy.ones_like(W))
        model.finish_update(opt)
        # first Adam step: every weight moves by the learning rate
        numpy.testing.assert_allclose(W - model.get_param("W"), rate, rtol=1e-3)
    assert opt.learn_rate == 1e-4  # restored after each head update


def test_head_and_transformer_move_at_their_rates(tiny_bert, cluener_slices, tmp_path):
    """One real update of the pipeline (CRF + BiLSTM head on the tiny BERT):
    Adam's first step moves each weight by its learning rate, so the largest
    change per group is that group's rate."""
    fix_random_seed(0)
    config = trf_config(
        tiny_bert, cluener_slices,
        **{"components.crf_ner.model.encoder.depth": 1, "components.crf_ner.model.encoder.hidden_width": 16},
    )
    nlp = init_nlp(config)
    trf, crf = pipes(nlp)
    lstm = crf.model.get_ref("encoder").layers[0].shims[0]._model
    assert isinstance(lstm, LazyBiLSTM)
    # The emission layer starts at zero (as spaCy's ner output layer), which
    # passes no gradient to the encoders on the first step: give it weights.
    torch.nn.init.normal_(crf.crf.emissions.weight, std=0.1)
    groups = {"transformer": trf.model.transformer, "crf": crf.crf, "bilstm": lstm}
    opt_cfg = dict(config.interpolate()["training"]["optimizer"])
    opt_cfg.update(learn_rate=3e-5, head_learn_rate=1e-3)
    optimizer = registry.resolve({"o": opt_cfg})["o"]
    examples = list(Corpus(str(cluener_slices["train"]))(nlp))[:8]
    before = {name: snapshot(module) for name, module in groups.items()}
    # as spaCy's training loop: update all, then apply (nlp.update(sgd=...)
    # would apply the transformer's gradient before the CRF has backpropagated)
    nlp.update(examples, sgd=False, drop=0.0)
    for _, proc in nlp.pipeline:
        proc.finish_update(optimizer)
    moved = {name: max_change(before[name], module) for name, module in groups.items()}
    assert moved["crf"] == pytest.approx(1e-3, rel=0.02), (
        f"{moved}: the CRF head did not get head_learn_rate; is mark_head(head) called in "
        "crf_tagger.build_crf_head?"
    )
    assert moved["bilstm"] == pytest.approx(1e-3, rel=0.02), moved
    assert moved["transformer"] == pytest.approx(3e-5, rel=0.02), moved
    # The BiLSTM pipeline saves and loads (its LSTM is built from the stored weights).
    nlp.to_disk(tmp_path / "m")
    text = "我爱北京天安门"
    assert [e.text for e in spacy.load(tmp_path / "m")(text).ents] == [e.text for e in nlp(text).ents]


# (b) warmup + linear decay ---------------------------------------------------


def test_warmup_then_linear_decay_for_both_rates(tiny_bert, cluener_slices):
    config = trf_config(
        tiny_bert, cluener_slices,
        **{"training.max_steps": 100, "training.optimizer.learn_rate.warmup_steps": 10},
    )
    optimizer = resolve_training(config)["optimizer"]
    base, head = [], []
    for _ in range(101):
        base.append(optimizer.learn_rate)
        head.append(optimizer.head_learn_rate)
        optimizer.step_schedules()
    for rates, peak in ((base, 3e-5), (head, 1e-3)):
        assert rates[0] == 0.0
        assert rates[5] == pytest.approx(peak / 2)
        assert rates[10] == pytest.approx(peak)
        assert rates[55] == pytest.approx(peak / 2)
        assert rates[100] == pytest.approx(0.0)
        assert max(rates) == pytest.approx(peak)


# (c) accumulation, (d) clipping, (e) early stopping: spaCy's own mechanisms --


def test_accumulation_clipping_patience_resolve(tiny_bert, cluener_slices):
    T = resolve_training(trf_config(tiny_bert, cluener_slices))
    assert T["accumulate_gradient"] == 1
    assert T["optimizer"].grad_clip == 1.0
    assert T["patience"] == 1600
    assert T["max_steps"] == 4
    T = resolve_training(
        trf_config(
            tiny_bert, cluener_slices,
            **{"training.accumulate_gradient": 4, "training.optimizer.grad_clip": 0.5, "training.patience": 10},
        )
    )
    assert (T["accumulate_gradient"], T["optimizer"].grad_clip, T["patience"]) == (4, 0.5, 10)


def test_defaults_of_the_gpu_recipe(tiny_bert, cluener_slices):
    config = trf_config(tiny_bert, cluener_slices).interpolate()
    trf = config["components"]["transformer"]["model"]
    assert trf["get_spans"] == {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 128, "stride": 96}
    assert trf["mixed_precision"] is False
    assert config["system"]["gpu_allocator"] == "pytorch"
    assert config["training"]["score_weights"]["ents_macro_f"] == 1.0
    assert config["training"]["annotating_components"] == []
    model = config["components"]["crf_ner"]["model"]
    assert model["@architectures"] == "spacy_cluener.CRFTagger.v2"
    assert model["encoder"]["depth"] == 0
    # the listener at model.tok2vec, where nlp.replace_listeners rewrites it
    assert model["tok2vec"]["@architectures"] == "spacy-transformers.TransformerListener.v1"
    assert model["tok2vec"]["pooling"] == {"@layers": "reduce_mean.v1"}
    assert trf["tokenizer_config"]["split_special_tokens"] is True
    frozen = trf_config(tiny_bert, cluener_slices, **{"training.frozen_components": ["transformer"]}).interpolate()
    assert frozen["training"]["annotating_components"] == ["transformer"]
    assert frozen["initialize"]["before_init"]["frozen_components"] == ["transformer"]


# (f) frozen transformer ------------------------------------------------------


def test_frozen_transformer_keeps_its_weights_while_crf_trains(tiny_bert, cluener_slices):
    import transformers

    fix_random_seed(0)
    config = trf_config(
        tiny_bert, cluener_slices,
        **{"training.frozen_components": ["transformer"], "training.optimizer.learn_rate.warmup_steps": 1},
    )
    nlp = init_nlp(config)
    trf, crf = pipes(nlp)
    # before_init loaded the real weights although spaCy skips frozen components
    reference = transformers.BertModel.from_pretrained(str(tiny_bert)).state_dict()
    state = trf.model.transformer.state_dict()
    assert all(torch.equal(state[k], reference[k]) for k in reference)
    assert crf.model.get_ref("tok2vec").get_ref("listener").get_dim("nO") == HIDDEN
    trf_before, crf_before = snapshot(trf.model.transformer), snapshot(crf.crf)
    train_loop(nlp, None, stdout=io.StringIO(), stderr=io.StringIO())
    assert max_change(trf_before, trf.model.transformer) == 0.0
    assert max_change(crf_before, crf.crf) > 0.0
    # the listener was fed by the annotating transformer: the vectors are not zeros
    doc = nlp("我爱北京天安门")
    assert float(numpy.abs(crf.model.get_ref("tok2vec").predict([doc])[0]).sum()) > 0


def test_unfrozen_transformer_does_train(tiny_bert, cluener_slices):
    fix_random_seed(0)
    config = trf_config(tiny_bert, cluener_slices, **{"training.optimizer.learn_rate.warmup_steps": 1})
    nlp = init_nlp(config)
    trf, _ = pipes(nlp)
    before = snapshot(trf.model.transformer)
    train_loop(nlp, None, stdout=io.StringIO(), stderr=io.StringIO())
    assert max_change(before, trf.model.transformer) > 0.0


# (g) BiLSTM ------------------------------------------------------------------


def small_tok2vec():
    return registry.resolve(
        {"t": {"@architectures": "spacy.HashEmbedCNN.v2", "pretrained_vectors": None, "width": 8, "depth": 1,
               "embed_size": 100, "window_size": 1, "maxout_pieces": 2, "subword_features": False}}
    )["t"]


def test_bilstm_depth_0_is_the_tok2vec():
    tok2vec = small_tok2vec()
    assert build_bilstm_on_tok2vec(tok2vec, hidden_width=16, depth=0) is tok2vec


def test_bilstm_shapes_packing_backprop_and_serialization():
    fix_random_seed(0)
    nlp = spacy.blank("zh")
    docs = [nlp.make_doc("北京"), nlp.make_doc("我爱北京天安门广场"), nlp.make_doc("")]
    model = build_bilstm_on_tok2vec(small_tok2vec(), hidden_width=16, depth=2, dropout=0.0)
    assert model.get_dim("nO") == 16  # known before init: crf_ner sizes its head from it
    model.initialize(X=docs[:2])
    lstm_layer = model.get_ref("bilstm")
    assert is_head_shim(lstm_layer.layers[0].shims[0])
    Ys = model.predict(docs)
    assert [y.shape for y in Ys] == [(2, 16), (9, 16), (0, 16)]
    # packed sequences: a short doc's vectors do not depend on what it is batched with
    numpy.testing.assert_allclose(model.predict(docs[:1])[0], Ys[0], atol=1e-6)
    Ys_train, backprop = model.begin_update(docs)
    backprop([numpy.ones_like(y) for y in Ys_train])
    torch_lstm = lstm_layer.layers[0].shims[0]._model.lstm
    assert torch_lstm.weight_ih_l0.grad is not None and float(torch_lstm.weight_ih_l0.grad.abs().sum()) > 0
    # a fresh model builds its LSTM from the stored weights
    fresh = build_bilstm_on_tok2vec(small_tok2vec(), hidden_width=16, depth=2, dropout=0.0)
    fresh.from_bytes(model.to_bytes())
    for a, b in zip(fresh.predict(docs), Ys):
        numpy.testing.assert_allclose(a, b, atol=1e-6)


def test_head_keys_are_not_transformer_keys(tiny_bert, cluener_slices):
    nlp = init_nlp(trf_config(tiny_bert, cluener_slices))
    trf, crf = pipes(nlp)
    shim = trf.model.layers[0].shims[0]
    assert not any(is_head((shim.id, name)) for name, _ in shim._model.named_parameters())
    crf_shim = crf.model.get_ref("crf_head").layers[0].shims[0]
    assert is_head((crf_shim.id, "emissions.weight")), (
        "the CRF head is not registered: add mark_head(head) to crf_tagger.build_crf_head"
    )
