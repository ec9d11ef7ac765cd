"""Throughput of `annotate` on one machine: nlp.pipe, nlp.pipe(n_process=2),
`--engine local` and `--engine ray --workers 1/2`, same records, one process.

    python scripts/annotate_cost.py MODEL --output benchmarks/annotate.json [--n-records N]
        [--shard-size K] [--memory-records 20000,200000] [--quick]

Records: CLUENER train texts (cycled past its 10,748 records), as JSON lines
with ids. Scores are on everywhere (annotate's default). One torch thread
per process (set before anything forks), the model loaded before the clock
starts for nlp.pipe; annotate's end-to-end time includes loading the model
in each worker and, for Ray, starting the actors (the local cluster is
started once, its `ray.init` timed apart, and shared by the two Ray runs).
Each figure comes with the load average before and after it: on a shared
machine the speeds move with the other jobs. `--memory-records` adds peak
RSS of the driver and of each worker against the number of records
(`--engine local` and `--engine ray --workers 2`). Nothing is asserted.
"""
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import spacy
import torch
import typer

from bench.annotate import bench_annotate, bench_memory, bench_pipe, loadavg, write_records
from spacy_cluener.cli import run_script


def main(
    model: str = typer.Argument(..., help="Pipeline directory or package (e.g. a CNN model trained with configs/cnn_crf.cfg)"),
    output: Path = typer.Option(..., "--output", "-o", help="JSON file for the results"),
    n_records: int = typer.Option(6000, "--n-records", min=1),
    shard_size: int = typer.Option(200, "--shard-size", min=1),
    batch_size: int = typer.Option(256, "--batch-size", min=1),
    memory_records: str = typer.Option("", "--memory-records", help="Comma-separated record counts for the memory runs"),
    quick: bool = typer.Option(False, "--quick", help="A few hundred records, for CI"),
    throughput: bool = typer.Option(True, "--throughput/--no-throughput", help="--no-throughput: only the memory runs"),
    memory_one_spec: str = typer.Option("", "--memory-one", hidden=True, help="ENGINE:FILE: one memory run (internal)"),
):
    torch.set_num_threads(1)  # before any fork (nlp.pipe(n_process=2)) or Ray worker
    if memory_one_spec:
        return memory_one(model, memory_one_spec, output, dict(shard_size=shard_size, batch_size=batch_size))
    if quick:
        n_records, shard_size = min(n_records, 300), min(shard_size, 50)
    import ray

    result = {"machine": machine_info(model), "settings": {
        "n_records": n_records, "shard_size": shard_size, "batch_size": batch_size, "quick": quick}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        records = tmp_path / "records.jsonl"
        texts = write_records(records, n_records)
        result["settings"]["chars"] = sum(len(t) for t in texts)
        runs = result["runs"] = {}
        common = dict(shard_size=shard_size, batch_size=batch_size)
        if throughput:
            runs["nlp.pipe"] = bench_pipe(model, texts, batch_size, n_process=1)
            report("nlp.pipe", runs["nlp.pipe"])
            runs["nlp.pipe(n_process=2)"] = bench_pipe(model, texts, batch_size, n_process=2)
            report("nlp.pipe(n_process=2)", runs["nlp.pipe(n_process=2)"])
            runs["annotate --engine local"] = bench_annotate(model, [str(records)], tmp_path / "local", **common)
            report("annotate --engine local", runs["annotate --engine local"])
            start = time.perf_counter()
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False)
            result["ray_init_s"] = time.perf_counter() - start
            try:
                for workers in (1, 2):
                    key = f"annotate --engine ray --workers {workers}"
                    runs[key] = bench_annotate(model, [str(records)], tmp_path / f"ray{workers}", engine="ray",
                                               workers=workers, **common)
                    report(key, runs[key])
            finally:
                ray.shutdown()
        if memory_records:
            result["memory"] = memory(model, tmp_path, [int(n) for n in memory_records.split(",")], common)
    if throughput:
        result["ratios"] = ratios(runs)
    result["machine"]["loadavg_end"] = loadavg()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf8")
    print_table(result)
    print(f"Wrote {output}")


