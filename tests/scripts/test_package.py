"""scripts/package.py: which pipelines need the onnx extra (their wheel then
asks for spacy-cluener[onnx]) and which are described as int8. The wheels
themselves are built in tests/transformer (slow)."""
import importlib.util

from ..util import REPO

spec = importlib.util.spec_from_file_location("package_script", REPO / "scripts" / "package.py")
package = importlib.util.module_from_spec(spec)
spec.loader.exec_module(package)


def config(**models):
    return {"components": {name: {"model": model} for name, model in models.items()}}


def test_onnx_pipelines_need_the_extra():
    cnn = {"@architectures": "spacy_cluener.ChunkedTok2Vec.v1"}
    assert not package.is_onnx(config(tok2vec=cnn))
    assert not package.is_onnx(config(tok2vec={"@architectures": "spacy_cluener.ChunkedTok2Vec.v2", "onnx": "off"}))
    assert package.is_onnx(config(tok2vec={"@architectures": "spacy_cluener.ChunkedTok2Vec.v2", "onnx": "int8"}))
    assert package.is_onnx(config(tok2vec={"@architectures": "spacy_cluener.ChunkedTok2Vec.v3", "onnx": "fp32"}))
    assert not package.is_onnx(config(tok2vec={"@architectures": "spacy_cluener.ChunkedTok2Vec.v3"}))
    onnx_bert = {"@architectures": "spacy_cluener.OnnxTransformerModel.v1"}
    assert package.is_onnx(config(transformer=onnx_bert)) and package.is_int8(config(transformer=onnx_bert))
    torch_int8 = {"@architectures": "spacy_cluener.QuantizedTransformerModel.v2"}
    assert package.is_int8(config(transformer=torch_int8)) and not package.is_onnx(config(transformer=torch_int8))
    assert not package.is_int8(config(tok2vec={"@architectures": "spacy_cluener.ChunkedTok2Vec.v2", "onnx": "int8"}))
