"""torch module -> ONNX graph, and onnxruntime's int8 quantisation of it:
the one way `quantize --runtime onnx` (onnx_shim.py) and the CNN tok2vec's
graph (onnx_tok2vec.py) make their graphs. Needs onnx (and onnxruntime for
int8); torch is imported here, not by the modules that only run graphs."""
import warnings
from pathlib import Path
from typing import Dict, List, Sequence

import numpy

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


def quantize_graph(src: Path, dst: Path, per_row: bool = False) -> Path:
    """onnxruntime's dynamic quantisation of `src`'s MatMul weights (QInt8), to
    `dst`; with `per_row`, each row of a MatMul's (2-d) input quantised on its
    own (`quantize_rows`)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with quiet_root_logger():  # onnxruntime's quantiser logs a warning per tensor it skips
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
    if per_row:
        import onnx

        model = onnx.load(str(dst))
        quantize_rows(model)
        onnx.save(model, str(dst))
    return dst


def quantize_rows(model) -> None:
    """Rewrite each `DynamicQuantizeLinear` -> `MatMulInteger` of
    onnxruntime's dynamic quantisation, in place, to quantise every row of the
    MatMul's input with its own range instead of the whole input's.

    Why: with one range for the whole input, a row's result depends on the
    other rows: a doc's vectors on the docs batched with it, and its entities
    on the batch size. Per row they do not, and each row's range is tighter
    (about half the error against fp32 on the CNN tok2vec). A row x becomes
    x_q = round(x / s) + z (uint8; s, z from its min and max, 0 included, as
    DynamicQuantizeLinear does for the whole input); the MatMul runs with a
    zero point of 0 (what onnxruntime's fused kernel takes: per-row zero
    points are not supported) and s * z * colsum(W) is subtracted after it.
    A row is a vector of the last axis: an input of more axes (a
    transformer's batch x length x width) is flattened to rows around the
    MatMul and its output given back the input's leading axes.
    """
    from onnx import TensorProto, helper, numpy_helper, shape_inference

    graph = model.graph
    inferred = shape_inference.infer_shapes(model).graph
    ranks = {v.name: len(v.type.tensor_type.shape.dim) for v in [*inferred.input, *inferred.value_info]}
    init = {t.name: t for t in graph.initializer}
    consumers: Dict[str, List] = {}
    producers = {name: node for node in graph.node for name in node.output}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    const = {"zero": (0.0, "float32"), "levels": (255.0, "float32"), "tiny": (1e-12, "float32"),
             "axis1": ([1], "int64"), "zero_u8": (0, "uint8"), "start": ([0], "int64"), "last": ([-1], "int64")}
    nodes, corrections = [], {}
    for node in graph.node:
        if node.op_type != "DynamicQuantizeLinear":
            nodes.append(node)
            continue
        x, (x_q, x_scale, x_zero) = node.input[0], node.output
        rank = ranks.get(x)
        if rank is None or rank < 2:
            raise ValueError(f"quantize_rows needs the rank of each quantised MatMul's input: {x!r} has {rank}")
        p = f"{x}_per_row"
        out_shape = None
        if rank > 2:
            # rows = every vector of the last axis; each output gets x's leading axes back
            first = next(c for c in consumers[x_q] if c.op_type == "MatMulInteger")
            width = int(numpy_helper.to_array(init[first.input[1]]).shape[0])
            graph.initializer.append(numpy_helper.from_array(numpy.array([-1, width], "int64"), p + "_2d"))
            nodes += [
                helper.make_node("Shape", [x], [p + "_in_shape"]),
                helper.make_node("Slice", [p + "_in_shape", "per_row_start", "per_row_last"], [p + "_lead"]),
                helper.make_node("Reshape", [x, p + "_2d"], [p + "_rows"]),
            ]
            x = p + "_rows"
        nodes += [
            helper.make_node("ReduceMax", [x], [p + "_max0"], axes=[1], keepdims=0),
            helper.make_node("ReduceMin", [x], [p + "_min0"], axes=[1], keepdims=0),
            helper.make_node("Max", [p + "_max0", "per_row_zero"], [p + "_max"]),
            helper.make_node("Min", [p + "_min0", "per_row_zero"], [p + "_min"]),
            helper.make_node("Sub", [p + "_max", p + "_min"], [p + "_range0"]),
            helper.make_node("Max", [p + "_range0", "per_row_tiny"], [p + "_range"]),
            helper.make_node("Div", [p + "_range", "per_row_levels"], [p + "_s"]),
            helper.make_node("Div", [p + "_min", p + "_s"], [p + "_z0"]),
            helper.make_node("Neg", [p + "_z0"], [p + "_z1"]),
            helper.make_node("Round", [p + "_z1"], [p + "_z"]),
            helper.make_node("Cast", [p + "_z"], [p + "_z_u8"], to=TensorProto.UINT8),
            helper.make_node("QuantizeLinear", [x, p + "_s", p + "_z_u8"], [x_q], axis=0),
            helper.make_node("Unsqueeze", [p + "_s", "per_row_axis1"], [x_scale]),
            helper.make_node("Identity", ["per_row_zero_u8"], [x_zero]),
            helper.make_node("Mul", [p + "_s", p + "_z"], [p + "_sz0"]),
            helper.make_node("Unsqueeze", [p + "_sz0", "per_row_axis1"], [p + "_sz"]),
        ]
        # every MatMul of this input (a transformer's Q, K and V share one): its own correction
        for k, matmul in enumerate(c for c in consumers[x_q] if c.op_type == "MatMulInteger"):
            (cast,) = consumers[matmul.output[0]]
            (out_mul,) = consumers[cast.output[0]]
            scale_mul = producers.get(out_mul.input[1])
            if cast.op_type != "Cast" or out_mul.op_type != "Mul" or scale_mul is None or scale_mul.op_type != "Mul":
                raise ValueError(f"unexpected quantised MatMul around {x!r}: {cast.op_type} -> {out_mul.op_type}")
            w = numpy_helper.to_array(init[matmul.input[1]]).astype("int64")
            w -= numpy_helper.to_array(init[matmul.input[3]]).astype("int64")
            w_scale = numpy_helper.to_array(init[scale_mul.input[1]])
            q = f"{p}_{k}"
            graph.initializer.append(numpy_helper.from_array((w.sum(0) * w_scale).astype("float32")[None, :],
                                                             q + "_colsum"))
            nodes.append(helper.make_node("Mul", [p + "_sz", q + "_colsum"], [q + "_correction"]))
            shape = None
            if rank > 2:
                graph.initializer.append(numpy_helper.from_array(numpy.array([w.shape[1]], "int64"), q + "_width"))
                nodes.append(helper.make_node("Concat", [p + "_lead", q + "_width"], [q + "_out_shape"], axis=0))
                shape = q + "_out_shape"
            corrections[out_mul.output[0]] = (q + "_correction", shape)
    # the shared constants the new nodes read (onnxruntime warns of an unused initializer)
    used = {name for node in nodes for name in node.input}
    graph.initializer.extend(numpy_helper.from_array(numpy.array(v, dtype=t), f"per_row_{k}")
                             for k, (v, t) in const.items() if f"per_row_{k}" in used)
    rewritten = []
    for node in nodes:
        rewritten.append(node)
        for i, name in enumerate(node.output):
            if name in corrections:
                correction, out_shape = corrections[name]
                node.output[i] = name + "_before_zero_points"
                if out_shape is None:
                    rewritten.append(helper.make_node("Sub", [node.output[i], correction], [name]))
                else:
                    rewritten.append(helper.make_node("Sub", [node.output[i], correction], [name + "_rows"]))
                    rewritten.append(helper.make_node("Reshape", [name + "_rows", out_shape], [name]))
    del graph.node[:]
    graph.node.extend(rewritten)
