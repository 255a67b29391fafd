#!/usr/bin/env bash
# Fetches the real assets (checksummed, cached under assets/) and imports the mini-VTAB used by
# `make demo` into data/minivtab/ in the VTAB-1k layout (800 train / 200 val / test split).
set -euo pipefail
cd "$(dirname "$0")/../.."
VPEFT=${VPEFT:-.build/release/vpeft}
bash scripts/assets/fetch_assets.sh
mkdir -p data/minivtab
if [ ! -f data/minivtab/fashion_mnist/test.txt ]; then
  "$VPEFT" data import /usr/share/datasets/fashion-mnist --out data/minivtab --name fashion_mnist --test 500
fi
if [ ! -f data/minivtab/textile/test.txt ]; then
  "$VPEFT" data import assets/textile_images/simulated --format imagefolder --out data/minivtab --name textile --test 500
fi
if [ ! -f data/minivtab/mnist/test.txt ]; then
  "$VPEFT" data import assets/mnist/mnist_5k.csv.gz --format csv --label-column last --out data/minivtab --name mnist --test 500
fi
"$VPEFT" data inspect data/minivtab/fashion_mnist | head -5
"$VPEFT" data inspect data/minivtab/textile | head -5
"$VPEFT" data inspect data/minivtab/mnist | head -5
