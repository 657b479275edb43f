// Checks that README's two commands compile the dependencies (Bevy) once: every unit that
// `cargo run --release` builds must be built identically (same features, profile and
// dependencies, recursively) by the test command's `cargo test --release`, so the second
// command reuses it. A dev-dependency that turns on other features of a shared crate (as
// proptest did with `rand`) would make `cargo test` compile Bevy a second time.
// Reads cargo's unit graph (an unstable flag, hence RUSTC_BOOTSTRAP); compiles nothing.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";

function unitGraph(args) {
  const out = execFileSync("cargo", [...args, "-Z", "unstable-options", "--unit-graph"], {
    env: { ...process.env, RUSTC_BOOTSTRAP: "1" },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out).units;
}

// Each unit's identity: its own settings and, recursively, its dependencies'.
function identities(units) {
  const memo = new Map();
  const id = (i) => {
    if (memo.has(i)) return memo.get(i);
    const u = units[i];
    const deps = u.dependencies.map((d) => id(d.index)).sort();
    const key = createHash("sha256")
      .update(JSON.stringify([u.pkg_id, u.target.name, u.mode, u.features, u.profile, u.platform, deps]))
      .digest("hex");
    memo.set(i, key);
    return key;
  };
  const byName = new Map();
  units.forEach((u, i) => {
    const name = `${u.pkg_id.split("#").pop()} ${u.target.name} (${u.mode})`;
    if (!byName.has(name)) byName.set(name, new Set());
    byName.get(name).add(id(i));
  });
  return byName;
}

const run = identities(unitGraph(["build", "--release", "--locked", "--bin", "hipback"]));
const test = identities(unitGraph(["test", "--release", "--locked", "--no-run", "--lib", "--bins", "--tests"]));
const rebuilt = [];
for (const [name, ids] of run) {
  if (name.startsWith("hipback@")) continue;
  const again = test.get(name);
  if (!again || ![...ids].some((k) => again.has(k))) rebuilt.push(name);
}
if (rebuilt.length > 0) {
  console.error(`one-build: the test command would compile ${rebuilt.length} dependencies again:`);
  for (const name of rebuilt.slice(0, 20)) console.error(`  ${name}`);
  process.exit(1);
}
console.log(`one-build: the test command reuses all ${run.size - 1} dependency units of \`cargo run --release\``);
