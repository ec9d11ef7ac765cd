"""`quantize --runtime onnx` and `spacy_cluener.OnnxTransformerModel.v1`
(issue 28) on the tiny random BERT: BERT exported to ONNX, int8 by
onnxruntime, run by an onnxruntime session inside the same pipeline; it
predicts what fp32 does, saves and reloads the graph, refuses updates,
initialize and a missing onnxruntime; its wheel loads (slow)."""
import json
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
from spacy_cluener.layers import onnx_shim
from spacy_cluener.layers.onnx_transformer import ARCHITECTURE
from spacy_cluener.quantization import quantize

from ..util import REPO, TRAIN_DATA, ents, make_examples, run_from_wheel

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

TEXTS = [text for text, _ in TRAIN_DATA] + ["张三和李四在北京天安门", "", "王五去了腾讯公司上海分部做工程师" * 20]


@pytest.fixture(scope="module")
def onnx_dir(fp32_dir):
    out = fp32_dir.parent / "onnx"
    result = quantize(fp32_dir, out, runtime="onnx")
    assert result["components"] == ["transformer"] and result["runtime"] == "onnx"
    return out


def shim(nlp):
    return nlp.get_pipe("transformer").model.layers[0].shims[0]


def hidden_states(nlp, texts):
    return [doc._.trf_data.tensors[0] if doc._.trf_data.tensors else None for doc in nlp.pipe(texts)]


def cosine(a, b):
    a, b = a.reshape(-1), b.reshape(-1)
    return float(numpy.dot(a, b) / (numpy.linalg.norm(a) * numpy.linalg.norm(b)))


def test_a_docs_hidden_states_do_not_depend_on_its_batch(onnx_dir):
    """Each token's activations are quantised with their own range
    (`quantize_rows`), so a doc's hidden states are the same alone and
    batched with a long doc (and its padding): onnxruntime's own dynamic
    quantisation took one range per batch (a difference of ~1e-3 here)."""
    nlp = spacy.load(onnx_dir)
    texts = [TEXTS[0], TEXTS[-1], TEXTS[2]]
    batched = [doc._.trf_data.tensors[0] for doc in nlp.pipe(texts, batch_size=8)]
    for text, states in zip(texts, batched):
        (alone,) = [doc._.trf_data.tensors[0] for doc in nlp.pipe([text])]
        rows = alone.reshape(-1, alone.shape[-1])
        numpy.testing.assert_array_equal(states.reshape(-1, states.shape[-1])[: len(rows)], rows)


def test_onnx_pipeline_runs_in_onnxruntime_and_is_smaller(fp32_dir, onnx_dir):
    config = util.load_config(onnx_dir / "config.cfg")
    assert config["components"]["transformer"]["model"]["@architectures"] == ARCHITECTURE
    assert isinstance(shim(spacy.load(onnx_dir))._model, onnx_shim.OrtBert)
    # on disk: the int8 ONNX graph where the torch state was
    msg = srsly.msgpack_loads((onnx_dir / "transformer" / "model").read_bytes())
    (shim_bytes,) = [s for shims in msg["shims"] for s in shims]
    shim_msg = srsly.msgpack_loads(shim_bytes)
    assert shim_msg[onnx_shim.STATE_KEY]["format"] == onnx_shim.STATE_FORMAT
    import onnx

    graph = onnx.load_from_string(shim_msg["state"])
    assert [i.name for i in graph.graph.input] == list(onnx_shim.INPUTS)
    assert any(node.op_type in ("MatMulInteger", "DynamicQuantizeMatMul") for node in graph.graph.node)
    fp32_size = (fp32_dir / "transformer" / "model").stat().st_size
    assert (onnx_dir / "transformer" / "model").stat().st_size < fp32_size / 2
    for name in ("crf_ner/model", "crf_ner/cfg", "vocab/strings.json"):
        assert (onnx_dir / name).read_bytes() == (fp32_dir / name).read_bytes(), name


def test_onnx_predicts_like_fp32(fp32_dir, onnx_dir):
    fp32, onnx = spacy.load(fp32_dir), spacy.load(onnx_dir)
    assert [ents(doc) for doc in onnx.pipe(t for t, _ in TRAIN_DATA)] == [gold for _, gold in TRAIN_DATA]
    for a, b in zip(hidden_states(fp32, TEXTS), hidden_states(onnx, TEXTS)):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.shape == b.shape and cosine(a, b) > 0.99


def test_onnx_save_load_round_trip(onnx_dir, tmp_path):
    nlp = spacy.load(onnx_dir)
    nlp.to_disk(tmp_path / "again")
    again = spacy.load(tmp_path / "again")
    assert shim(again)._model.graph == shim(nlp)._model.graph
    for a, b in zip(hidden_states(nlp, TEXTS), hidden_states(again, TEXTS)):
        assert (a is None and b is None) or numpy.array_equal(a, b)


def test_fp32_pipeline_loads_as_onnx_with_a_config_override(fp32_dir, onnx_dir):
    nlp = spacy.load(fp32_dir, config={"components.transformer.model.@architectures": ARCHITECTURE})
    assert isinstance(shim(nlp)._model, onnx_shim.OrtBert)
    assert [ents(doc) for doc in nlp.pipe(t for t, _ in TRAIN_DATA)] == [gold for _, gold in TRAIN_DATA]


def test_meta_requires_onnxruntime_for_spacy_package(onnx_dir):
    """Plain `spacy package` keeps meta.json's requirements beside those it
    finds in the config, so the wheel installs onnxruntime, which loading
    the ONNX transformer needs (E080 without it)."""
    from spacy.cli.package import get_meta

    meta = srsly.read_json(onnx_dir / "meta.json")
    assert "onnxruntime>=1.17" in meta["requirements"]
    assert '"onnxruntime>=1.17"' in (REPO / "setup.py").read_text(encoding="utf8")  # the onnx extra's spec
    packaged = get_meta(onnx_dir, meta)["requirements"]
    assert "onnxruntime>=1.17" in packaged
    assert any(req.startswith("spacy-cluener") for req in packaged)
    assert any(req.startswith("spacy-transformers") for req in packaged)


