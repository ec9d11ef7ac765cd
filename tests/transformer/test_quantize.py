"""`quantize` and `spacy_cluener.QuantizedTransformerModel.v2` (issue 28) on
the tiny random BERT: the int8 pipeline loads, predicts what the fp32 one
does, saves and reloads, packs its weights for the engine of its config,
refuses updates, CNN pipelines, GPUs and existing outputs; its wheel loads
(slow). A v1 pipeline (what quantize wrote before `engine`) still loads."""
import io
import json
import stat
import subprocess
import sys
import zipfile

import numpy
import pytest
import spacy
import srsly
import torch
from spacy import util
from thinc.api import Adam

from spacy_cluener.cli import app
from spacy_cluener.layers import hf_int8_shim
from spacy_cluener.layers.pytorch_int8 import STATE_FORMAT, is_quantized
from spacy_cluener.layers.quantized_transformer import ARCHITECTURE, INT8_ARCHITECTURES, STATE_KEY
from spacy_cluener.quantization import quantize

from ..util import REPO, TRAIN_DATA, TRF_CONFIG, ents, make_examples, run_from_wheel, small_cnn_nlp

TEXTS = [text for text, _ in TRAIN_DATA] + ["张三和李四在北京天安门", "", "王五去了腾讯公司上海分部做工程师"]


@pytest.fixture(scope="module")
def int8_dir(fp32_dir):
    out = fp32_dir.parent / "int8"
    result = quantize(fp32_dir, out)
    assert result["components"] == ["transformer"]
    return out


def torch_module(nlp):
    return nlp.get_pipe("transformer").model.layers[0].shims[0]._model


def hidden_states(nlp, texts):
    """Each doc's last hidden layer (none for an empty doc)."""
    return [doc._.trf_data.tensors[0] if doc._.trf_data.tensors else None for doc in nlp.pipe(texts)]


def test_quantized_pipeline_is_int8_and_smaller(fp32_dir, int8_dir):
    config = util.load_config(int8_dir / "config.cfg", interpolate=False)
    assert config["components"]["transformer"]["model"]["@architectures"] == ARCHITECTURE
    nlp = spacy.load(int8_dir)
    module = torch_module(nlp)
    assert is_quantized(module)
    assert not any(isinstance(m, torch.nn.Linear) for m in module.modules())
    # on disk: int8 Linear weights, float16 input embeddings
    msg = srsly.msgpack_loads((int8_dir / "transformer" / "model").read_bytes())
    (shim_bytes,) = [s for shims in msg["shims"] for s in shims]
    shim = srsly.msgpack_loads(shim_bytes)
    assert shim[STATE_KEY]["format"] == STATE_FORMAT
    state = torch.load(io.BytesIO(shim["state"]))
    assert state["embeddings.word_embeddings.weight"].dtype == torch.float16
    assert (int8_dir / "transformer" / "model").stat().st_size < (fp32_dir / "transformer" / "model").stat().st_size
    # the CRF head and the listener are saved unchanged
    for name in ("crf_ner/model", "crf_ner/cfg", "vocab/strings.json"):
        assert (int8_dir / name).read_bytes() == (fp32_dir / name).read_bytes(), name


def test_quantized_pipeline_has_the_umask_default_mode(int8_dir):
    """As nlp.to_disk's directories: mkdtemp's 0700 would keep other users
    (a service account serving the model) out."""
    from spacy_cluener.util import current_umask

    assert stat.S_IMODE(int8_dir.stat().st_mode) == 0o777 & ~current_umask()


def test_torch_int8_meta_needs_no_onnxruntime(int8_dir):
    meta = srsly.read_json(int8_dir / "meta.json")
    assert not any(req.startswith("onnxruntime") for req in meta.get("requirements", []))


def test_quantized_predicts_like_fp32(fp32_dir, int8_dir):
    fp32, int8 = spacy.load(fp32_dir), spacy.load(int8_dir)
    assert [ents(d) for d in int8.pipe(TEXTS)] == [ents(d) for d in fp32.pipe(TEXTS)]
    assert [ents(d) for d in int8.pipe(t for t, _ in TRAIN_DATA)] == [gold for _, gold in TRAIN_DATA]
    for a, b in zip(hidden_states(fp32, TEXTS), hidden_states(int8, TEXTS)):
        # int8 rounding of a 2-layer BERT's LayerNorm outputs (values of order 1)
        assert (a is None) == (b is None)
        if a is not None:
            numpy.testing.assert_allclose(a, b, atol=0.05)


