"""Package a trained pipeline as ONE wheel that also carries `spacy_cluener`.

    python scripts/package.py MODEL_DIR OUTPUT_DIR --name cluener_crf --version 0.1.0

`spacy package` would list `spacy-cluener` as a requirement, which is not on
the package index. Instead the wheel ships the `spacy_cluener` package next
to the model package, registers its factories through the same entry points
as setup.py, and requires only what spacy_cluener itself requires. So
`pip install zh_cluener_crf-*.whl` + `spacy.load("zh_cluener_crf")` works in a
clean environment, with no checkout.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import srsly
import typer

REPO = Path(__file__).resolve().parent.parent
RUNTIME_REQUIREMENTS = [
    "spacy>=3.8.0,<3.9.0",
    "thinc>=8.3.0,<8.4.0",
    "torch>=2.0",
    "pytorch-crf>=0.7.2,<0.8.0",
    "typer>=0.9",
]


def entry_points() -> dict:
    """The spacy_* entry points declared in setup.py (single source of truth)."""
    text = (REPO / "setup.py").read_text(encoding="utf8")
    block = text[text.index("entry_points={") :]
    groups = re.findall(r'"(spacy_\w+)": \[(.*?)\]', block, flags=re.S)
    return {group: re.findall(r'"([^"]+=[^"]+)"', body) for group, body in groups}


def main(
    model_dir: Path = typer.Argument(..., exists=True, file_okay=False),
    output_dir: Path = typer.Argument(...),
    name: str = typer.Option("cluener_crf", "--name"),
    version: str = typer.Option("0.1.0", "--version"),
):
    output_dir.mkdir(parents=True, exist_ok=True)
    meta = srsly.read_json(model_dir / "meta.json")
    config_text = (model_dir / "config.cfg").read_text(encoding="utf8")
    requirements = list(RUNTIME_REQUIREMENTS)
    if "spacy-transformers" in config_text:
        requirements.append("spacy-transformers>=1.3.0,<1.5.0")
    meta.update({"name": name, "version": version, "requirements": requirements})
    meta_path = output_dir / f"meta-{name}.json"
    srsly.write_json(meta_path, meta)
    subprocess.run(
        [sys.executable, "-m", "spacy", "package", str(model_dir), str(output_dir),
         "--meta-path", str(meta_path), "--build", "none", "--force"],
        check=True,
    )
    meta_path.unlink()
    pkg_name = f"{meta['lang']}_{name}"
    root = output_dir / f"{pkg_name}-{version}"
    # spacy package adds third-party requirements it detects (spacy-cluener);
    # keep the ones this wheel needs.
    pkg_meta = srsly.read_json(root / "meta.json")
    pkg_meta["requirements"] = requirements
    srsly.write_json(root / "meta.json", pkg_meta)
    shutil.rmtree(root / "spacy_cluener", ignore_errors=True)
    shutil.copytree(
        REPO / "spacy_cluener", root / "spacy_cluener",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    setup_py = (root / "setup.py").read_text(encoding="utf8")
    points = entry_points()
    points_src = ", ".join(f"{g!r}: {v!r}" for g, v in points.items())
    setup_py = setup_py.replace(
        "packages=[model_name],",
        "packages=[model_name] + find_packages(include=['spacy_cluener', 'spacy_cluener.*']),",
    ).replace(
        "entry_points={'spacy_models': ['{m} = {m}'.format(m=model_name)]}",
        "entry_points={'spacy_models': ['{m} = {m}'.format(m=model_name)], " + points_src + "}",
    )
    setup_py = "from setuptools import find_packages\n" + setup_py
    assert "find_packages(include" in setup_py and "spacy_factories" in setup_py, "spacy's setup template changed"
    (root / "setup.py").write_text(setup_py, encoding="utf8")
    init_py = root / pkg_name / "__init__.py"
    init_py.write_text(
        init_py.read_text(encoding="utf8").replace(
            "\n\n__version__", "\nimport spacy_cluener  # noqa: F401  registers crf_ner\n\n__version__", 1
        ),
        encoding="utf8",
    )
    dist = root / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(root)],
        check=True,
    )
    wheels = sorted(dist.glob("*.whl"))
    print(f"Built {wheels[0]}")


if __name__ == "__main__":
    typer.run(main)
