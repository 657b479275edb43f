// Validates glb files with the Khronos glTF validator; exits 1 on any error.
// Usage: node scripts/gltf-validate/validate.mjs FILE...
import { readFile } from "node:fs/promises";
import validator from "gltf-validator";

let failed = false;
for (const file of process.argv.slice(2)) {
  const bytes = new Uint8Array(await readFile(file));
  const report = await validator.validateBytes(bytes, { maxIssues: 100 });
  const { numErrors, numWarnings, numInfos, messages } = report.issues;
  console.log(`${file}: ${numErrors} errors, ${numWarnings} warnings, ${numInfos} infos`);
  for (const m of messages.filter((m) => m.severity <= 1)) {
    console.log(`  [${m.severity === 0 ? "error" : "warning"}] ${m.code} ${m.pointer ?? ""}: ${m.message}`);
  }
  if (numErrors > 0) failed = true;
}
process.exit(failed ? 1 : 0);
