#!/usr/bin/env bash
# Runs every benchmark and writes docs/benchmarks.md: the model generator, the heat map, the
# scenario easing and the posture update (cargo bench), the frame benchmark (`hipback bench`:
# bare Bevy against hipback, alternating runs), and the whole-process time of
# `hipback screenshot` against f3d on the same glb at the same size.
# Usage: bash scripts/bench.sh [FRAMES [ROUNDS]]   (defaults 30 frames, 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."

frames="${1:-30}"
rounds="${2:-3}"
size_w=1280
size_h=720
glb=assets/models/pelvis.glb
export WGPU_BACKEND="${WGPU_BACKEND:-vulkan}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
target="${CARGO_TARGET_DIR:-target}"
work="$(mktemp -d)"
# An empty folder for the user's own files: a saved pain drawing or settings would be drawn.
export HIPBACK_DATA_DIR="$work/data"
mkdir -p "$HIPBACK_DATA_DIR"
trap 'rm -rf "$work"; [ -n "${xvfb_pid:-}" ] && kill "$xvfb_pid" 2>/dev/null || true' EXIT

need=()
for p in f3d xvfb mesa-vulkan-drivers; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

cargo build --release --locked --bin hipback
hipback="$target/release/hipback"

echo "== cargo bench" >&2
: >"$work/cargo-bench.txt"
for b in modelgen heat scenario posture; do
  [ -f "benches/$b.rs" ] || continue
  echo "-- $b" >&2
  cargo bench --locked --bench "$b" 2>/dev/null | tee -a "$work/cargo-bench.txt" >&2
done

echo "== hipback bench ($frames frames, $rounds rounds)" >&2
"$hipback" bench --frames "$frames" --rounds "$rounds" --size "${size_w}x${size_h}" \
  --json "$work/frames.json" | tee "$work/frames.txt" >&2

echo "== whole process: hipback screenshot against f3d --output" >&2
# One X server for f3d, started once, so its start-up is not counted.
Xvfb :97 -screen 0 1920x1080x24 >/dev/null 2>&1 &
xvfb_pid=$!
sleep 1
: >"$work/whole.txt"
for i in 1 2 3 4 5; do
  start=$(date +%s%N)
  "$hipback" screenshot --out "$work/hipback.png" --size "${size_w}x${size_h}" >/dev/null 2>&1
  end=$(date +%s%N)
  echo "hipback $(((end - start) / 1000000))" >>"$work/whole.txt"
  start=$(date +%s%N)
  DISPLAY=:97 f3d --output "$work/f3d.png" --resolution "$size_w,$size_h" "$glb" >/dev/null 2>&1
  end=$(date +%s%N)
  echo "f3d $(((end - start) / 1000000))" >>"$work/whole.txt"
  # f3d with its FXAA: hipback's pictures are anti-aliased, f3d's are not by default.
  start=$(date +%s%N)
  DISPLAY=:97 f3d --fxaa --output "$work/f3d-fxaa.png" --resolution "$size_w,$size_h" "$glb" >/dev/null 2>&1
  end=$(date +%s%N)
  echo "f3d_fxaa $(((end - start) / 1000000))" >>"$work/whole.txt"
  # A run that failed would time as a fast one.
  for png in hipback f3d f3d-fxaa; do
    [ -s "$work/$png.png" ] || { echo "bench: $png wrote no picture" >&2; exit 1; }
    rm "$work/$png.png"
  done
done
cat "$work/whole.txt" >&2
f3d_version="$(f3d --version 2>/dev/null | head -1 || true)"
f3d_renderer="$(DISPLAY=:97 glxinfo -B 2>/dev/null | sed -n 's/^OpenGL renderer string: //p' || true)"

python3 - "$work" "$f3d_version" "${f3d_renderer:-Mesa (software OpenGL under Xvfb)}" <<'EOF'
import json, statistics, sys, datetime, platform, os
work, f3d_version, f3d_renderer = sys.argv[1:4]
frames = json.load(open(f"{work}/frames.json"))
whole = {"hipback": [], "f3d": [], "f3d_fxaa": []}
for line in open(f"{work}/whole.txt"):
    name, ms = line.split()
    whole[name].append(float(ms) / 1000.0)
