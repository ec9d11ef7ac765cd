"""Issue 24 #17: engine settings that did nothing or hung now say so at once."""
import socket

import pytest
from typer.testing import CliRunner

from spacy_cluener.cli import app

from ..util import write_jsonl


def run(*args):
    return CliRunner().invoke(app, ["annotate", *map(str, args)])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_num_gpus_with_the_local_engine_is_refused(ruler_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.jsonl", [{"text": "张三"}])
    result = run(ruler_model, inp, tmp_path / "out", "--num-gpus", 1)
    assert result.exit_code == 1 and "[E057]" in result.output
    assert not (tmp_path / "out" / "_plan.json").exists()


def test_an_unreachable_address_fails_at_once(ruler_model, tmp_path):
    """ray.init retried such an address for minutes (> 120 s) without a word."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    if ray.is_initialized():
        pytest.skip("a Ray cluster is already initialized in this process")
    inp = write_jsonl(tmp_path / "in.jsonl", [{"text": "张三"}])
    address = f"127.0.0.1:{closed_port()}"
    result = run(ruler_model, inp, tmp_path / "out", "--engine", "ray", "--address", address)
    assert result.exit_code == 1
    assert f"[E058] Cannot reach the Ray cluster at {address} (Connection refused)" in result.output
    assert not (tmp_path / "out" / "_plan.json").exists()


def test_ray_failure_message_has_one_full_stop():
    """Issue 24 #17: "... copy it again, or retrain.. The shards finished ..."."""
    pytest.importorskip("ray")
    from spacy_cluener.annotation.ray_engine import _first_line
    from spacy_cluener.errors import Errors

    err = RuntimeError("ray.exceptions.RayTaskError(OSError): ...\nOSError: [E017] Cannot load crf_ner: or retrain.")
    message = Errors.E035.format(error=_first_line(err))
    assert "retrain. The shards" in message and ".." not in message
