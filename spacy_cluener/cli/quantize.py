"""`quantize`: a trained transformer pipeline -> int8 BERT for CPU serving."""
from pathlib import Path

import typer

from ..quantization import quantize
from ._app import Arg, Opt, app


@app.command("quantize")
def quantize_cli(
    model: Path = Arg(..., help="Trained transformer pipeline directory (e.g. training/trf_crf/model-best)",
                      exists=True, file_okay=False),
    output: Path = Arg(..., help="New pipeline directory to write (must not exist)"),
    engine: str = Opt("auto", "--engine", help="int8 kernels: auto (oneDNN on a CPU with AVX-512 VNNI, "
                      "AVX-VNNI or AMX, torch's default elsewhere; chosen where the pipeline loads), x86, "
                      "fbgemm or onednn"),
    runtime: str = Opt("torch", "--runtime", help="torch (int8 Linear layers) or onnx (BERT exported to ONNX, "
                       "int8 by onnxruntime; needs pip install spacy-cluener[onnx])"),
):
    """Write MODEL with its BERT's Linear layers as int8 (PyTorch dynamic
    quantisation, CPU only) and its input embeddings stored as float16:
    about 1/3 of the size on disk. The CRF head and every other component
    are unchanged. OUTPUT loads with spacy.load and packages like any
    pipeline (scripts/package.py); it runs on CPU and is for inference only.
    With --runtime onnx, BERT is exported to ONNX and run by onnxruntime,
    int8 by onnxruntime's own quantisation (docs/transformer.md: where each
    is faster).
    """
    result = quantize(model, output, engine=engine, runtime=runtime)
    for name, sizes in result["weights_bytes"].items():
        typer.echo(f"{name}: {sizes['fp32'] / 1e6:,.1f} MB fp32 -> {sizes['int8'] / 1e6:,.1f} MB int8 "
                   f"({sizes['int8'] / sizes['fp32']:.2f}x)")
    sizes = result["pipeline_bytes"]
    if result["runtime"] == "onnx":
        typer.echo("int8 BERT: ONNX Runtime")
    else:
        typer.echo(f"int8 kernels: {result['engine']} (here: {result['engine_here']})")
    typer.echo(f"Wrote {output}: {sizes['int8'] / 1e6:,.1f} MB ({sizes['int8'] / sizes['fp32']:.2f}x the "
               f"{sizes['fp32'] / 1e6:,.1f} MB of {model})")
