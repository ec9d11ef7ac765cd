"""A result file: spaCy's evaluate JSON plus how it was made (the CPU model,
the thread count, the commit and the command), so that a table built from it
can say where each figure comes from."""
import json
import platform
import subprocess
from pathlib import Path
from typing import Dict, Optional, Sequence

REPO = Path(__file__).resolve().parents[3]


def cpu_model() -> str:
    """`lscpu`'s "Model name" (e.g. "AMD EPYC"), else platform's processor,
    with the CPU family and model where lscpu gives them and the vector
    instructions that change the arithmetic (the widest of AVX2 / AVX-512,
    and int8 dot products: VNNI, AMX), e.g. "AMD EPYC, family 25 model 17
    (AVX-512, VNNI)": one model name covers CPUs whose kernels, and so whose
    timings and float rounding, differ."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        out = ""
    fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}
    name = fields.get("Model name") or platform.processor() or platform.machine()
    if fields.get("CPU family") and fields.get("Model"):
        name += f", family {fields['CPU family']} model {fields['Model']}"
    flags = set(fields.get("Flags", "").split())
    isa = ["AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else None,
           "VNNI" if flags & {"avx512_vnni", "avx_vnni"} else None, "AMX" if "amx_int8" in flags else None]
    isa = [x for x in isa if x]
    return f"{name} ({', '.join(isa)})" if isa else name


def commit() -> str:
    """The checkout's commit, with `+dirty` when tracked files differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def record(metrics: Dict, output: Path, command: Sequence[str], threads: int,
           extra: Optional[Dict] = None, commit_id: Optional[str] = None, cpu: Optional[str] = None) -> Dict:
    """Write `metrics` (spaCy evaluate's JSON) with a `run` block to `output`."""
    result = dict(metrics)
    result["run"] = {
        "cpu": cpu or cpu_model(),
        "threads": threads,
        "commit": commit_id or commit(),
        "command": list(command),
        **(extra or {}),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
    return result