h, f = statistics.median(whole["hipback"]), statistics.median(whole["f3d"])
fa = statistics.median(whole["f3d_fxaa"])
def span(name): return f"{min(whole[name]):.2f}–{max(whole[name]):.2f} s"

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
b, a = frames["full"], frames["bare"]
def r(x): return f"{x:.2f}×"
out = []
out.append("# Benchmarks\n")
out.append(f"Written by `scripts/bench.sh` on {datetime.date.today().isoformat()}. Machine: {os.cpu_count()} cores ({cpu}), "
           f"adapter: **{frames['adapter']}**. Every number comes from this run; rerun the script to refresh it.\n")
out.append(f"## Frames at {frames['width_px']}×{frames['height_px']}: hipback against bare Bevy\n")
out.append(f"`hipback bench --frames {frames['frames_per_run']} --rounds {frames['rounds']}`: each run is its own process, "
           "the two apps alternate. Bare Bevy loads the same glb with the same off-screen camera, lights, shadows and "
           "anti-aliasing (FXAA, no MSAA) and nothing else; hipback runs with every layer, the heat map, the "
           "`figure_four_stretch` relief timeline playing (tool, easing, nerve pulses) and picking. Frame times are "
           "pooled over the runs' steady frames; the main-schedule update is the part of a frame spent in the app's and "
           "Bevy's systems before the renderer extracts and draws; the first model frame is the end "
           "of the first frame whose picture shows the model, from process start (median over runs); memory is the "
           "highest peak RSS.\n")
out.append("| | bare Bevy | hipback | hipback / bare | goal |")
out.append("|---|---:|---:|---:|---|")
out.append(f"| median frame | {a['median_frame_ms']:.1f} ms | {b['median_frame_ms']:.1f} ms | {r(b['median_frame_ms']/a['median_frame_ms'])} | ≤ 1.15× |")
out.append(f"| p95 frame | {a['p95_frame_ms']:.1f} ms | {b['p95_frame_ms']:.1f} ms | {r(b['p95_frame_ms']/a['p95_frame_ms'])} | |")
if a.get("median_update_ms") and b.get("median_update_ms"):
    out.append(f"| median main-schedule update | {a['median_update_ms']:.1f} ms | {b['median_update_ms']:.1f} ms | {r(b['median_update_ms']/a['median_update_ms'])} | |")
    out.append(f"| p95 main-schedule update | {a['p95_update_ms']:.1f} ms | {b['p95_update_ms']:.1f} ms | {r(b['p95_update_ms']/a['p95_update_ms'])} | |")
out.append(f"| first model frame | {a['first_model_frame_s']:.2f} s | {b['first_model_frame_s']:.2f} s | {r(b['first_model_frame_s']/a['first_model_frame_s'])} | ≤ 1.2× |")
out.append(f"| whole process | {a['whole_process_s']:.2f} s | {b['whole_process_s']:.2f} s | {r(b['whole_process_s']/a['whole_process_s'])} | |")
if a.get("peak_rss_mib") and b.get("peak_rss_mib"):
    out.append(f"| peak memory | {a['peak_rss_mib']:.0f} MiB | {b['peak_rss_mib']:.0f} MiB | {r(b['peak_rss_mib']/a['peak_rss_mib'])} | |")
out.append("")
out.append(f"## One picture, whole process: `hipback screenshot` against f3d\n")
out.append(f"`hipback screenshot --size {frames['width_px']}x{frames['height_px']}` (lavapipe, Vulkan) against "
           f"`f3d --output --resolution {frames['width_px']},{frames['height_px']}` ({f3d_version}; {f3d_renderer}) on "
           "`assets/models/pelvis.glb`, five alternating runs each, median of the wall-clock time from start to exit "
           "(f3d draws into an Xvfb started beforehand).\n")
out.append("| | hipback screenshot | f3d | ratio | goal |")
out.append("|---|---:|---:|---:|---|")
out.append(f"| whole process, against `f3d --output` | {h:.2f} s | {f:.2f} s | {r(h/f)} | ≤ 3× |")
out.append(f"| whole process, against `f3d --fxaa --output` (anti-aliased, as hipback's picture is) | {h:.2f} s | {fa:.2f} s | {r(h/fa)} | |")
out.append(f"| range over the runs | {span('hipback')} | {span('f3d')}; with FXAA {span('f3d_fxaa')} | | |")
out.append("")
out.append("## Pure work (cargo bench)\n")
out.append("Goals: heat update ≤ 0.3 ms, muscle-length update ≤ 0.1 ms, model generation ≤ 5 s.\n")
out.append("```")
out.extend(l.rstrip() for l in open(f"{work}/cargo-bench.txt") if l.strip())
out.append("```")
open("docs/benchmarks.md", "w").write("\n".join(out) + "\n")
print("wrote docs/benchmarks.md")
EOF
