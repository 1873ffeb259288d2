#!/usr/bin/env bash
# Build VAE Studio as a one-folder Linux app with PyInstaller (packaging/vaestudio.spec), then
# smoke-test the result. Everything it writes goes under $VAESTUDIO_BUILD_DIR (default
# /tmp/vaestudio-build), never into the repository:
#   venv/                  the build environment (made once, reused)
#   work/                  PyInstaller's work folder
#   dist/vaestudio/        the app: run dist/vaestudio/vaestudio
#   smoke/                 the smoke test's outputs (screenshot, run folder, MP4)
#
# Usage: packaging/build.sh [--no-smoke] [--install-desktop] [--keep-venv-as-is]
#
# Environment:
#   VAESTUDIO_BUILD_DIR    where to build (default /tmp/vaestudio-build)
#   PYTHON                 the Python that makes the venv (default python3; 3.10 or newer)
#   VAESTUDIO_TORCH        torch requirement(s) (default: pyproject's torch and torchvision)
#   VAESTUDIO_TORCH_INDEX  the index torch comes from (default PyTorch's CPU-only index;
#                          empty: pip's own configuration, e.g. an offline find-links folder)
#   VAESTUDIO_ALLOW_CUDA=1 build even with a CUDA torch (several GB; nothing of CUDA is trimmed)
#   VAESTUDIO_TRIM=0       keep every file the hooks collect (to measure what trimming saves)
#
# A CPU-only torch is what makes the app small: PyPI's Linux torch is a CUDA build whose
# libtorch_python.so links libtorch_cuda.so, cudart, cudnn, nccl and cufile, so nothing of CUDA
# can be left out of it. The default installs torch from https://download.pytorch.org/whl/cpu.
# Offline, name a CPU wheel that pip's find-links folder holds, e.g.
#   VAESTUDIO_TORCH="torch==2.13.0+cpu" VAESTUDIO_TORCH_INDEX= packaging/build.sh
# torchvision is optional: without it the app works, but `--download` (MNIST, CIFAR, CelebA)
# and the vgg19 feature network are unavailable. It must be the CPU build matching torch: a
# CUDA torchvision fails to import on a CPU torch ("operator torchvision::nms does not exist").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${VAESTUDIO_BUILD_DIR:-/tmp/vaestudio-build}
PYTHON=${PYTHON:-python3}
TORCH_INDEX=${VAESTUDIO_TORCH_INDEX-https://download.pytorch.org/whl/cpu}
PYINSTALLER_REQ="pyinstaller==6.22.3"
SMOKE=1
INSTALL_DESKTOP=0
REFRESH_VENV=1

for arg in "$@"; do
    case "$arg" in
        --no-smoke) SMOKE=0 ;;
        --install-desktop) INSTALL_DESKTOP=1 ;;
        --keep-venv-as-is) REFRESH_VENV=0 ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { print }' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done

case "$BUILD_DIR" in
    "$ROOT"|"$ROOT"/*) echo "build.sh: VAESTUDIO_BUILD_DIR must lie outside the repository" >&2; exit 2 ;;
esac

VENV=$BUILD_DIR/venv
DIST=$BUILD_DIR/dist
APP_DIR=$DIST/vaestudio
APP=$APP_DIR/vaestudio
mkdir -p "$BUILD_DIR"
step() { printf '\n== %s\n' "$*"; }

# 1. The build environment: the project's dependencies, a CPU torch and PyInstaller.
if [ ! -x "$VENV/bin/python" ]; then
    step "making the build environment in $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY=$VENV/bin/python
if [ "$REFRESH_VENV" = 1 ]; then
    # pyproject's dependencies, split: torch and torchvision (with the project's caps) come from
    # the CPU index, the rest from the usual one.
    "$PY" - "$ROOT/pyproject.toml" "$BUILD_DIR" <<'EOF'
import re, sys, tomllib
with open(sys.argv[1], "rb") as f:
    deps = tomllib.load(f)["project"]["dependencies"]
torch = [d for d in deps if re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0] in ("torch", "torchvision")]
with open(f"{sys.argv[2]}/requirements-torch.txt", "w") as f:
    f.write("\n".join(torch) + "\n")
with open(f"{sys.argv[2]}/requirements.txt", "w") as f:
    f.write("\n".join(d for d in deps if d not in torch) + "\n")
EOF
    index=()
    [ -n "$TORCH_INDEX" ] && index=(--index-url "$TORCH_INDEX")
    if [ -n "${VAESTUDIO_TORCH:-}" ]; then
        step "installing $VAESTUDIO_TORCH ${TORCH_INDEX:+from $TORCH_INDEX}"
        # shellcheck disable=SC2086 # a list of requirements
        "$PY" -m pip install --quiet "${index[@]}" $VAESTUDIO_TORCH
    else
        step "installing torch and torchvision ${TORCH_INDEX:+from $TORCH_INDEX}"
        "$PY" -m pip install --quiet "${index[@]}" -r "$BUILD_DIR/requirements-torch.txt"
    fi
    step "installing $PYINSTALLER_REQ and the other dependencies"
    "$PY" -m pip install --quiet "$PYINSTALLER_REQ" -r "$BUILD_DIR/requirements.txt"
fi

TORCH_INFO=$("$PY" -c "import torch; print(torch.__version__, torch.version.cuda or 'cpu')")
echo "torch in the build environment: $TORCH_INFO"
case "$TORCH_INFO" in
    *" cpu") ;;
    *)
        if [ "${VAESTUDIO_ALLOW_CUDA:-0}" != 1 ]; then
            echo "build.sh: the build environment has a CUDA torch ($TORCH_INFO); the app would be several GB." >&2
            echo "  Install a CPU torch into $VENV (see VAESTUDIO_TORCH above) or set VAESTUDIO_ALLOW_CUDA=1." >&2
            exit 2
        fi ;;
esac
# PyInstaller bundles an installed torchvision (the app imports it for downloads) even when it
# cannot be imported, e.g. PyPI's CUDA torchvision next to a CPU torch: refuse that here.
if ! "$PY" -c "import importlib.util as u; raise SystemExit(u.find_spec('torchvision') is None)"; then
    echo "torchvision: not installed, left out (no --download, no vgg19 feature network)"
elif tv=$("$PY" -c "import torchvision; print(torchvision.__version__)" 2>&1); then
    echo "torchvision: $tv (bundled)"
else
    echo "build.sh: torchvision is installed in $VENV but does not import with this torch:" >&2
    echo "  $(printf '%s\n' "$tv" | tail -1)" >&2
    echo "  install the build matching torch from its index, or uninstall it (the app works without it)" >&2
    exit 2
fi

# 2. The build.
step "building with PyInstaller (work: $BUILD_DIR/work, app: $APP_DIR)"
start=$(date +%s)
(cd "$ROOT" && "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$BUILD_DIR/work" packaging/vaestudio.spec)
build_s=$(( $(date +%s) - start ))
echo "build time: ${build_s} s"
echo "app size: $(du -sh "$APP_DIR" | cut -f1)"
echo "largest parts:"
# (|| true: a glob that matches nothing makes du exit 1, which pipefail would turn into the
# script's end before the smoke test)
{ du -s "$APP_DIR"/_internal/* "$APP_DIR"/_internal/*/lib 2>/dev/null || true; } | sort -rn | head -12 \
    | awk '{ printf "  %6.0f MB  %s\n", $1 / 1024, $2 }'

