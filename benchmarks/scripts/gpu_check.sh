#!/usr/bin/env bash
# The GPU check in one command (see benchmarks/scripts/gpu_check.py), on the GPU machine:
#     bash benchmarks/scripts/gpu_check.sh            # ~6 min on one H100/H200 (estimate)
#     bash benchmarks/scripts/gpu_check.sh --dry-run  # CPU, tiny BERT, ~2 min
# Writes $OUT/gpu_check.json, $OUT/gpu_check.log (every command's output) and
# $OUT/gpu_check.console.log (this script's); OUT defaults to ./gpu-check-out.
#
# What the machine lacks comes from benchmarks/scripts/gpu_wheels.sh, run beforehand
# where pip reaches an index: .gpu-wheels.tar.xz (or .gpu-wheels/) and the
# data in .gpu-shared/, both git-ignored, carried to the machine. The wheels
# are installed --no-deps into a folder put first on PYTHONPATH, so that
# transformers 4.53.2 (tokenizers 0.21, huggingface-hub < 1) shadows the
# machine's 5.x while its torch, CuPy and numpy stay in use. (Not a venv: the
# machine's python3 is itself a venv, and a venv made from it with
# --system-site-packages would see the base Python, without torch.)
set -uo pipefail
cd "$(dirname "$0")/../.."  # the repository root
out="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$out"
exec > >(tee "$out/gpu_check.console.log") 2>&1
py="${PYTHON:-python3}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
wheels=.gpu-wheels
if [ -f .gpu-wheels.tar.xz ]; then
    wheels=/tmp/gpu-check-wheels
    rm -rf "$wheels" && mkdir -p "$wheels"
    "$py" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' .gpu-wheels.tar.xz "$wheels" || exit 1
fi
if compgen -G "$wheels/*.whl" >/dev/null; then
    site=/tmp/gpu-check-site
    rm -rf "$site"
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" "$wheels"/*.whl || exit 1
    # the project itself, for its entry points (spacy.load in `spacy evaluate`)
    "$py" -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --no-cache-dir \
        --target "$site" . || exit 1
    export PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    echo "no wheels in $wheels: using the installed packages" >&2
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
[ -d .gpu-shared ] && export SPACY_CLUENER_SHARED="$PWD/.gpu-shared"
export PYTHONUNBUFFERED=1
"$py" -c 'import spacy, spacy_transformers, transformers, torch; print("spacy", spacy.__version__, "transformers", transformers.__version__, "torch", torch.__version__, "cuda", torch.cuda.is_available())'
timeout 560 "$py" benchmarks/scripts/gpu_check.py --output "$out/gpu_check.json" --log "$out/gpu_check.log" "$@"
rc=$?
echo "gpu_check.py exit status $rc"
exit $rc