def test_quantized_save_load_round_trip(int8_dir, tmp_path):
    nlp = spacy.load(int8_dir)
    expected = [ents(d) for d in nlp.pipe(TEXTS)]
    states = hidden_states(nlp, TEXTS)
    nlp.to_disk(tmp_path / "again")
    again = spacy.load(tmp_path / "again")
    assert is_quantized(torch_module(again))
    assert [ents(d) for d in again.pipe(TEXTS)] == expected
    for a, b in zip(states, hidden_states(again, TEXTS)):
        assert (a is None and b is None) or numpy.array_equal(a, b)
    from_bytes = spacy.load(int8_dir).from_bytes(nlp.to_bytes())
    assert [ents(d) for d in from_bytes.pipe(TEXTS)] == expected


def test_fp32_pipeline_loads_as_int8_with_a_config_override(fp32_dir, int8_dir):
    nlp = spacy.load(fp32_dir, config={"components.transformer.model.@architectures": ARCHITECTURE})
    assert is_quantized(torch_module(nlp))
    assert [ents(d) for d in nlp.pipe(TEXTS)] == [ents(d) for d in spacy.load(int8_dir).pipe(TEXTS)]


def test_initialize_quantizes_the_weights_read_from_name(tiny_bert):
    config = util.load_config(TRF_CONFIG, overrides={
        "components.transformer.model.name": str(tiny_bert),
        "components.transformer.model.@architectures": ARCHITECTURE,
    }, interpolate=False).interpolate()
    nlp = util.load_model_from_config(config, auto_fill=True, validate=True)
    examples = make_examples(nlp)
    nlp.initialize(lambda: examples)
    assert is_quantized(torch_module(nlp))
    assert nlp("张三在上海工作").text == "张三在上海工作"


def test_update_is_refused(int8_dir):
    nlp = spacy.load(int8_dir)
    with pytest.raises(ValueError, match=r"\[E079\]"):
        nlp.update(make_examples(nlp), sgd=nlp.create_optimizer())


def test_frozen_int8_transformer_trains_the_head(int8_dir):
    """E079's advice: a frozen transformer that annotates lets the CRF head train."""
    nlp = spacy.load(int8_dir)
    crf = nlp.get_pipe("crf_ner")
    before = crf.model.to_bytes()
    losses = {}
    nlp.update(make_examples(nlp), sgd=Adam(0.01), losses=losses,
               exclude=["transformer"], annotates=["transformer"])
    assert losses["crf_ner"] >= 0 and "transformer" not in losses
    assert crf.model.to_bytes() != before


@pytest.fixture
def packing_engines(monkeypatch):
    """The quantized engine in force each time an int8 Linear packs its weights."""
    from torch.ao.nn.quantized.modules.linear import LinearPackedParams

    seen = []
    original = LinearPackedParams.set_weight_bias

    def spy(self, *args, **kwargs):
        seen.append(torch.backends.quantized.engine)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LinearPackedParams, "set_weight_bias", spy)
    return seen


@pytest.mark.parametrize("engine", ["fbgemm", "onednn"])
def test_weights_are_packed_for_the_configured_engine(fp32_dir, tmp_path, packing_engines, engine):
    """quantize saves `engine` in the config; loading packs every Linear for
    it, and torch's process-wide engine is left as it was."""
    if engine not in torch.backends.quantized.supported_engines:
        pytest.skip(f"torch has no {engine} engine here")
    before = torch.backends.quantized.engine
    out = tmp_path / engine
    result = quantize(fp32_dir, out, engine=engine)
    assert result["engine"] == result["engine_here"] == engine
    assert util.load_config(out / "config.cfg")["components"]["transformer"]["model"]["engine"] == engine
    packing_engines.clear()
    nlp = spacy.load(out)
    assert packing_engines and set(packing_engines) == {engine}
    assert torch.backends.quantized.engine == before
    assert [ents(doc) for doc in nlp.pipe(t for t, _ in TRAIN_DATA)] == [gold for _, gold in TRAIN_DATA]


def test_v1_pipeline_loads_with_torchs_engine(int8_dir, tmp_path, packing_engines):
    """A pipeline quantized before `engine` existed names v1 and has no engine:
    it loads as it did, packed for torch's current engine."""
    config = (int8_dir / "config.cfg").read_text(encoding="utf8")
    assert f"@architectures = \"{ARCHITECTURE}\"" in config and "engine = " in config
    old = tmp_path / "v1"
    import shutil

    shutil.copytree(int8_dir, old)
    lines = [line for line in config.splitlines() if not line.startswith("engine = ")]
    (old / "config.cfg").write_text("\n".join(lines).replace(ARCHITECTURE, INT8_ARCHITECTURES[0]) + "\n",
                                    encoding="utf8")
    packing_engines.clear()
    nlp = spacy.load(old)
    assert set(packing_engines) == {torch.backends.quantized.engine}
    assert is_quantized(torch_module(nlp))
    assert [ents(doc) for doc in nlp.pipe(t for t, _ in TRAIN_DATA)] == [gold for _, gold in TRAIN_DATA]
    result = run_app("quantize", old, tmp_path / "again")
    assert result.exit_code == 1 and "int8 already" in result.output


