#!/usr/bin/env bash
# Regenerates the README pictures with `hipback screenshot` (off-screen; works on Mesa
# lavapipe without a GPU). Usage: bash scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The same build as `cargo run --release` (target/, or CARGO_TARGET_DIR when set).
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
# An empty folder for the user's own files: a saved pain drawing or settings would show.
HIPBACK_DATA_DIR="$(mktemp -d)"
export HIPBACK_DATA_DIR
trap 'rm -rf "$HIPBACK_DATA_DIR"' EXIT
cargo build --release --bin hipback
bin="${CARGO_TARGET_DIR:-target}/release/hipback"
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
# Close-ups: the lumbar spine from the subject's left (bones, discs, the nerve roots), and the
# deep right buttock from behind (the tight_piriformis story fades gluteus maximus there).
"$bin" screenshot --view left --size 640x480 --layers bones,discs,nerve,si \
  --focus 0,0.13,-0.09 --distance 0.42 --out "$out/model-lumbar-left.png"
"$bin" screenshot --scenario tight_piriformis --view posterior --size 640x480 \
  --layers bones,muscles,nerve,si --focus=-0.08,-0.07,-0.1 --distance 0.38 \
  --out "$out/model-deep-buttock-posterior.png"
"$bin" screenshot --view anterior --size 640x480 --layers bones,si --out "$out/bones-anterior.png"

# Scenarios: before and after, each in its story view (the scenario's own camera), without
# the heat map (its pictures follow).
anatomy=bones,discs,muscles,nerve,si,skin
# Problems: healthy (before) and the scenario (after). Reliefs: the tool pressing at the end of
# its press phase (before the tissue lets go) and the end of the timeline (after).
size=420x315
for scenario in tight_piriformis weak_glutes tight_iliopsoas si_joint_dysfunction \
  gluteus_minimus_pseudosciatica; do
  view=$("$bin" report --scenario "$scenario" --json | sed -n 's/.*"story_view": "\([a-z]*\)".*/\1/p')
  "$bin" screenshot --scenario healthy --view "$view" --size "$size" --layers "$anatomy" \
    --out "$out/scenario-$scenario-before.png"
  "$bin" screenshot --scenario "$scenario" --size "$size" --layers "$anatomy" \
    --out "$out/scenario-$scenario-after.png"
done
for scenario in figure_four_stretch iliacus_release si_pressure_rocking; do
  # The end of the press phase: where the timeline's tool pressure first reaches 1.
  press=$(grep -o 'press_s: [0-9.]*' "assets/scenarios/$scenario.scenario.ron" | sed 's/press_s: //')
  "$bin" screenshot --scenario "$scenario" --at "$press" --size "$size" --layers "$anatomy" \
    --out "$out/scenario-$scenario-before.png"
  "$bin" screenshot --scenario "$scenario" --size "$size" --layers "$anatomy" \
    --out "$out/scenario-$scenario-after.png"
done
# Postures: each preset from the side that shows it (FAIR's adduction and the figure four's
# abduction from the front, the others from the subject's right).
for posture_view in standing:right sitting:right fair:anterior figure_four:anterior \
  knee_to_chest:right; do
  posture=${posture_view%%:*}
  view=${posture_view##*:}
  "$bin" screenshot --posture "$posture" --view "$view" --size 640x480 \
    --out "$out/posture-$posture.png"
done
# The take-home clip.
"$bin" record --scenario tight_piriformis --seconds 5 --fps 8 --size 320x240 \
  --out "$out/tight_piriformis.gif"

# Heat maps: every built-in scenario in its story view; reliefs halfway through the release.
for scenario in tight_piriformis weak_glutes tight_iliopsoas si_joint_dysfunction \
  gluteus_minimus_pseudosciatica; do
  "$bin" screenshot --scenario "$scenario" --size "$size" --out "$out/heat-$scenario.png"
done
for scenario in figure_four_stretch iliacus_release si_pressure_rocking; do
  press=$(grep -o 'press_s: [0-9.]*' "assets/scenarios/$scenario.scenario.ron" | sed 's/press_s: //')
  release=$(grep -o 'release_s: [0-9.]*' "assets/scenarios/$scenario.scenario.ron" | sed 's/release_s: //')
  at=$(python3 -c "print($press + $release / 2)")
  "$bin" screenshot --scenario "$scenario" --at "$at" --size "$size" \
    --out "$out/heat-$scenario.png"
done

# The window itself (the panels, the Pain map window and its legend), under Xvfb.
xvfb-run -a -s "-screen 0 1280x800x24" "$bin" --scenario tight_piriformis \
  --smoke-test-frames 10 --smoke-screenshot "$out/window-tight_piriformis.png"
