"""Throughput of `annotate` next to `nlp.pipe`, and memory against the
number of records: the parts of scripts/annotate_cost.py."""
import json
import os
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import spacy

from spacy_cluener.annotation import annotate
from spacy_cluener.evaluation.confidence import enable_scores

from .data import SHARED

CLUENER_TRAIN = SHARED / "data" / "cluener2020" / "train.json"


def write_records(path: Path, n: int) -> List[str]:
    """n records `{"id": i, "text": ...}` from CLUENER train, cycled when n is
    larger than the file (10,748 records). RETURNS (List[str]): the texts."""
    with open(CLUENER_TRAIN, encoding="utf-8") as handle:
        source = [json.loads(line)["text"] for line in handle if line.strip()]
    texts = [source[i % len(source)] for i in range(n)]
    with open(path, "w", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            out.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
    return texts


def loadavg() -> List[float]:
    return [round(x, 2) for x in os.getloadavg()]


def bench_pipe(model: str, texts: List[str], batch_size: int, n_process: int) -> dict:
    """nlp.pipe over the texts (scores on, as annotate), the model loaded and
    warmed up before the clock starts. With n_process > 1 the startup (fork,
    hand-over, join) is measured apart on two texts, and `steady` leaves it out."""
    nlp = spacy.load(model)
    enable_scores(nlp)
    list(nlp.pipe(texts[:64], batch_size=batch_size))  # warm-up, untimed
    startup = 0.0
    if n_process > 1:
        start = time.perf_counter()
        list(nlp.pipe(texts[:2], batch_size=batch_size, n_process=n_process))
        startup = time.perf_counter() - start
    load = loadavg()
    start, cpu = time.perf_counter(), _cpu_seconds()
    for _ in nlp.pipe(texts, batch_size=batch_size, n_process=n_process):
        pass
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    chars = sum(len(t) for t in texts)
    return {
        "seconds": seconds,
        "chars_per_s": chars / seconds,
        "steady_chars_per_s": chars / max(seconds - startup, 1e-9),
        "startup_s": startup,
        # characters per CPU second of all its processes: about its speed alone on an idle core
        "chars_per_cpu_s": chars / cpu,
        "loadavg_before": load,
        "loadavg_after": loadavg(),
    }


def bench_annotate(model: str, inputs: List[str], out_dir: Path, **kwargs) -> dict:
    """One `annotate` run into a fresh directory. Besides the end-to-end
    rate (model loading, Ray actors, shutdown included) the steady rate:
    the characters of the shards finished after the first one, over the time
    from the first to the last; and the startup: the time until the first
    shard started computing (its finish time minus its own seconds)."""
    finished: List[tuple] = []
    load = loadavg()
    start, driver_cpu = time.perf_counter(), time.process_time()
    result = annotate(model, inputs, out_dir, on_shard=lambda e: finished.append((time.perf_counter(), e)), **kwargs)
    end, driver_cpu = time.perf_counter(), time.process_time() - driver_cpu
    chars = result.manifest["chars"]
    t_first, first = finished[0]
    after = [e["chars"] for t, e in finished[1:]]
    steady = sum(after) / (finished[-1][0] - t_first) if len(finished) > 1 else None
    busy: Dict[str, List[float]] = {}
    for _, entry in finished:
        busy.setdefault(entry["worker"], [0.0, 0.0, 0.0])
        busy[entry["worker"]][0] += entry["chars"]
        busy[entry["worker"]][1] += entry["seconds"]
        busy[entry["worker"]][2] += entry["cpu_seconds"]
    return {
        "seconds": end - start,
        "chars_per_s": chars / (end - start),
        "steady_chars_per_s": steady,
        "startup_s": t_first - start - first["seconds"],
        "after_last_shard_s": end - finished[-1][0],
        # per worker process: characters / seconds spent annotating (no scheduling gaps)
        "per_worker_busy_chars_per_s": sorted(c / s for c, s, _ in busy.values()),
        # characters per CPU second spent annotating shards, each worker: its speed alone on an idle core
        "per_worker_chars_per_cpu_s": sorted(c / cpu for c, _, cpu in busy.values()),
        "chars_per_cpu_s": chars / sum(cpu for _, _, cpu in busy.values()),
        # CPU seconds of this process (for Ray: the driver's scheduling loop; local: all the work)
        "driver_cpu_s": driver_cpu,
        "shards": len(finished),
        "workers_seen": len(busy),
        "loadavg_before": load,
        "loadavg_after": loadavg(),
    }


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have been waited
    for (nlp.pipe(n_process) joins its workers before it returns)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class RssSampler:
    """Peak resident memory, sampled from /proc every `interval` seconds: of
    this process, and of each Ray Data actor (`ray::MapWorker...` processes)."""

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.driver_peak = 0
        self.worker_peak: Dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            self.driver_peak = max(self.driver_peak, _rss(me) or 0)
            for pid in _ray_worker_pids():
                rss = _rss(pid)
                if rss:
                    self.worker_peak[pid] = max(self.worker_peak.get(pid, 0), rss)
            self._stop.wait(self.interval)

    def summary(self) -> dict:
        workers = sorted(self.worker_peak.values(), reverse=True)
        return {
            "driver_peak_rss_mb": round(self.driver_peak / 2**20, 1),
            "worker_peak_rss_mb": [round(w / 2**20, 1) for w in workers[:8]],
        }


def _rss(pid: int) -> Optional[int]:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _ray_worker_pids() -> List[int]:
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        # the actors of map_batches, of this process's own cluster (raylet's parent is this
        # process), not of another Ray on the same machine
        if cmdline.startswith(b"ray::MapWorker") and _ppid(_ppid(int(name))) == os.getpid():
            pids.append(int(name))
    return pids


def _ppid(pid: Optional[int]) -> Optional[int]:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def bench_memory(model: str, path: Path, out_dir: Path, run: Callable[..., dict], **kwargs) -> dict:
    with RssSampler() as sampler:
        timing = run(model, [str(path)], out_dir, **kwargs)
    return {**sampler.summary(), "seconds": timing["seconds"], "chars_per_s": timing["chars_per_s"]}
