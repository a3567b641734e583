// Marks the package's bin files executable. tsc writes them 0644, and `npx evolver` in a clone of this repository runs
// the project's own bin file directly: without the bit, a fresh clone's README command fails with "Permission denied"
// (npm sets the bit only when it installs the package as a dependency). Run by `npm run build` and npm's prepare step.
import { chmodSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const bins = typeof pkg.bin === "string" ? [pkg.bin] : Object.values(pkg.bin ?? {});
for (const bin of bins) {
  const path = resolve(bin);
  chmodSync(path, statSync(path).mode | 0o111);
}
