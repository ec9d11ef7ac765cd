"""int8 weights for a Hugging Face transformer on CPU (the torch side of
`spacy_cluener.QuantizedTransformerModel.v1` and `.v2`).

PyTorch's dynamic quantisation: every `nn.Linear` (BERT's attention,
feed-forward and pooler matrices, about 85 % of BERT-base's weights) keeps its
weights as int8 with one scale per matrix and quantises its input on the fly,
so the matrix products run as int8 GEMMs (fbgemm / oneDNN). The embeddings stay
float32 in memory; on disk the input embedding matrix (21,128 × 768 for
chinese-bert-wwm-ext) is stored as float16, which halves the biggest weight
that int8 does not cover. Inference only: quantised layers have no gradient.
"""
import warnings
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Iterator, Optional

import torch

from ..errors import Errors

# Bumped when the saved state changes; a pipeline states the one it was saved with.
STATE_FORMAT = 1
# The int8 kernels a quantised Linear can be packed for; "auto" picks one for
# the CPU that loads the pipeline (resolve_engine).
ENGINES = ("auto", "x86", "fbgemm", "onednn")
# /proc/cpuinfo flags of int8 dot-product instructions: AVX-512 VNNI, AVX-VNNI, AMX
INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


def check_int8_available() -> None:
    """Raise E076 when this torch cannot run dynamically quantised Linear
    layers: no `torch.ao.quantization.quantize_dynamic` (deprecated since
    torch 2.8 in favour of torchao, still present in 2.13), or no quantized
    engine for this CPU."""
    quantization = getattr(getattr(torch, "ao", None), "quantization", None)
    if quantization is None or not hasattr(quantization, "quantize_dynamic"):
        raise ValueError(Errors.E076.format(
            problem=f"torch {torch.__version__} has no torch.ao.quantization.quantize_dynamic"))
    engines = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    if not engines:
        raise ValueError(Errors.E076.format(problem=f"torch {torch.__version__} has no quantized engine on this CPU"))


def cpu_int8_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> "tuple[str, ...]":
    """The int8 dot-product instructions this CPU lists (Linux; none elsewhere)."""
    try:
        text = cpuinfo.read_text(encoding="utf8", errors="replace")
    except OSError:
        return ()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return tuple(f for f in INT8_DOT_FLAGS if f in flags)
    return ()


def resolve_engine(engine: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The quantized engine to pack the int8 weights for.

    "auto" is oneDNN on a CPU with int8 dot-product instructions, where its
    int8 GEMMs were measured fastest (docs/transformer.md), and torch's own
    default engine elsewhere; any other name must be an engine this torch
    supports (E076 names them).
    """
    supported = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    if engine not in ENGINES:
        raise ValueError(Errors.E076.format(problem=f"engine {engine!r} is not one of {', '.join(ENGINES)}"))
    if engine == "auto":
        if "onednn" in supported and cpu_int8_flags(cpuinfo):
            return "onednn"
        return torch.backends.quantized.engine
    if engine not in supported:
        raise ValueError(Errors.E076.format(
            problem=f"engine {engine!r} is not supported by torch {torch.__version__} on this CPU "
                    f"(supported: {', '.join(supported) or 'none'}); use engine 'auto'"))
    return engine


@contextmanager
def quantized_engine(engine: str) -> Iterator[str]:
    """Pack int8 weights for `engine` (resolved) inside the block, and give
    torch's process-wide setting back after it: a packed Linear keeps its
    engine's kernels whatever the setting is when it runs."""
    resolved = resolve_engine(engine)
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = resolved
    try:
        yield resolved
    finally:
        torch.backends.quantized.engine = previous


def check_cpu(device: torch.device) -> None:
    """Raise E076 for a GPU: quantised Linear layers run on CPU only."""
    if device.type != "cpu":
        raise ValueError(Errors.E076.format(
            problem=f"torch's default device is {device} (spacy.require_gpu / prefer_gpu / --gpu-id), and "
                    "int8 Linear layers run on CPU only; load it without a GPU, or use the fp32 pipeline on a GPU"))


def quantize_linear(module: torch.nn.Module, engine: Optional[str] = None) -> torch.nn.Module:
    """Replace every nn.Linear of `module` with an int8 dynamic one, in place.
    engine (Optional[str]): the kernels to pack for (ENGINES); None: torch's
        current engine (what QuantizedTransformerModel.v1 does).
    RETURNS (nn.Module): `module` itself (the references to it stay valid)."""
    check_int8_available()
    if engine is not None:
        with quantized_engine(engine):
            return quantize_linear(module)
    with warnings.catch_warnings():
        # torch >= 2.8 announces the move of torch.ao.quantization to torchao, and
        # of quantised tensor creation, on every call: said once in docs/transformer.md
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.ao")
        warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization is deprecated")
        warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions")
        module.eval()
        return torch.ao.quantization.quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def is_quantized(module: Optional[torch.nn.Module]) -> bool:
    """Whether `module` holds int8 dynamic Linear layers."""
    if module is None:
        return False
    dynamic = torch.ao.nn.quantized.dynamic.Linear
    return any(isinstance(m, dynamic) for m in module.modules())


def _input_embedding_key(module: torch.nn.Module) -> Optional[str]:
    """The state-dict key of the input embedding matrix (None if the model has none)."""
    get = getattr(module, "get_input_embeddings", None)
    embeddings = get() if get is not None else None
    weight = getattr(embeddings, "weight", None)
    if weight is None:
        return None
    for key, value in module.state_dict(keep_vars=True).items():
        if value is weight:
            return key
    return None


def state_to_bytes(module: torch.nn.Module) -> bytes:
    """The state of a quantised `module`: int8 Linear weights as torch packs
    them, the input embedding matrix as float16, everything else as it is."""
    # the module's own (fresh) dict, changed in place: its _metadata holds the
    # modules' versions, without which the quantised Linear reads another layout
    state = module.state_dict()
    key = _input_embedding_key(module)
    if key is not None and isinstance(state[key], torch.Tensor) and state[key].is_floating_point():
        state[key] = state[key].to(torch.float16)
    filelike = BytesIO()
    torch.save(state, filelike)
    return filelike.getvalue()

