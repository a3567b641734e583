import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commands } from "./commands.js";
import { runCli } from "./run-cli.js";

test("evolver model tiny writes the files with the flags' shape; bad flags are usage errors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-cli-tiny-"));
  const log = console.log;
  const error = console.error;
  console.log = () => undefined;
  console.error = () => undefined;
  try {
    const code = await runCli(["model", "tiny", "--out", dir, "--hidden", "32", "--heads", "2", "--kv-heads", "1", "--layers", "1", "--untied"], commands);
    assert.equal(code, 0);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.deepEqual([config.hidden_size, config.num_attention_heads, config.num_key_value_heads, config.num_hidden_layers], [32, 2, 1, 1]);
    assert.equal(config.tie_word_embeddings, false);
    assert.equal(config.max_position_embeddings, 32768, "the default context holds BFCL's longest first prompt (16,327 tokens)");
    assert.equal(await runCli(["model", "tiny", "--out", dir, "--context-length", "4096", "--formats", "hf"], commands), 0);
    assert.equal(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).max_position_embeddings, 4096);
    assert.ok(readFileSync(join(dir, "model.gguf")).subarray(0, 4).equals(Buffer.from("GGUF")));
    assert.equal(await runCli(["model", "tiny", "--out", dir, "--shape", "7b"], commands), 2);
    assert.equal(await runCli(["model", "tiny"], commands), 2);
    assert.equal(await runCli(["model", "tiny", "--out", dir, "--hidden", "30", "--heads", "4"], commands), 1);
  } finally {
    console.log = log;
    console.error = error;
    rmSync(dir, { recursive: true, force: true });
  }
});
