import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EvolverError } from "../core/errors.js";
import { contextOverflowError, llmError, llmErrorCodes } from "./errors.js";

const llmDir = fileURLToPath(new URL(".", import.meta.url));
const sources = readdirSync(llmDir, { recursive: true, encoding: "utf8" })
  .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && !file.includes("test-support"))
  .map((file) => ({ file, text: readFileSync(`${llmDir}/${file}`, "utf8") }));

test("every error code written in src/llm is in llmErrorCodes, and every listed code is used", () => {
  assert.ok(sources.length > 20, `read ${sources.length} source files of src/llm`);
  const used = new Set<string>();
  for (const { file, text: source } of sources) {
    // errors.ts itself counts only after the list (contextOverflowError uses a code too).
    const text = file === "errors.ts" ? source.slice(source.indexOf("export type LlmErrorCode")) : source;
    for (const match of text.matchAll(/["'`](LLM_[A-Z_]+)["'`]/g)) {
      assert.ok(match[1] in llmErrorCodes, `${file} uses ${match[1]}, which is not in llmErrorCodes (src/llm/errors.ts)`);
      used.add(match[1]);
    }
  }
  assert.deepEqual(Object.keys(llmErrorCodes).filter((code) => !used.has(code)), [], "codes listed but never used in src/llm");
});

test("errors of src/llm are made through llmError, whose type admits only listed codes", () => {
  for (const { file, text } of sources) {
    if (file === "errors.ts") continue;
    assert.doesNotMatch(text, /new EvolverError\(/, `${file} makes an EvolverError directly; use llmError so its code is checked`);
  }
  const error = llmError("LLM_TEMPLATE_RENDER", "the template raised", { details: { at: 3 } });
  assert.ok(EvolverError.isInstance(error));
  assert.equal(error.code, "LLM_TEMPLATE_RENDER");
  assert.deepEqual(error.details, { at: 3 });
  assert.equal(contextOverflowError(8523, 2048).message, "8,523-token prompt in a 2,048-token context");
});
