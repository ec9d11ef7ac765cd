"""Package a trained pipeline as two wheels, the standard way.

    python scripts/package.py MODEL_DIR OUTPUT_DIR --name cluener_crf --version 0.1.0

OUTPUT_DIR/dist/ then holds
- spacy_cluener-<lib version>-py3-none-any.whl: the library, built from
  setup.py; its entry points register crf_ner and the other functions, and
- zh_<name>-<version>-py3-none-any.whl: the pipeline only, from `spacy
  package`, requiring spacy-cluener==<lib version>,
so `pip install OUTPUT_DIR/dist/*.whl` installs both. An editable checkout
installed later (`pip install -e .`) replaces the library wheel, as it is the
same distribution.

Both wheels are built with `pip wheel --no-build-isolation` rather than
`spacy package --build wheel`, which needs the `build` (or `wheel`) package
and, through `python -m build`, an isolated environment from the index.
"""
import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import srsly
import typer
from spacy import util

from spacy_cluener.cli import run_script

Arg = typer.Argument
Opt = typer.Option
REPO = Path(__file__).resolve().parent.parent
LIBRARY = "spacy-cluener"
AUTHOR = "zh_cluener_crf developers"
URL = "https://github.com/zh-cluener-crf/zh_cluener_crf"
DATASETS = {
    "cluener": {
        "name": "CLUENER2020",
        "url": "https://github.com/CLUEbenchmark/CLUENER2020",
        "license": "no license stated; cite Xu et al. 2020, arXiv:2001.04351",
        "author": "CLUE benchmark (Liang Xu et al.)",
    },
    "msra": {
        "name": "MSRA NER (SIGHAN 2006 bakeoff)",
        "url": "https://github.com/Determined22/zh-NER-TF",
        "license": "research use; no license stated",
        "author": "Microsoft Research Asia",
    },
}
BERT = {
    "name": "chinese-bert-wwm-ext",
    "url": "https://github.com/ymcui/Chinese-BERT-wwm",
    "license": "Apache-2.0",
    "author": "Yiming Cui et al. (HFL)",
}
JIEBA = {
    "name": "jieba dict.txt (lexicon features: saved in the pipeline)",
    "url": "https://github.com/fxsjy/jieba",
    "license": "MIT",
    "author": "Sun Junyi",
}


def uses_jieba(config) -> bool:
    """Whether a SoftLexicon block reads jieba's dictionary (then it is in the weights)."""
    def walk(block):
        if isinstance(block, dict):
            if block.get("@architectures", "").startswith("spacy_cluener.SoftLexicon") and block.get("dictionary") == "jieba":
                return True
            return any(walk(v) for v in block.values())
        return False
    return walk(config["components"])


def is_int8(config) -> bool:
    """Whether a transformer of the pipeline is an int8 one of `quantize` (torch or ONNX Runtime)."""
    return any(str(c.get("model", {}).get("@architectures", "")).startswith(
        ("spacy_cluener.QuantizedTransformerModel.", "spacy_cluener.OnnxTransformerModel."))
        for c in config["components"].values())


ONNX_TOK2VECS = ("spacy_cluener.ChunkedTok2Vec.v2", "spacy_cluener.ChunkedTok2Vec.v3")


def is_onnx(config) -> bool:
    """Whether the pipeline needs ONNX Runtime: a transformer of `quantize --runtime onnx`,
    or a tok2vec with ChunkedTok2Vec's `onnx` setting on (v2, v3)."""
    models = [c.get("model", {}) for c in config["components"].values()]
    return any(str(m.get("@architectures", "")).startswith("spacy_cluener.OnnxTransformerModel.")
               or (m.get("@architectures") in ONNX_TOK2VECS and m.get("onnx", "off") != "off")
               for m in models)


