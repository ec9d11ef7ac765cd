"""Put project.yml's assets in place: local copies when present, else download.

    python scripts/get_data.py project.yml [--shared ../shared/data]

A local copy is looked up in SHARED under the asset's path below "assets/"
(assets/msra/train.txt <- SHARED/msra/train.txt, assets/cluener2020/... likewise).
Every file, copied or downloaded, must match the sha256 in the asset's
description; a mismatch is an error naming the file.
"""
import hashlib
import re
import shutil
import sys
import urllib.request
from pathlib import Path

import srsly
import typer

from spacy_cluener.cli import run_script


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file_:
        for block in iter(lambda: file_.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(
    project: Path = typer.Argument(..., exists=True),
    shared: Path = typer.Option(Path("../shared/data"), "--shared"),
):
    root = project.parent
    for asset in srsly.read_yaml(project)["assets"]:
        dest = root / asset["dest"]
        expected = re.search(r"sha256 ([0-9a-f]{64})", asset["description"]).group(1)
        local = shared / Path(asset["dest"]).relative_to("assets")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists() and sha256(dest) == expected:
            print(f"ok (present)   {dest}")
            continue
        if local.exists():
            shutil.copyfile(local, dest)
            source = f"copied from {local}"
        else:
            print(f"downloading    {asset['url']}")
            try:
                urllib.request.urlretrieve(asset["url"], dest)
            except OSError as err:
                sys.exit(f"{dest}: no local copy at {local}, and the download failed: {err}")
            source = "downloaded"
        actual = sha256(dest)
        if actual != expected:
            dest.unlink()
            sys.exit(f"{dest}: sha256 {actual} does not match project.yml's {expected} ({source})")
        print(f"ok ({source})  {dest}")


if __name__ == "__main__":
    run_script(main)
