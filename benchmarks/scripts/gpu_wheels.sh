#!/usr/bin/env bash
# Prepare what benchmarks/scripts/gpu_check.sh carries to the GPU machine, where no
# package index is reachable. Run here, where pip reaches one:
#     bash benchmarks/scripts/gpu_wheels.sh
# 1. .gpu-wheels/: the wheels of benchmarks/scripts/gpu_requirements.txt for CPython 3.12,
#    manylinux x86_64 (pip download --only-binary=:all:, --no-deps: the list is
#    complete for what the machine lacks). About 76 MB.
# 2. .gpu-wheels.tar.xz: the same wheels re-zipped without compression, in one
#    xz tarball, about 45 MB: under the device tool's 64 MB carry limit, which
#    the wheels themselves exceed (spaCy's alone is 36 MB). Slow: minutes.
# 3. .gpu-shared/: CLUENER train/dev and the BERT vocab from ../shared (the
#    device tool carries only the checkout).
# All three are git-ignored. Then: run `bash benchmarks/scripts/gpu_check.sh` there with
# carry [".gpu-wheels.tar.xz", ".gpu-shared"].
set -euo pipefail
cd "$(dirname "$0")/../.."  # the repository root
py="${PYTHON:-python3}"
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 \
         manylinux2014_x86_64 manylinux_2_5_x86_64 manylinux1_x86_64; do
    platforms+=(--platform "$p")
done
rm -rf .gpu-wheels && mkdir -p .gpu-wheels
"$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" -d .gpu-wheels -r benchmarks/scripts/gpu_requirements.txt
"$py" - <<'PY'
import io, lzma, tarfile, zipfile
from pathlib import Path

with tarfile.open(".gpu-wheels.tar.xz", "w:xz", preset=6) as tar:
    for wheel in sorted(Path(".gpu-wheels").glob("*.whl")):
        stored = io.BytesIO()
        with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as dst:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info), compress_type=zipfile.ZIP_STORED)
        data = stored.getvalue()
        member = tarfile.TarInfo(wheel.name)
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
PY
shared="${SPACY_CLUENER_SHARED:-../shared}"
mkdir -p .gpu-shared/data/cluener2020 .gpu-shared/models/chinese-bert-vocab
cp "$shared"/data/cluener2020/{train,dev}.json .gpu-shared/data/cluener2020/
cp "$shared"/models/chinese-bert-vocab/vocab.txt .gpu-shared/models/chinese-bert-vocab/
du -sh .gpu-wheels .gpu-wheels.tar.xz .gpu-shared
