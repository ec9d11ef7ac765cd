"""The doccano round trip against a running doccano (issue 26): `predict --to
doccano` pre-annotations uploaded into a sequence-labelling project with
the entity types, read back (texts, ids, scores, spans), confirmed,
exported as JSONL and converted back with `convert --format doccano`: the
entities intact.

Slow, and skipped unless SPACY_CLUENER_DOCCANO names the `doccano` binary
(it has heavy pinned dependencies, so it lives in its own venv; doccano
1.8.4 needs marshmallow<4 and numpy<2 beside it):

    python3 -m venv .ci/doccano && .ci/doccano/bin/pip install -q doccano==1.8.4 "marshmallow<4" "numpy<2"
    SPACY_CLUENER_DOCCANO=.ci/doccano/bin/doccano python -m pytest tests --slow -k doccano_live

`doccano init` and `createuser` set up a SQLite database in a temporary
DOCCANO_HOME; `doccano task` (the Celery worker, with the SQLite database
as its broker: no Redis) runs imports and exports. `doccano webserver`
binds 0.0.0.0, so the test starts the same WSGI app with gunicorn from the
binary's interpreter on 127.0.0.1 instead. Only the standard library talks
to it. (doccano keeps an upload in the package's own
`backend/filepond-temp-uploads` until the import stores it.)
"""
import io
import json
import os
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path

import pytest
import spacy

from spacy_cluener.converters import convert_file

from ..util import LABELS, free_port, predict_live_texts

BINARY = os.environ.get("SPACY_CLUENER_DOCCANO")
USER, PASSWORD = "admin", "spacy-cluener-test"
START_SECONDS = 300
TASK_SECONDS = 120

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not BINARY, reason="set SPACY_CLUENER_DOCCANO to a doccano binary"),
]


def _interpreter(binary: Path) -> str:
    """The Python that runs the `doccano` console script: its shebang, or,
    where the path is too long for one (pip then writes `#!/bin/sh` and an
    `exec` of the interpreter on the next line), that line's interpreter."""
    lines = binary.read_bytes().decode().splitlines()
    first = lines[0] if lines else ""
    if first.startswith("#!") and "python" in first:
        return first[2:].strip()
    if len(lines) > 1 and lines[1].startswith("'''exec' "):
        return shlex.split(lines[1])[1]
    return str(binary.parent / "python")


