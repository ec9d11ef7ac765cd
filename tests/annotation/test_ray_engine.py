"""`annotate --engine ray` on a local Ray cluster (`ray.init(num_cpus=2)`,
one for the module): equal to nlp.pipe, bad records, Parquet in and out,
and exactly once when a worker process or the driver is killed."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spacy_cluener.annotation import annotate
from spacy_cluener.annotation.manifest import PROGRESS, SUCCESS
from spacy_cluener.cli import app

from ..util import assert_exactly_once, pipe_reference, prefix_file, shard_stats

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")
pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")

from spacy_cluener.annotation.ray_engine import RayShardWorker, run_ray  # noqa: E402

pytestmark = pytest.mark.slow  # a local Ray cluster, worker processes killed and restarted

KILL_DRIVER = Path(__file__).with_name("kill_driver.py")


@pytest.fixture(scope="module")
def ray_address():
    """One local cluster for the module (starting one costs ~10 s); the
    driver subprocesses connect to it with --address."""
    ray.init(num_cpus=2, include_dashboard=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def test_ray_equals_nlp_pipe_and_rejects_bad_records(ray_address, crf_model, cluener_file, cluener_reference, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(
        b'{"id": "g1", "text": "\xe5\xbc\xa0\xe4\xb8\x89\xe5\x9c\xa8\xe4\xb8\x8a\xe6\xb5\xb7"}\n'  # 张三在上海
        b'{"id": "b2", "text": "oops"\n'
        b"\n"
        b'["not", "an", "object"]\n'
        b'{"id": "b5", "text": "caf\xe9"}\n'
        b'{"id": "b6", "text": "' + "长".encode() * 300 + b'"}\n'
        b'{"text": "\xe7\x8e\x8b\xe4\xba\x94"}\n'  # 王五, no id
    )
    out = tmp_path / "out"
    result = annotate(
        str(crf_model), [str(cluener_file), str(bad)], out, engine="ray", workers=2, shard_size=250, max_length=200
    )
    expected = cluener_reference + pipe_reference(crf_model, ["张三在上海", "王五"], ["g1", f"{bad}:7"])
    manifest = assert_exactly_once(out, expected)
    assert result.annotated == result.shards == 9
    assert manifest["rejected"] == 4 and manifest["shards"][-1]["rejected"] == 4
    reasons = manifest["rejections"]
    assert [r.split(": ", 1)[0] for r in reasons] == [f"{bad}:2", f"{bad}:4", f"{bad}:5", f"{bad}:6"]
    assert "invalid JSON" in reasons[0] and "not a JSON object" in reasons[1]
    assert "not valid Unicode" in reasons[2] and "more than nlp.max_length (200)" in reasons[3]


def test_parquet_in_and_out(ray_address, crf_model, cluener_file, cluener_reference, tmp_path):
    lines = cluener_file.read_text(encoding="utf-8").splitlines()[:300]
    texts = [json.loads(line)["text"] for line in lines]
    inp = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": list(range(300)), "text": texts}), inp, row_group_size=128)
    out = tmp_path / "out"
    annotate(str(crf_model), [str(inp)], out, engine="ray", workers=1, shard_size=100, fmt="parquet")
    expected = [{"id": str(i), "entities": r["entities"]} for i, r in enumerate(cluener_reference[:300])]
    manifest = assert_exactly_once(out, expected)
    assert manifest["format"] == "parquet" and all(s["file"].endswith(".parquet") for s in manifest["shards"])
    schema = pq.read_schema(out / manifest["shards"][0]["file"])
    assert schema.field("entities").type.value_type.names == ["start", "end", "label", "text", "score"]


def test_killed_workers_are_retried_exactly_once(ray_address, crf_model, cluener_file, cluener_reference, tmp_path):
    """Two worker processes SIGKILL themselves, once each: one before
    annotating its shard, one after writing the shard file but before
    returning. Ray restarts the actors and retries both shards; the output
    holds every id once."""
    inp, expected = prefix_file(cluener_file, cluener_reference, tmp_path / "in.json", 300)
    markers = tmp_path / "markers"
    markers.mkdir()

    class DyingWorker(RayShardWorker):  # defined here, so Ray pickles it by value
        kill_before, kill_after = "part-00000-000002", "part-00000-000006"

        def annotate(self, shard):
            if shard["name"] == self.kill_before:
                self.die_once("before")
            entry = super().annotate(shard)
            if shard["name"] == self.kill_after:
                self.die_once("after")
            return entry

        def die_once(self, when):
            marker = markers / when
            if not marker.exists():
                marker.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)

    def engine(shards, settings, **kwargs):
        return run_ray(shards, settings, **kwargs, worker_class=DyingWorker)

    out = tmp_path / "out"
    result = annotate(str(crf_model), [str(inp)], out, engine="ray", workers=2, shard_size=25, engine_fn=engine)
    assert (markers / "before").exists() and (markers / "after").exists()  # both workers did die
    assert result.annotated == 12
    manifest = assert_exactly_once(out, expected)
    assert len({s["shard"] for s in manifest["shards"]}) == 12
    journal = [json.loads(line)["shard"] for line in (out / PROGRESS).read_text(encoding="utf-8").splitlines()]
    assert sorted(journal) == [f"part-00000-{k:06d}" for k in range(12)]  # each recorded once


def test_killed_driver_rerun_finishes_without_rewriting(ray_address, crf_model, cluener_file, cluener_reference, tmp_path):
    """SIGKILL the driver (a process connected to the cluster) at its 3rd
    finished shard, then rerun the same command: the 2 recorded shards are
    not rewritten, the rest is written, every id is there once."""
    inp, expected = prefix_file(cluener_file, cluener_reference, tmp_path / "in.json", 400)
    out = tmp_path / "out"
    args = ["annotate", str(crf_model), str(inp), str(out), "--engine", "ray", "--workers", "2",
            "--address", ray_address, "--shard-size", "50"]
    killed = subprocess.run([sys.executable, str(KILL_DRIVER), "3", *args], capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr[-3000:]
    recorded = [json.loads(line)["file"] for line in (out / PROGRESS).read_text(encoding="utf-8").splitlines()]
    assert len(recorded) == 2 and not (out / SUCCESS).exists()
    before = shard_stats(out)
    assert len(before) >= 3  # at least the shard whose entry the kill cut off
    rerun = CliRunner().invoke(app, args)  # in this process: no second start-up to pay
    assert rerun.exit_code == 0, rerun.output[-3000:]
    assert "(6 annotated now, 2 finished before)" in rerun.output
    after = shard_stats(out)
    assert all(after[name] == before[name] for name in recorded)
    assert_exactly_once(out, expected)
