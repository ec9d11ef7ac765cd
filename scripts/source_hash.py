"""The sha256 of the spacy_cluener package's source, for project.yml.

    python scripts/source_hash.py spacy_cluener training/spacy_cluener.sha256

The `source-hash` step runs every time (`no_skip`) and rewrites OUTPUT only
when the hash changed; the steps whose results depend on any of the package
(calibrate, evaluate, package, ...) list OUTPUT in their deps, so a code
change re-runs them and nothing else does. Why not the directory itself as
a dep: weasel hashes every file in it, `__pycache__` included, which changes
as each step imports more modules.
"""
import hashlib
from pathlib import Path

import typer

from spacy_cluener.cli import run_script
from spacy_cluener.util import atomic_open


def source_hash(package: Path) -> str:
    """sha256 over each .py file's path (relative, POSIX) and bytes, in path order."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py"), key=lambda p: p.relative_to(package).as_posix()):
        digest.update(path.relative_to(package).as_posix().encode("utf8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def main(
    package: Path = typer.Argument(..., exists=True, file_okay=False, help="the package's directory"),
    output: Path = typer.Argument(..., dir_okay=False),
) -> None:
    value = f"{source_hash(package)}  {package.name}\n"
    if output.exists() and output.read_text(encoding="utf8") == value:
        return
    with atomic_open(output) as file_:
        file_.write(value)


if __name__ == "__main__":
    run_script(main)