def test_unknown_engine_is_refused(fp32_dir, tmp_path):
    result = run_app("quantize", fp32_dir, tmp_path / "out", "--engine", "avx9000")
    assert result.exit_code == 1 and "[E076]" in result.output and "'avx9000'" in result.output
    assert not (tmp_path / "out").exists()


def run_app(*args):
    from typer.testing import CliRunner

    return CliRunner().invoke(app, [*map(str, args)])


def test_cli_writes_the_int8_pipeline(fp32_dir, tmp_path):
    out = tmp_path / "cli-int8"
    result = run_app("quantize", fp32_dir, out)
    assert result.exit_code == 0, result.output
    assert "transformer:" in result.output and f"Wrote {out}" in result.output
    assert is_quantized(torch_module(spacy.load(out)))


def test_cli_refuses_an_existing_output(fp32_dir, tmp_path):
    (tmp_path / "taken").mkdir()
    result = run_app("quantize", fp32_dir, tmp_path / "taken")
    assert result.exit_code == 1 and "[E077]" in result.output and "Traceback" not in result.output
    assert list((tmp_path / "taken").iterdir()) == []


def test_cli_refuses_a_cnn_pipeline(tmp_path):
    nlp = small_cnn_nlp()
    nlp.initialize(lambda: make_examples(nlp))
    nlp.to_disk(tmp_path / "cnn")
    result = run_app("quantize", tmp_path / "cnn", tmp_path / "out")
    assert result.exit_code == 1 and "[E075]" in result.output and "'tok2vec', 'crf_ner'" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_refuses_an_int8_pipeline(int8_dir, tmp_path):
    result = run_app("quantize", int8_dir, tmp_path / "out")
    assert result.exit_code == 1 and "[E078]" in result.output and "int8 already" in result.output
    assert not (tmp_path / "out").exists()


def test_gpu_is_refused(fp32_dir, int8_dir, tmp_path, monkeypatch):
    import spacy_cluener.quantization as quantization

    def gpu():
        return torch.device("cuda", 0)

    monkeypatch.setattr(quantization, "get_torch_default_device", gpu)
    with pytest.raises(ValueError, match=r"\[E076\].*cuda:0.*CPU only"):
        quantize(fp32_dir, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    monkeypatch.setattr(hf_int8_shim, "get_torch_default_device", gpu)
    with pytest.raises(ValueError, match=r"\[E076\]"):
        spacy.load(int8_dir)


def test_unknown_state_format_is_refused(int8_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(hf_int8_shim, "STATE_FORMAT", STATE_FORMAT + 1)
    with pytest.raises(ValueError, match=r"\[E076\].*format"):
        spacy.load(int8_dir)


@pytest.mark.slow  # pip builds two wheels
def test_int8_pipeline_wheel_loads(int8_dir, tmp_path):
    """scripts/package.py on the quantize output; the pipeline wheel, installed
    alone (--no-deps, into a target folder), loads the int8 transformer in a
    fresh process through the entry point and predicts what the directory does."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "package.py"), str(int8_dir), str(tmp_path / "pkg"),
                           "--name", "cluener_int8", "--version", "0.0.1"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    wheel = tmp_path / "pkg" / "dist" / "zh_cluener_int8-0.0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as whl:
        assert not [n for n in whl.namelist() if n.startswith("spacy_cluener/")]
        config = next(n for n in whl.namelist() if n.endswith("/config.cfg"))
        assert ARCHITECTURE in whl.read(config).decode()
        meta = json.loads(whl.read("zh_cluener_int8/meta.json"))
    assert "int8 weights for CPU" in meta["description"]
    script = (
        "import json, spacy, sys\n"
        "nlp = spacy.load('zh_cluener_int8')\n"
        "m = nlp.get_pipe('transformer').model.layers[0].shims[0]._model\n"
        "print(json.dumps({'int8': type(m.encoder.layer[0].attention.self.query).__module__,\n"
        "  'ents': [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp.pipe(json.loads(sys.argv[1]))]}))\n"
    )
    out = run_from_wheel(wheel, tmp_path, script, json.dumps(TEXTS))
    assert out["int8"].startswith("torch.ao.nn.quantized.dynamic"), out["int8"]
    assert [[tuple(e) for e in doc] for doc in out["ents"]] == [ents(d) for d in spacy.load(int8_dir).pipe(TEXTS)]