class Client:
    def __init__(self, base: str, home: Path):
        self.base = base
        self.home = home
        self.token = None
        self.procs = {}

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                pytest.fail(f"doccano {name} exited ({proc.returncode}): "
                            f"{(self.home / f'{name}.log').read_text()[-2000:]}")

    def worker_ready(self) -> bool:
        """The Celery worker logs `celery@HOST ready.` once it consumes."""
        return " ready." in (self.home / "task.log").read_text(errors="replace")

    def call(self, method: str, path: str, body=None, *, data=None, content_type="application/json",
             raw=False, timeout: float = 60):
        if body is not None:
            data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": content_type}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content = response.read()
        if raw:
            return content
        return json.loads(content) if content else None

    def upload(self, path: Path) -> str:
        """A file into doccano's filepond store; RETURNS (str): its upload id."""
        boundary = uuid.uuid4().hex
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="filepond"; filename="{path.name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n")
        body = head.encode("utf-8") + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode("utf-8")
        return self.call("POST", "/v1/fp/process/", data=body, raw=True,
                         content_type=f"multipart/form-data; boundary={boundary}").decode("utf-8")

    def wait_task(self, task_id: str):
        """RETURNS: the result of a finished Celery task (import)."""
        deadline = time.monotonic() + TASK_SECONDS
        while True:
            status = self.call("GET", f"/v1/tasks/status/{task_id}")
            if status["ready"]:
                assert status["error"] is None, status["error"]
                return status["result"]
            assert time.monotonic() < deadline, f"doccano task {task_id} not done in {TASK_SECONDS} s"
            self.check_alive()
            time.sleep(0.5)


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="module")
def doccano(tmp_path_factory):
    home = tmp_path_factory.mktemp("doccano")
    binary = Path(BINARY)
    env = {**os.environ, "DOCCANO_HOME": str(home), "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}",
           "MEDIA_ROOT": str(home / "media"), "STANDALONE": "True",
           "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    for args in (["init"], ["createuser", "--username", USER, "--password", PASSWORD]):
        done = subprocess.run([str(binary), *args], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"doccano {args[0]}: {done.stdout[-1000:]}{done.stderr[-2000:]}"
    python = _interpreter(binary)
    backend = subprocess.run(
        [python, "-c", "import importlib.util as u; print(u.find_spec('backend').submodule_search_locations[0])"],
        env=env, capture_output=True, text=True, check=True).stdout.strip()
    port = free_port()
    logs = []
    # `doccano webserver` binds 0.0.0.0: the same app (config.wsgi) on 127.0.0.1
    commands = {
        "server": [python, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--chdir", backend,
                   "config.wsgi"],
        "task": [str(binary), "task", "--concurrency", "1"],
    }
    client = Client(f"http://127.0.0.1:{port}", home)
    try:
        for name, command in commands.items():
            log = open(home / f"{name}.log", "wb")
            logs.append(log)
            client.procs[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                  start_new_session=True)
        deadline = time.monotonic() + START_SECONDS
        # the server answers, and the worker has declared its queue: a task sent
        # before that may declare it at the same moment, and the worker dies of
        # the duplicate row (kombu's SQL transport)
        while client.token is None or not client.worker_ready():
            client.check_alive()
            if time.monotonic() > deadline:
                pytest.fail(f"doccano did not start in {START_SECONDS} s")
            if client.token is None:
                try:
                    client.token = client.call("POST", "/v1/auth/login/", {"username": USER, "password": PASSWORD},
                                               timeout=5)["key"]
                    continue
                except (urllib.error.URLError, ConnectionError, OSError):
                    pass
            time.sleep(1)
        yield client
    finally:
        for proc in client.procs.values():
            _stop(proc)
        for log in logs:
            log.close()


def test_doccano_round_trip(doccano, crf_model, tmp_path):
    records, tasks_file, expected = predict_live_texts(crf_model, tmp_path, "doccano")
    expected = {r["id"]: expected[r["id"]] for r in records if r["text"]}  # doccano refuses the empty text
    lines = [json.loads(line) for line in tasks_file.read_text(encoding="utf-8").splitlines()]

    project = doccano.call("POST", "/v1/projects", {
        "name": "spacy-cluener", "description": "issue 26", "project_type": "SequenceLabeling",
        "resourcetype": "SequenceLabelingProject", "allow_overlapping": False})
    base = f"/v1/projects/{project['id']}"
    for label in LABELS:
        doccano.call("POST", f"{base}/span-types", {"text": label})
    types = {t["id"]: t["text"] for t in doccano.call("GET", f"{base}/span-types")}
    assert sorted(types.values()) == sorted(LABELS)

    upload_id = doccano.upload(tasks_file)
    task = doccano.call("POST", f"{base}/upload", {
        "uploadIds": [upload_id], "format": "JSONL", "task": "SequenceLabeling", "encoding": "utf_8",
        "column_data": "text", "column_label": "label"})
    # doccano refuses an empty text, naming its line; the others are imported
    empty_line = next(i for i, line in enumerate(lines, start=1) if not line["text"])
    assert doccano.wait_task(task["task_id"]) == {"error": [
        {"filename": tasks_file.name, "line": empty_line, "message": f"Invalid data in line {empty_line}"}]}

    # read the examples back: text, our id and scores (metadata), the spans
    examples = doccano.call("GET", f"{base}/examples?limit=100")["results"]
    assert sorted(e["meta"]["id"] for e in examples) == sorted(expected)
    for example in examples:
        ours = next(line for line in lines if line["id"] == example["meta"]["id"])
        assert example["text"] == ours["text"]
        assert example["meta"]["scores"] == pytest.approx(ours["scores"])
        spans = doccano.call("GET", f"{base}/examples/{example['id']}/spans")
        assert sorted([s["start_offset"], s["end_offset"], types[s["label"]]] for s in spans) == sorted(ours["label"])
        # the annotator confirms the pre-annotation as it is
        doccano.call("POST", f"{base}/examples/{example['id']}/states", {})

    task = doccano.call("POST", f"{base}/download", {"format": "JSONL", "exportApproved": True})
    deadline = time.monotonic() + TASK_SECONDS
    while True:
        content = doccano.call("GET", f"{base}/download?taskId={task['task_id']}", raw=True)
        if content.startswith(b"PK"):
            break
        assert time.monotonic() < deadline, f"doccano export not done in {TASK_SECONDS} s: {content[:200]!r}"
        doccano.check_alive()
        time.sleep(0.5)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        # one file per annotator (collaborative annotation is off)
        assert archive.namelist() == [f"{USER}.jsonl"]
        export_file = tmp_path / "export.jsonl"
        export_file.write_bytes(archive.read(f"{USER}.jsonl"))
    doc_bin, report = convert_file(export_file, "doccano")
    assert (report.read, report.written, report.rejected) == (len(expected), len(expected), [])
    got = {doc.user_data["id"]: [(e.start_char, e.end_char, e.label_) for e in doc.ents]
           for doc in doc_bin.get_docs(spacy.blank("zh").vocab)}
    assert got == expected
