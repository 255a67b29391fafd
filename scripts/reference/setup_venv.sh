#!/usr/bin/env bash
# Creates .venv/ in the repo root with the PyTorch reference stack used ONLY to generate
# the Swift test fixtures (see scripts/reference/FIXTURES.md). Idempotent: if .venv already
# imports torch + timm + peft + transformers + safetensors + numpy + PIL, it does nothing.
#
# Usage: bash scripts/reference/setup_venv.sh
#
# Note: torch on PyPI (Linux x86_64) is the CUDA build; it needs its nvidia-* / cuda wheels
# even just to `import torch` on a CPU-only machine (a --no-deps install fails in
# torch._preload_cuda_deps), so the full dependency set is installed (~several GB on disk).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$REPO_ROOT/.venv"
PY="$VENV/bin/python"

TORCH_VERSION="2.15.0"
TIMM_VERSION="1.0.31"
PEFT_VERSION="0.21.2"
# Hugging Face's VideoMAE and UPerNet (make_videomae_fixtures.py, make_upernet_fixtures.py) and
# PyAV's FFmpeg (make_video_fixtures.py).
TRANSFORMERS_VERSION="5.25.0"
AV_VERSION="18.1.0"

check() {
  [ -x "$PY" ] && "$PY" - <<'PYEOF' >/dev/null 2>&1
import torch, timm, safetensors, numpy, PIL, peft, transformers, av  # noqa: F401
PYEOF
}

if check; then
  echo "setup_venv: $VENV already provides torch/timm/peft/transformers/av/safetensors/numpy/pillow; nothing to do."
  "$PY" -c 'import torch, timm; print("torch", torch.__version__, "timm", timm.__version__)'
  exit 0
fi

if [ ! -x "$PY" ]; then
  python3 -m venv "$VENV"
fi

"$PY" -m pip install --disable-pip-version-check -q --upgrade pip
"$PY" -m pip install --disable-pip-version-check -q \
  "torch==${TORCH_VERSION}" "timm==${TIMM_VERSION}" "peft==${PEFT_VERSION}" "transformers==${TRANSFORMERS_VERSION}" \
  "av==${AV_VERSION}" safetensors numpy pillow

if ! check; then
  echo "setup_venv: install finished but 'import torch, timm, safetensors, numpy, PIL, peft, transformers, av' fails" >&2
  "$PY" -c 'import torch, timm, safetensors, numpy, PIL, peft' || true
  exit 1
fi
"$PY" -c 'import torch, timm; print("setup_venv: ok: torch", torch.__version__, "timm", timm.__version__)'
