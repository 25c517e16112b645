#!/usr/bin/env bash
# Every GPU figure of docs/benchmarks.md in one go, on a bare NVIDIA machine (under 8 minutes on one GPU).
#
#   bench/gpu_check.sh [--out DIR] [--tiny] [--budget-seconds N] [--wheels DIR]
#   bench/gpu_check.sh --fetch-wheels DIR        # on a machine with network: the wheels the GPU box lacks
#
# 1. Install what is missing, offline: the GPU machine is expected to have Python 3.12 with a CUDA torch,
#    transformers, huggingface_hub, safetensors, numpy, scipy, numba and pillow (an NVIDIA PyTorch image);
#    the rest (diffusers, librosa, soundfile, ...: WHEELS below) comes from a wheelhouse carried with the
#    repository (--wheels DIR, default .whl/ or $BARLIGHT_WHEELS), installed into a folder of its own with
#    --no-index --no-deps, never over the image's packages. Barlight itself runs from this checkout.
# 2. Run bench/gpu_check.py: SD-Turbo, SDXL-Turbo and SD 1.5 + LCM at full size with random weights
#    through the whole Barlight path, each stream-speed technique on and off, the plain diffusers
#    pipeline, the issue's goals, into DIR/gpu_check.json and DIR/gpu_check.txt (DIR: --out, else $OUT,
#    else ./gpu-check-out).
#
# --tiny runs the same steps on this CPU at reduced width (tests/bench/test_gpu_check.py runs it).
set -euo pipefail
cd "$(dirname "$0")/.."

#: What the bench path imports that an NVIDIA PyTorch image lacks (pinned where it matters).
WHEELS=(diffusers==0.42.1 librosa==0.11.0 soundfile==0.13.1 soxr==1.0.0 audioread==3.0.1 pooch==1.8.2
        platformdirs==4.3.8 decorator==5.2.1 cffi==2.0.0 pycparser==2.23)

out="${OUT:-./gpu-check-out}"
wheels="${BARLIGHT_WHEELS:-.whl}"
tiny=()
budget=420
python="${PYTHON:-python3}"
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --tiny) tiny=(--tiny); shift ;;
        --budget-seconds) budget="$2"; shift 2 ;;
        --wheels) wheels="$2"; shift 2 ;;
        --fetch-wheels)
            mkdir -p "$2"
            "$python" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
                --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
                -d "$2" "${WHEELS[@]}"
            echo "gpu_check: wheels for the GPU machine in $2 ($(du -sh "$2" | cut -f1)); carry them, then run" \
                 "bench/gpu_check.sh --wheels $2" >&2
            exit 0 ;;
        *) echo "gpu_check: unknown argument $1 (see the top of bench/gpu_check.sh)" >&2; exit 2 ;;
    esac
done

if ! "$python" -c "import diffusers, librosa, soundfile" >/dev/null 2>&1; then
    if ! ls "$wheels"/*.whl >/dev/null 2>&1; then
        echo "gpu_check: diffusers/librosa/soundfile missing and no wheels in $wheels:" \
             "run bench/gpu_check.sh --fetch-wheels $wheels on a machine with network, then carry $wheels" >&2
        exit 2
    fi
    site="${TMPDIR:-/tmp}/barlight-gpu-site"
    "$python" -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$site" "$wheels"/*.whl
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1

if [ ${#tiny[@]} -eq 0 ]; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2 || true
    "$python" -c "import sys, torch; ok = torch.cuda.is_available(); \
print('gpu_check: torch', torch.__version__, 'on', torch.cuda.get_device_name(0)) if ok else None; \
sys.exit(0 if ok else 'gpu_check: torch sees no CUDA GPU (run with --tiny on a CPU)')" >&2
fi
exec "$python" bench/gpu_check.py --out "$out" --budget-seconds "$budget" "${tiny[@]}"
