"""The Ray engine: shards as a Ray Data dataset, annotated by an actor pool.

`ray.data.from_items` holds one row per pending shard (the descriptor, a
few hundred bytes), one block per row, and `map_batches(RayShardWorker,
batch_size=1, compute=ActorPoolStrategy(size=N))` runs N actors. Each actor
loads the pipeline once in its constructor, from a directory path or an
installed package name (never through the object store: a loaded `nlp`
there hits spaCy #13506, "buffer source array is read-only"), annotates a
whole shard per call, writes the shard file itself and returns its summary
as one JSON string. The driver iterates over the summaries as they stream
in and records each one.

Faults: Ray Data creates its actors with `max_restarts=-1` and
`max_task_retries=-1` (ray/data/_internal/execution/operators/
actor_pool_map_operator.py, `_apply_default_remote_args`): a worker process
that dies is restarted (the pipeline is loaded again) and its shard is
retried, however often that happens. An exception raised by the worker code
itself is not retried and fails the run (finished shards stay recorded).

Without Ray installed this module is never imported by the package; asking
for `--engine ray` then stops with one line (E034).
"""
import json
import logging
import os
import socket
from contextlib import contextmanager
from dataclasses import asdict
from typing import Dict, Iterator, List, Optional

from ..errors import Errors
from .inputs import AnnotationError, Shard
from .worker import ShardAnnotator, WorkerSettings

try:
    import ray
    import ray.data
except ImportError:  # the optional extra: pip install -e ".[ray]"
    ray = None

# seconds to wait for a TCP connection to --address before giving up
CONNECT_TIMEOUT = 10.0


class RayShardWorker:
    """The Ray Data callable class: one per actor, one pipeline per process."""

    def __init__(self, settings: dict, num_gpus: float = 0.0):
        import torch

        # one CPU per actor (num_cpus=1): one torch thread, as for nlp.pipe(n_process)
        torch.set_num_threads(1)
        if num_gpus:
            import spacy

            spacy.require_gpu(0)  # Ray sets CUDA_VISIBLE_DEVICES to this actor's GPU(s)
        self.annotator = ShardAnnotator(WorkerSettings(**settings))

    def __call__(self, batch: Dict[str, list]) -> Dict[str, list]:
        return {"summary": [json.dumps(self.annotate(json.loads(s))) for s in batch["shard"]]}

    def annotate(self, shard: dict) -> dict:
        return self.annotator.annotate(Shard.from_dict(shard))


def require_ray():
    if ray is None:
        raise AnnotationError(Errors.E034)
    return ray


def run_ray(
    shards: List[Shard],
    settings: WorkerSettings,
    *,
    workers: Optional[int] = None,
    address: Optional[str] = None,
    num_gpus: float = 0.0,
    worker_class: type = RayShardWorker,
) -> Iterator[dict]:
    """Annotate `shards` on Ray; yields each shard's entry as it finishes
    (in any order). Connects to `address` ("auto", "HOST:PORT",
    "ray://HOST:10001"), or uses the Ray of this process if it is already
    initialized, or starts a local cluster (one CPU per worker at least),
    which it shuts down at the end.

    workers (Optional[int]): actors in the pool; None: one per CPU of the cluster.
    num_gpus (float): GPUs per actor (0: CPU).
    """
    require_ray()
    if not shards:
        return
    started = False
    try:
        if not ray.is_initialized():
            if address:
                check_reachable(address)
                ray.init(address=address)
            else:
                ray.init(num_cpus=max(workers or 0, os.cpu_count() or 1), include_dashboard=False)
            started = True
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        items = [{"shard": json.dumps(s.to_dict())} for s in shards]
        with _quiet_ray_data():
            dataset = ray.data.from_items(items, override_num_blocks=len(items))
            annotated = dataset.map_batches(
                worker_class,
                batch_size=1,
                compute=ray.data.ActorPoolStrategy(size=min(workers, len(shards))),
                fn_constructor_kwargs={"settings": asdict(settings), "num_gpus": num_gpus},
                num_cpus=1,
                num_gpus=num_gpus or None,
            )
            for row in annotated.iter_rows():
                yield json.loads(row["summary"])
    except AnnotationError:
        raise
    except Exception as err:  # a worker's exception, a cluster that went away: one line for the CLI
        raise AnnotationError(Errors.E035.format(error=_first_line(err))) from err
    finally:
        if started:
            ray.shutdown()


def check_reachable(address: str, seconds: float = CONNECT_TIMEOUT) -> None:
    """Fail in `seconds` on a HOST:PORT (or ray://HOST:PORT) nobody listens
    on: `ray.init` retries such an address for minutes without a word.
    "auto" and addresses without a port are left to Ray, which finds (or
    fails to find) a local cluster at once.

    RAISES (AnnotationError): E058.
    """
    target = address.split("://", 1)[-1]
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=seconds).close()
    except OSError as err:
        problem = "timed out" if isinstance(err, socket.timeout) else (err.strerror or str(err))
        raise AnnotationError(Errors.E058.format(address=address, problem=problem, seconds=seconds)) from None


@contextmanager
def _quiet_ray_data() -> Iterator[None]:
    """The driver draws its own bar: no Ray Data bars, no execution plan
    printed at the start of the run, no warning that the bars are off; the
    settings are put back afterwards (they are global to the process)."""
    context = ray.data.DataContext.get_current()
    names = [n for n in ("enable_progress_bars", "print_on_execution_start") if hasattr(context, n)]
    saved = {n: getattr(context, n) for n in names}  # print_on_execution_start: newer Ray only
    progress_logger = logging.getLogger("ray.data._internal.progress")
    level = progress_logger.level
    for name in names:
        setattr(context, name, False)
    progress_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(context, name, value)
        progress_logger.setLevel(level)


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    # RayTaskError messages end with the original exception's "Type: message";
    # E035 puts its own full stop after it ("... or retrain.. The shards")
    return lines[-1].rstrip(".") if lines else type(err).__name__
