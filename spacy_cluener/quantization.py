"""`quantize`: a trained transformer pipeline -> the same pipeline with an
int8 BERT for CPU serving (`python -m spacy_cluener quantize MODEL OUTPUT`).

The output is an ordinary spaCy pipeline directory: its config names
`spacy_cluener.QuantizedTransformerModel.v2` for each transformer component
(found through the package's entry point, so `spacy.load(OUTPUT)` and a wheel
made by `spacy package` / scripts/package.py need no extra step) and its
transformer weights are int8 Linear matrices plus float16 input embeddings.
Every other component, the CRF head and the listener included, is saved
unchanged. The config also holds the int8 kernels' `engine` ("auto" by
default: oneDNN on a CPU with int8 dot-product instructions, resolved on the
machine that loads it).

`runtime="onnx"` writes `spacy_cluener.OnnxTransformerModel.v1` instead: BERT
exported to ONNX, its weights int8 by onnxruntime's dynamic quantisation, run
by an onnxruntime session (needs the `onnx` extra; docs/transformer.md says
where it pays). Its meta.json requires onnxruntime, which `spacy package`
keeps beside the libraries it finds in the config, so the pipeline's wheel
installs what loading it needs.
"""
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Union

import spacy
from spacy.util import load_config, split_requirement
from thinc.api import get_torch_default_device

from .errors import Errors
from .layers.onnx_transformer import ARCHITECTURE as ONNX_ARCHITECTURE
from .layers.pytorch_int8 import check_cpu, check_int8_available, resolve_engine
from .layers.quantized_transformer import ARCHITECTURE, FP32_ARCHITECTURES, INT8_ARCHITECTURES
from .util import current_umask

RUNTIMES = ("torch", "onnx")
# What an ONNX pipeline needs at load: setup.py's `onnx` extra, less onnx
# itself (it only exports, which quantize has done).
ONNX_REQUIREMENT = "onnxruntime>=1.17"


def transformer_components(model: Path) -> List[str]:
    """The names of the components of the pipeline directory `model` with
    factory 'transformer', checked for quantize (E075, E078)."""
    config = load_config(model / "config.cfg", interpolate=False)
    names = [name for name in config["nlp"]["pipeline"] if config["components"].get(name, {}).get("factory") == "transformer"]
    if not names:
        raise ValueError(Errors.E075.format(model=model, pipeline=list(config["nlp"]["pipeline"])))
    for name in names:
        arch = config["components"][name]["model"].get("@architectures")
        if arch not in FP32_ARCHITECTURES:
            hint = " It is int8 already: serve it as it is." if arch in (*INT8_ARCHITECTURES, ONNX_ARCHITECTURE) else ""
            raise ValueError(Errors.E078.format(name=name, model=model, arch=arch,
                                                allowed=", ".join(FP32_ARCHITECTURES), hint=hint))
    return names


def add_requirement(meta: Dict[str, Any], requirement: str) -> None:
    """Add `requirement` to meta["requirements"] unless its package is there:
    `spacy package` keeps these and adds the libraries the config names
    (spacy-transformers, spacy-cluener), but cannot know that the ONNX
    transformer imports onnxruntime (an extra of spacy-cluener)."""
    requirements = list(meta.get("requirements") or [])
    name = split_requirement(requirement)[0]
    if name not in (split_requirement(req)[0] for req in requirements):
        requirements.append(requirement)
    meta["requirements"] = requirements


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def quantize(model: Union[str, Path], output: Union[str, Path], engine: str = "auto",
             runtime: str = "torch") -> Dict[str, Any]:
    """Write `model`'s pipeline with int8 transformer weights to `output`.

    model (Union[str, Path]): a trained pipeline directory with a
        `transformer` component (spacy-transformers.TransformerModel.v1-v3).
    output (Union[str, Path]): the new pipeline directory; must not exist.
    engine (str): the int8 kernels, saved in the config: "auto" (resolved
        where the pipeline loads), "x86", "fbgemm" or "onednn" (runtime "torch" only).
    runtime (str): "torch" (PyTorch's int8 Linear layers) or "onnx" (onnxruntime).
    RETURNS (Dict[str, Any]): the components converted and the sizes on disk
        (bytes) of each one's weights and of both directories.
    """
    model, output = Path(model), Path(output)
    if output.exists() or output.is_symlink():
        raise ValueError(Errors.E077.format(path=output))
    check_cpu(get_torch_default_device())
    if runtime not in RUNTIMES:
        raise ValueError(Errors.E076.format(problem=f"runtime {runtime!r} is not one of {', '.join(RUNTIMES)}"))
    if runtime == "onnx" and engine != "auto":
        raise ValueError(Errors.E076.format(problem=f"engine {engine!r} chooses torch's int8 kernels, and runtime "
                                                    "'onnx' runs onnxruntime's: leave --engine out with --runtime onnx"))
    if runtime == "onnx":
        from .layers.onnx_shim import import_onnxruntime

        import_onnxruntime()
        resolved = None
    else:
        check_int8_available()
        resolved = resolve_engine(engine)
    if not (model / "config.cfg").is_file():
        # spaCy's own message for a path that is not a pipeline directory
        raise OSError(f"[E050] Can't find model '{model}': quantize reads a pipeline directory (with config.cfg).")
    names = transformer_components(model)
    # the saved fp32 weights load into the int8 architecture, which quantises them
    overrides = {}
    for name in names:
        if runtime == "onnx":
            overrides[f"components.{name}.model.@architectures"] = ONNX_ARCHITECTURE
        else:
            overrides[f"components.{name}.model.@architectures"] = ARCHITECTURE
            overrides[f"components.{name}.model.engine"] = engine
    nlp = spacy.load(model, config=overrides)
    if runtime == "onnx":
        add_requirement(nlp.meta, ONNX_REQUIREMENT)
    output.parent.mkdir(parents=True, exist_ok=True)
    # written beside OUTPUT, then renamed: an interrupted run leaves no half pipeline
    tmp = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.", suffix=".partial"))
    # mkdtemp makes the directory 0700; the pipeline gets what mkdir would give it
    os.chmod(tmp, 0o777 & ~current_umask())
    try:
        nlp.to_disk(tmp)
        os.replace(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {
        "model": str(model),
        "output": str(output),
        "components": names,
        "runtime": runtime,
        "engine": engine if runtime == "torch" else None,
        "engine_here": resolved,
        "weights_bytes": {name: {"fp32": (model / name / "model").stat().st_size,
                                 "int8": (output / name / "model").stat().st_size} for name in names},
        "pipeline_bytes": {"fp32": dir_size(model), "int8": dir_size(output)},
    }
