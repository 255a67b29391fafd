#!/usr/bin/env bash
# Builds and runs Examples/QuickStart as another package would use V-PEFT Bench: as a remote
# (URL) dependency pinned to the current commit — the way SwiftPM refuses a package with unsafe
# build flags — and checks that the example trains and round-trips its adapter.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
commit="$(git -C "$root" rev-parse HEAD)"
git clone -q --bare "$root" "$work/vpeft-bench.git"
cp -R "$root/Examples/QuickStart" "$work/QuickStart"
sed -i "s|.package(url: \"[^\"]*\", branch: \"main\")|.package(url: \"file://$work/vpeft-bench.git\", revision: \"$commit\")|" "$work/QuickStart/Package.swift"
grep -q "revision: \"$commit\"" "$work/QuickStart/Package.swift" || { echo "could not point the example at $commit"; exit 1; }
echo "dependent package: building Examples/QuickStart against vpeft-bench @ ${commit:0:12}"
swift build --package-path "$work/QuickStart" 2>&1 | tail -3
"$(swift build --package-path "$work/QuickStart" --show-bin-path)/QuickStart"
echo "dependent package: OK"