def pip_wheel(src: Path, dist: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-w", str(dist)]
    subprocess.run(cmd, check=True)


def check_entry_points(config) -> None:
    """Every factory the pipeline takes from spacy_cluener must be an entry
    point of the installed distribution, or spacy.load fails in a fresh process."""
    ours = {n for n, func in util.registry.factories.get_all().items() if func.__module__.startswith("spacy_cluener")}
    points = {ep.name for ep in importlib.metadata.distribution(LIBRARY).entry_points if ep.group == "spacy_factories"}
    for name, component in config["components"].items():
        factory = component.get("factory")  # None when sourced
        if factory in ours and factory not in points:
            sys.exit(f"{name}: factory {factory!r} is not a spacy_factories entry point of {LIBRARY}; reinstall it")


def main(
    model_dir: Path = Arg(..., exists=True, file_okay=False, help="Trained pipeline (model-best)"),
    output_dir: Path = Arg(..., help="Package dirs go to OUTPUT_DIR/<pkg>-<version>, both wheels to OUTPUT_DIR/dist"),
    name: str = Opt("cluener_crf", "--name", help="Pipeline name; the package is <lang>_<name>"),
    version: str = Opt("0.1.0", "--version", help="Pipeline version"),
    trained_on: str = Opt("cluener", "--trained-on", help=f"Training data, for the meta's sources: {'|'.join(DATASETS)}"),
):
    if trained_on not in DATASETS:
        raise typer.BadParameter(f"{trained_on!r}; use one of {', '.join(DATASETS)}", param_hint="--trained-on")
    import spacy_cluener  # noqa: F401  registers the factories for spacy package and the check below

    lib_version = importlib.metadata.version(LIBRARY)
    dist = output_dir / "dist"
    dist.mkdir(parents=True, exist_ok=True)
    meta = srsly.read_json(model_dir / "meta.json")
    package_name = name if name.startswith(f"{meta['lang']}_") else f"{meta['lang']}_{name}"  # as spacy package does
    for old in [*dist.glob("spacy_cluener-*.whl"), *dist.glob(f"{package_name}-*.whl")]:
        old.unlink()  # `pip install dist/*.whl` must see one version of each

    # setuptools never cleans build/lib: a module moved or deleted since the
    # last build would still be in the wheel
    shutil.rmtree(REPO / "build", ignore_errors=True)
    pip_wheel(REPO, dist)
    if not (dist / f"spacy_cluener-{lib_version}-py3-none-any.whl").exists():
        sys.exit(f"{REPO} is not the installed {LIBRARY} {lib_version}: `pip install -e {REPO}` first")

    config = util.load_config(model_dir / "config.cfg", interpolate=False)
    check_entry_points(config)
    has_transformer = any(c.get("factory") == "transformer" for c in config["components"].values())
    meta.update(
        name=name,
        version=version,
        description=f"Chinese NER trained on {DATASETS[trained_on]['name']}: the crf_ner tagger of spacy-cluener "
        f"(pytorch-crf CRF) on {'chinese-bert-wwm-ext' if has_transformer else 'a CNN tok2vec'}"
        f"{' with int8 weights for CPU (spacy_cluener quantize)' if is_int8(config) else ''}"
        f"{', run by ONNX Runtime' if is_onnx(config) and is_int8(config) else ''}",
        author=AUTHOR,
        email="",
        url=URL,
        license="MIT",
        sources=[DATASETS[trained_on]] + ([BERT] if has_transformer else []) + ([JIEBA] if uses_jieba(config) else []),
        # spacy package keeps these and adds the other libraries the config
        # names (spacy-transformers), leaving out those already listed here
        requirements=[f"{LIBRARY}[onnx]=={lib_version}" if is_onnx(config) else f"{LIBRARY}=={lib_version}"],
    )
    meta_path = output_dir / f"meta-{name}.json"
    srsly.write_json(meta_path, meta)
    subprocess.run(
        [sys.executable, "-m", "spacy", "package", str(model_dir), str(output_dir),
         "--meta-path", str(meta_path), "--build", "none", "--force"],
        check=True,
    )
    meta_path.unlink()
    pip_wheel(output_dir / f"{package_name}-{version}", dist)
    print(f"Built {', '.join(p.name for p in sorted(dist.glob('*.whl')))} in {dist}; pip install {dist}/*.whl")


if __name__ == "__main__":
    run_script(main)
