#!/usr/bin/env node
// The build's last step (after tsc): `evolver env replay` as one file with V8's code cache, so that each
// one-process-per-category replay reads bytecode instead of loading 32 modules and compiling each function
// (src/env/bfcl/replay-bundle.ts loads them). The cache is taken after replaying the packaged questions of every
// category, so it holds what a replay runs. A few seconds at build time.
// Usage: node scripts/bundle-replay.mjs [DIST]   (DIST: the folder tsc wrote, default dist)
import { build } from "esbuild";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dist = resolve(process.argv[2] ?? "dist");
const loader = await import(pathToFileURL(join(dist, "env/bfcl/replay-bundle.js")).href);
const bundle = loader.REPLAY_BUNDLE;
const cache = loader.REPLAY_CODE_CACHE;

rmSync(cache, { force: true });
await build({
  entryPoints: [join(dist, "env/bfcl/replay.js")],
  outfile: fileURLToPath(bundle),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // data.ts finds the package (and its BFCL data) from import.meta.url, which CommonJS lacks: the loader passes the
  // bundle's own URL instead (it sits beside data.js, so the same folders lie above it).
  define: { "import.meta.url": "__bundleUrl" },
  logLevel: "warning",
});

const { exports, script } = loader.runReplayBundle(bundle, readFileSync(bundle, "utf8"));
const data = join(dist, "..", "data", "bfcl-v3");
const out = mkdtempSync(join(tmpdir(), "evolver-bundle-"));
try {
  for (const category of ["base", "miss_func", "miss_param", "long_context"]) {
    exports.replayVectorFile(join(data, `BFCL_v3_multi_turn_${category}.json`), join(out, `${category}.jsonl`), { dataDir: data });
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
writeFileSync(cache, script.createCachedData());
