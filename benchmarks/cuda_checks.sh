#!/usr/bin/env bash
# Everything a session lent a CUDA GPU should run, in one go and inside a few minutes: the tests
# that skip without a GPU, then the training benchmarks on the GPU (fp32, bf16, fp16; the MLP step,
# the 64x64 conv VAE, whole epochs, torchrun with NCCL, `--cuda-graph`). Each part has its own time limit and its
# log lands in OUTDIR, so one slow part cannot cost the rest. Needs no Qt: the core runs from a
# checkout with PYTHONPATH set, on any Python that has torch, torchvision, numpy and pillow.
#
#   bash benchmarks/cuda_checks.sh OUTDIR [DEVICE]      (DEVICE: cuda, or cpu to try the script)
set -u
out=${1:-/tmp/cuda-checks}
dev=${2:-cuda}
mkdir -p "$out"
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PYTHONPATH=$here${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
faces=${FACES:-4000}

part() {  # part NAME LIMIT_S COMMAND...: run one part, log it, say how it ended and how long it took
    local name=$1 limit=$2; shift 2
    local t0=$SECONDS
    echo "== $name"
    timeout "$limit" "$@" >"$out/$name.log" 2>&1
    local rc=$?
    tail -n 25 "$out/$name.log"
    echo "== $name: rc=$rc, $((SECONDS - t0)) s"
}

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$py -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__,
'cuda', torch.cuda.is_available() and torch.cuda.get_device_name(0))"

if [ "$dev" = cuda ]; then
    part tests 90 $py -m pytest -q -p no:cacheprovider -p no:pytestqt tests/test_precision.py tests/test_kind_dfc_vae.py \
        -k "cuda or snapshots_of_a_gpu"
    part tests-graph 120 $py -m pytest -q -p no:cacheprovider -p no:pytestqt tests/test_cuda_graph.py \
        -k "not form and not worker"
fi
part step 90 $py benchmarks/train_throughput.py --suite step --epochs 2 --device "$dev" --json "$out/step.json"
for p in fp32 bf16 fp16; do
    part "conv-$p" 80 $py benchmarks/train_throughput.py --suite conv --faces "$faces" --device "$dev" \
        --precision "$p" --json "$out/conv-$p.json"
done
part whole 100 $py benchmarks/train_throughput.py --suite whole --whole-epochs 5 --device "$dev" \
    --pythae-python "" --json "$out/whole.json"
part torchrun 80 $py benchmarks/distributed_scaling.py --processes 1 --epochs 2 --device "$dev"
if [ "$dev" = cuda ]; then
    part graph 150 $py benchmarks/cuda_graph_train.py --epochs 3
fi