def memory(model: str, tmp_path: Path, counts, common: dict) -> dict:
    """Peak RSS against the number of records, each run in a fresh process
    (a driver that ran another engine before would keep its memory)."""
    out = {}
    for n in counts:
        path = tmp_path / f"memory{n}.jsonl"
        write_records(path, n)
        for engine in ("local", "ray"):
            key = f"{engine} {n}"
            result_file = tmp_path / f"memory-{engine}-{n}.json"
            subprocess.run(
                [sys.executable, __file__, model, "--output", str(result_file), "--memory-one", f"{engine}:{path}",
                 "--shard-size", str(common["shard_size"]), "--batch-size", str(common["batch_size"])],
                check=True,
            )
            out[key] = {"records": n, **json.loads(result_file.read_text(encoding="utf8"))}
            print(f"memory {key}: {out[key]}", flush=True)
        path.unlink()
    return out


def memory_one(model: str, spec: str, output: Path, common: dict) -> None:
    """One memory run in this (fresh) process: ENGINE:RECORDS_FILE."""
    engine, path = spec.split(":", 1)
    kwargs = {"engine": "ray", "workers": 2} if engine == "ray" else {}
    result = bench_memory(model, Path(path), output.with_suffix(".out"), bench_annotate, **common, **kwargs)
    result["loadavg_end"] = loadavg()
    output.write_text(json.dumps(result) + "\n", encoding="utf8")


def ratios(runs: dict) -> dict:
    base = runs["nlp.pipe"]
    mp = runs["nlp.pipe(n_process=2)"]
    ray2 = runs["annotate --engine ray --workers 2"]
    def ratio(a, b):  # None where a speed is unknown (a steady speed needs more than one shard)
        return None if a is None or b is None else a / b

    out = {}
    for kind in ("chars_per_s", "steady_chars_per_s"):
        out[kind] = {
            "ray2_vs_pipe": ratio(ray2[kind], base[kind]),
            "ray2_vs_pipe_n_process_2": ratio(ray2[kind], mp[kind]),
            "local_vs_pipe": ratio(runs["annotate --engine local"][kind], base[kind]),
            "ray1_vs_pipe": ratio(runs["annotate --engine ray --workers 1"][kind], base[kind]),
        }
    steady = out["steady_chars_per_s"]
    out["goals_steady"] = {
        "ray2_vs_pipe>=1.6": None if steady["ray2_vs_pipe"] is None else steady["ray2_vs_pipe"] >= 1.6,
        "ray2_vs_pipe_n_process_2>=0.9": (None if steady["ray2_vs_pipe_n_process_2"] is None
                                          else steady["ray2_vs_pipe_n_process_2"] >= 0.9),
    }
    return out


def machine_info(model: str) -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    import ray

    meta = spacy.util.get_model_meta(model) if os.path.isdir(model) else {}
    return {"cpu_model": cpu, "cpu_cores": os.cpu_count(), "loadavg_start": loadavg(),
            "python": platform.python_version(), "torch": torch.__version__, "spacy": spacy.__version__,
            "ray": ray.__version__, "model": model, "model_name": meta.get("name"), "model_version": meta.get("version")}


def report(key: str, run: dict) -> None:
    print(f"{key}: {run['chars_per_s']:,.0f} chars/s end to end, {fmt(run['steady_chars_per_s'])} steady, "
          f"startup {run['startup_s']:.1f} s, load {run['loadavg_before'][0]} -> {run['loadavg_after'][0]}", flush=True)


def fmt(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:,.0f}"


def print_table(result: dict) -> None:
    print(f"{'':<36}{'chars/s':>10}{'steady':>10}{'startup s':>11}{'load':>12}")
    for key, run in result["runs"].items():
        load = f"{run['loadavg_before'][0]}-{run['loadavg_after'][0]}"
        print(f"{key:<36}{run['chars_per_s']:>10,.0f}{fmt(run['steady_chars_per_s']):>10}{run['startup_s']:>11.1f}{load:>12}")
    if "ray_init_s" in result:
        print(f"ray.init: {result['ray_init_s']:.1f} s")
    for kind, values in result.get("ratios", {}).items():
        print(kind, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in values.items()})


if __name__ == "__main__":
    sys.exit(run_script(main))
