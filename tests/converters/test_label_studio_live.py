"""The Label Studio round trip against a running Label Studio (issue 26):
`predict --to label-studio` pre-annotations imported into a project with an
NER labelling config, read back, accepted as annotations, exported, and
converted back with `convert --format labelstudio`: the entities intact.

Slow, and skipped unless SPACY_CLUENER_LABEL_STUDIO names the `label-studio`
binary (it has heavy pinned dependencies, so it lives in its own venv):

    python3 -m venv .ci/label-studio && .ci/label-studio/bin/pip install -q label-studio==1.23.2 "sentry-sdk<3"
    SPACY_CLUENER_LABEL_STUDIO=.ci/label-studio/bin/label-studio python -m pytest tests --slow -k label_studio_live

The server runs on 127.0.0.1 with a temporary data directory and a user
token made at start; only the standard library talks to it.
"""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import spacy

from spacy_cluener.converters import convert_file

from ..util import LABELS, LIVE_TEXTS, free_port, predict_live_texts

BINARY = os.environ.get("SPACY_CLUENER_LABEL_STUDIO")
TOKEN = "0123456789abcdef0123456789abcdef01234567"
START_SECONDS = 600
# Label Studio's NER template, with the names `predict --to label-studio` uses
LABEL_CONFIG = (
    '<View><Labels name="label" toName="text">'
    + "".join(f'<Label value="{label}"/>' for label in LABELS)
    + '</Labels><Text name="text" value="$text"/></View>'
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not BINARY, reason="set SPACY_CLUENER_LABEL_STUDIO to a label-studio binary"),
]


class Client:
    def __init__(self, base: str):
        self.base = base

    def call(self, method: str, path: str, body=None, timeout: float = 60):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Token {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode("utf-8")
        return json.loads(text) if text else None


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("label-studio")
    port = free_port()
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir), "LATEST_VERSION_CHECK": "false",
           "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true"}
    log = open(data_dir / "server.log", "wb")
    proc = subprocess.Popen(
        [str(Path(BINARY)), "start", "--data-dir", str(data_dir), "--internal-host", "127.0.0.1", "--port", str(port),
         "--no-browser", "--username", "test@example.com", "--password", "spacy-cluener-test",
         "--user-token", TOKEN, "--enable-legacy-api-token"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    client = Client(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"label-studio exited ({proc.returncode}): {(data_dir / 'server.log').read_text()[-2000:]}")
            try:
                client.call("GET", "/api/projects", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"label-studio did not answer in {START_SECONDS} s")
                time.sleep(2)
        yield client
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_label_studio_round_trip(label_studio, crf_model, tmp_path):
    records, tasks_file, expected = predict_live_texts(crf_model, tmp_path, "label-studio")
    tasks = json.loads(tasks_file.read_text(encoding="utf-8"))

    project = label_studio.call("POST", "/api/projects", {"title": "spacy-cluener", "label_config": LABEL_CONFIG})
    imported = label_studio.call("POST", f"/api/projects/{project['id']}/import", tasks, timeout=300)
    assert imported["task_count"] == len(LIVE_TEXTS) and imported["prediction_count"] == len(LIVE_TEXTS)

    # read the tasks back: text, ref_id and the predictions with their scores
    listed = label_studio.call("GET", f"/api/tasks?project={project['id']}&page_size=100&fields=all")
    listed = listed["tasks"] if isinstance(listed, dict) else listed
    assert sorted(t["data"]["ref_id"] for t in listed) == sorted(expected)
    for task in listed:
        detail = label_studio.call("GET", f"/api/tasks/{task['id']}")
        (prediction,) = detail["predictions"]
        ours = next(t for t in tasks if t["data"]["ref_id"] == task["data"]["ref_id"])["predictions"][0]
        assert prediction["model_version"] == ours["model_version"]
        assert prediction["score"] == pytest.approx(ours["score"])
        assert [r["value"] for r in prediction["result"]] == [r["value"] for r in ours["result"]]
        # the annotator accepts the pre-annotation as it is
        label_studio.call("POST", f"/api/tasks/{task['id']}/annotations",
                          {"result": prediction["result"], "was_cancelled": False})

    export = label_studio.call("GET", f"/api/projects/{project['id']}/export?exportType=JSON", timeout=300)
    export_file = tmp_path / "export.json"
    export_file.write_text(json.dumps(export, ensure_ascii=False, indent=2), encoding="utf-8")
    doc_bin, report = convert_file(export_file, "labelstudio")
    assert (report.read, report.written, report.rejected) == (len(LIVE_TEXTS), len(LIVE_TEXTS), [])
    got = {doc.user_data["id"]: [(e.start_char, e.end_char, e.label_) for e in doc.ents]
           for doc in doc_bin.get_docs(spacy.blank("zh").vocab)}
    assert got == expected
