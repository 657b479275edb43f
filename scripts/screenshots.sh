#!/usr/bin/env bash
# Regenerates the README pictures with `hipback screenshot` (off-screen; works on Mesa
# lavapipe without a GPU). Usage: bash scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hipback-target}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cargo build --release --bin hipback
bin="$CARGO_TARGET_DIR/release/hipback"
out=docs/images
mkdir -p "$out"
for view in anterior posterior left right superior oblique; do
  "$bin" screenshot --view "$view" --size 640x480 --out "$out/view-$view.png"
done
# The model itself, without the skin.
for view in anterior posterior left superior; do
  "$bin" screenshot --view "$view" --size 640x480 --layers bones,muscles,nerve,si \
    --out "$out/model-$view.png"
done
"$bin" screenshot --view posterior --size 640x480 --layers bones,si --out "$out/bones-posterior.png"
"$bin" screenshot --view anterior --size 640x480 --layers bones,si --out "$out/bones-anterior.png"
