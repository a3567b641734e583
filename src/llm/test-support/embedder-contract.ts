// The behaviour every Embedder must show, as one suite each implementation runs (like the LlmProvider contract).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Embedder } from "../embedding-types.js";

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i], 0);

export function runEmbedderContract(options: { name: string; setup: () => Promise<{ embedder: Embedder; close: () => Promise<void> }> }): void {
  describe(`Embedder contract: ${options.name}`, () => {
    let embedder: Embedder;
    let close: () => Promise<void>;
    before(async () => ({ embedder, close } = await options.setup()));
    after(async () => close?.());

    test("one unit vector of `dimensions` values per text, in order, the same for the same text", async () => {
      const texts = ["open the lock with the letter c", "list the files before moving one", "open the lock with the letter c"];
      const vectors = await embedder.embed(texts);
      assert.equal(vectors.length, 3);
      for (const vector of vectors) {
        assert.equal(vector.length, embedder.dimensions);
        assert.ok(Math.abs(dot(vector, vector) - 1) < 1e-4);
      }
      assert.ok(dot(vectors[0], vectors[2]) > 0.9999);
      const [second] = await embedder.embed([texts[1]]);
      assert.ok(dot(second, vectors[1]) > 0.9999, "a text's vector does not depend on the batch it came in");
      assert.deepEqual(await embedder.embed([]), []);
    });

    test("a paraphrase is nearer than an unrelated sentence", async () => {
      const [a, paraphrase, unrelated] = await embedder.embed([
        "check that an API exists before calling it",
        "verify the function is available before invoking it",
        "the weather is sunny in Paris today",
      ]);
      assert.ok(dot(a, paraphrase) > dot(a, unrelated) + 0.2, `${dot(a, paraphrase)} vs ${dot(a, unrelated)}`);
    });

    test("more texts than a batch: every one embedded, in order", async () => {
      const texts = Array.from({ length: 70 }, (_, i) => `experience number ${i}: ${i % 2 === 0 ? "read the file first" : "check the balance"}`);
      const all = await embedder.embed(texts);
      assert.equal(all.length, 70);
      const [last] = await embedder.embed([texts[69]]);
      assert.ok(dot(all[69], last) > 0.9999);
    });

    test("an aborted signal stops the call", async () => {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(embedder.embed(["x"], { signal: controller.signal }));
    });
  });
}
