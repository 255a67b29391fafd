#!/usr/bin/env bash
# The picture of `make demo-seg`, from its finished grid (RUN, default runs/demo-seg): the first
# test composites of data/seg-demo, their true masks and the masks predicted by the linear (frozen
# backbone), LoRA and full fine-tuning cells, in Pascal VOC's palette:
#
#   RUN/plots/seg-masks.png
set -euo pipefail
cd "$(dirname "$0")/../.."
VPEFT=${VPEFT:-.build/release/vpeft}
RUN=${1:-runs/demo-seg}
mkdir -p "$RUN/plots"

adapter() {  # adapter METHOD: the cell's adapter folder, which must exist
    local folder="$RUN/cells/$1/seglist_seg-demo/seed-42/adapter"
    [[ -f $folder/adapter.json ]] || { echo "seg_pictures: no adapter at $folder (run the demo-seg grid first)" >&2; exit 1; }
    echo "$folder"
}

"$VPEFT" viz segmentation --adapter "$(adapter linear)" --adapter "$(adapter lora)" --adapter "$(adapter full)" \
    --count 5 --scale 2 --out "$RUN/plots/seg-masks.png"
