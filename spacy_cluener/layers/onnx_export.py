"""torch module -> ONNX graph, and onnxruntime's int8 quantisation of it:
the one way `quantize --runtime onnx` (onnx_shim.py) and the CNN tok2vec's
graph (onnx_tok2vec.py) make their graphs. Needs onnx (and onnxruntime for
int8); torch is imported here, not by the modules that only run graphs."""
import warnings
from pathlib import Path
from typing import Dict, Sequence

from ..util import quiet_root_logger

OPSET = 17


def export_graph(module, args: tuple, path: Path, input_names: Sequence[str], output_names: Sequence[str],
                 dynamic_axes: Dict[str, Dict[int, str]]) -> Path:
    """Write `module` traced on `args` to `path` (TorchScript exporter, opset 17)."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's tracer and deprecation notices
        torch.onnx.export(module, args, str(path), input_names=list(input_names), output_names=list(output_names),
                          opset_version=OPSET, dynamo=False, dynamic_axes=dynamic_axes)
    return path


def quantize_graph(src: Path, dst: Path) -> Path:
    """onnxruntime's dynamic quantisation of `src`'s MatMul weights (QInt8), to `dst`."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with quiet_root_logger():  # onnxruntime's quantiser logs a warning per tensor it skips
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
    return dst
