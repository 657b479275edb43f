#!/usr/bin/env bash
# The project's whole test suite: installs what it needs (Debian/Ubuntu packages for the
# lavapipe renderer and Xvfb, the Khronos glTF validator from npm), then runs formatting,
# clippy, the API docs, the glTF validator on the bundled model and `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# The build goes where `cargo run --release` puts it (`target/`, or CARGO_TARGET_DIR when
# set), so a newcomer's two README commands compile Bevy once. CI's .ci/run sets
# CARGO_TARGET_DIR to a cache outside the clone, which survives fresh clones.
# Render tests use Mesa lavapipe (a CPU Vulkan driver): no GPU needed.
export WGPU_BACKEND="${WGPU_BACKEND:-vulkan}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

packages=(mesa-vulkan-drivers libvulkan1 vulkan-tools xvfb xauth libxkbcommon-x11-0 nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # node/npm may come from elsewhere (nvm, nodesource): only install them from apt if absent.
  command -v node >/dev/null && missing=("${missing[@]/nodejs}") && missing=("${missing[@]/npm}")
  read -r -a missing <<<"${missing[*]}"
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

(cd scripts/gltf-validate && npm ci --silent --no-audit --no-fund)

# README's two commands share one build: `cargo test` reuses every dependency that
# `cargo run --release` compiled (no dev-dependency changes a shared crate's features).
node scripts/one-build.mjs
cargo fmt --all -- --check
cargo clippy --release --locked --all-targets -- -D warnings
# The API docs build without warnings (broken intra-doc links fail here).
RUSTDOCFLAGS="-D warnings" cargo doc --release --locked --no-deps
node scripts/gltf-validate/validate.mjs assets/models/pelvis.glb
# No doctests in this crate: run the unit and integration tests only, so the last line
# printed is a real test summary.
cargo test --release --locked --lib --bins --tests