def test_threads_setting(onnx_dir):
    nlp = spacy.load(onnx_dir, config={"components.transformer.model.threads": 1})
    assert shim(nlp).threads == 1 and shim(nlp)._model.session.get_session_options().intra_op_num_threads == 1
    before = hidden_states(nlp, TEXTS[:3])
    shim(nlp).set_threads(2)
    assert shim(nlp)._model.session.get_session_options().intra_op_num_threads == 2
    for a, b in zip(before, hidden_states(nlp, TEXTS[:3])):
        assert numpy.allclose(a, b, atol=1e-5)


def test_copy_and_pickle_make_a_new_session(onnx_dir):
    """spaCy copies models (e.g. replace_listeners) and Ray pickles them: the
    session is rebuilt from the graph, with the same threads."""
    import copy
    import pickle

    nlp = spacy.load(onnx_dir, config={"components.transformer.model.threads": 1})
    model = nlp.get_pipe("transformer").model
    before = hidden_states(nlp, TEXTS[:3])
    original = shim(nlp)._model
    for ort in (copy.deepcopy(original), pickle.loads(pickle.dumps(original))):
        assert isinstance(ort, onnx_shim.OrtBert) and ort.session is not original.session
        assert ort.graph == original.graph and ort.session.get_session_options().intra_op_num_threads == 1
    nlp.get_pipe("transformer").model = copy.deepcopy(model)
    for a, b in zip(before, hidden_states(nlp, TEXTS[:3])):
        assert numpy.array_equal(a, b)


def test_update_and_initialize_are_refused(onnx_dir):
    nlp = spacy.load(onnx_dir)
    with pytest.raises(ValueError, match=r"\[E079\]"):
        nlp.update(make_examples(nlp), sgd=Adam(0.001))
    with pytest.raises(ValueError, match=r"\[E081\]"):
        nlp.initialize(lambda: make_examples(nlp))


def test_missing_onnxruntime_is_one_clear_error(onnx_dir, fp32_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime raises ImportError
    with pytest.raises(ValueError, match=r"\[E080\].*onnxruntime.*spacy-cluener\[onnx\]"):
        spacy.load(onnx_dir)
    with pytest.raises(ValueError, match=r"\[E080\]"):
        quantize(fp32_dir, tmp_path / "out", runtime="onnx")
    assert not (tmp_path / "out").exists()


def test_gpu_is_refused(onnx_dir, monkeypatch):
    monkeypatch.setattr(onnx_shim, "get_torch_default_device", lambda: torch.device("cuda", 0))
    with pytest.raises(ValueError, match=r"\[E076\].*cuda:0"):
        spacy.load(onnx_dir)


def test_cli_runtime_onnx_and_unknown_runtime(fp32_dir, onnx_dir, tmp_path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["quantize", str(fp32_dir), str(tmp_path / "cli"), "--runtime", "onnx"])
    assert result.exit_code == 0, result.output
    assert "ONNX Runtime" in result.output and isinstance(shim(spacy.load(tmp_path / "cli"))._model, onnx_shim.OrtBert)
    result = CliRunner().invoke(app, ["quantize", str(fp32_dir), str(tmp_path / "x"), "--runtime", "tvm"])
    assert result.exit_code == 1 and "[E076]" in result.output and "'tvm'" in result.output
    result = CliRunner().invoke(app, ["quantize", str(fp32_dir), str(tmp_path / "z"), "--runtime", "onnx",
                                      "--engine", "onednn"])
    assert result.exit_code == 1 and "[E076]" in result.output and "--engine" in result.output
    assert not (tmp_path / "z").exists()
    result = CliRunner().invoke(app, ["quantize", str(onnx_dir), str(tmp_path / "y")])
    assert result.exit_code == 1 and "int8 already" in result.output


@pytest.mark.slow  # pip builds two wheels
def test_onnx_pipeline_wheel_loads(onnx_dir, tmp_path):
    """scripts/package.py on the ONNX output: the wheel asks for the onnx
    extra, and, installed alone, loads the session in a fresh process and
    predicts what the directory does."""
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "package.py"), str(onnx_dir), str(tmp_path / "pkg"),
                           "--name", "cluener_onnx", "--version", "0.0.1"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    wheel = tmp_path / "pkg" / "dist" / "zh_cluener_onnx-0.0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as whl:
        meta = json.loads(whl.read("zh_cluener_onnx/meta.json"))
        metadata = whl.read(next(n for n in whl.namelist() if n.endswith("METADATA"))).decode()
    assert "ONNX Runtime" in meta["description"]
    assert "spacy-cluener[onnx]" in metadata.replace("spacy_cluener", "spacy-cluener")
    script = (
        "import json, spacy, sys\n"
        "nlp = spacy.load('zh_cluener_onnx')\n"
        "m = nlp.get_pipe('transformer').model.layers[0].shims[0]._model\n"
        "print(json.dumps([type(m).__name__, [[(e.start_char, e.end_char, e.label_) for e in d.ents]"
        " for d in nlp.pipe(sys.argv[1:])]]))\n"
    )
    texts = [t for t, _ in TRAIN_DATA]
    name, predicted = run_from_wheel(wheel, tmp_path, script, *texts)
    assert name == "OrtBert"
    assert [[tuple(e) for e in doc] for doc in predicted] == [ents(d) for d in spacy.load(onnx_dir).pipe(texts)]