# 3. The smoke test: --version, a screenshot of the real window (offscreen), a 1-epoch train on
# the built-in digits and an MP4 (the ffmpeg binary inside the app). Caches, settings and data
# go to a fresh folder so the test proves the app needs nothing from this machine's home.
if [ "$SMOKE" = 1 ]; then
    SMOKE_DIR=$BUILD_DIR/smoke
    rm -rf "$SMOKE_DIR"
    mkdir -p "$SMOKE_DIR"
    export VAESTUDIO_CACHE=$SMOKE_DIR/cache VAESTUDIO_DATA=$SMOKE_DIR/data VAESTUDIO_STATE_DIR=$SMOKE_DIR/state
    run() { echo "\$ $*"; "$@"; }

    step "smoke test: --version"
    echo "\$ $APP --version"
    version=$("$APP" --version)
    echo "$version"
    expected="vaestudio $(cd "$ROOT" && "$PY" -c 'import vaestudio; print(vaestudio.__version__)')"
    [ "$version" = "$expected" ] || { echo "build.sh: --version said '$version', expected '$expected'" >&2; exit 1; }

    step "smoke test: screenshot of the window (offscreen)"
    QT_QPA_PLATFORM=offscreen run "$APP" screenshot --out "$SMOKE_DIR/window.png" --epochs 1
    "$PY" - "$SMOKE_DIR/window.png" <<'EOF'
import sys
from PIL import Image
with Image.open(sys.argv[1]) as im:
    colours = len(set(im.convert("RGB").resize((160, 100)).getdata()))
    print(f"{sys.argv[1]}: {im.size[0]}x{im.size[1]}, {colours} colours in a 160x100 thumbnail")
    if im.size != (1280, 800) or colours < 50:
        sys.exit("build.sh: the screenshot does not look like the window")
EOF

    step "smoke test: train 1 epoch on the built-in digits"
    run "$APP" train --dataset digits --model vae --arch mlp --latent-dim 2 --epochs 1 --seed 0 \
        --out "$SMOKE_DIR/run"
    run "$APP" info "$SMOKE_DIR/run"
    run "$APP" interpolate "$SMOKE_DIR/run" --from 0 --to 1 --steps 8 --out "$SMOKE_DIR/path.mp4"
    [ -s "$SMOKE_DIR/path.mp4" ] || { echo "build.sh: no MP4 written" >&2; exit 1; }
    step "smoke test passed (outputs in $SMOKE_DIR)"
fi

# 4. Optional: the launcher, .desktop entry and icon for the current user.
if [ "$INSTALL_DESKTOP" = 1 ]; then
    step "installing the desktop entry"
    "$ROOT/packaging/install-desktop.sh" --app "$APP_DIR"
fi

printf '\nbuilt %s in %s s (%s); run %s\n' "$APP_DIR" "$build_s" "$(du -sh "$APP_DIR" | cut -f1)" "$APP"
