import { test } from "node:test";
import assert from "node:assert/strict";
import { toGrammarSchema, toolCallGrammar } from "./tool-call-grammar.js";

test("tool schemas become node-llama-cpp's schema subset; BFCL's type names are read, the unknown becomes any value", () => {
  const schema = toGrammarSchema({
    type: "dict",
    properties: {
      price: { type: "float", minimum: 0 },
      tags: { type: "array", items: { type: "string", maxLength: 5 }, maxItems: 3 },
      mode: { type: "string", enum: ["a", "b"] },
      when: { type: "string", format: "date" },
      blob: { type: "any" },
      either: { anyOf: [{ type: "integer" }, { type: "null" }] },
    },
    required: ["price"],
  });
  assert.deepEqual(schema, {
    type: "object",
    properties: {
      price: { type: "number" },
      tags: { type: "array", items: { type: "string", maxLength: 5 }, maxItems: 3 },
      mode: { enum: ["a", "b"] },
      when: { type: "string", format: "date" },
      blob: toGrammarSchema(undefined),
      either: { oneOf: [{ type: "integer" }, { type: "null" }] },
    },
  });
});

test("tool-call grammar: 'required' allows several blocks of any tool, a named function one block of it", async () => {
  const tools = ["f", "g"].map((name) => ({ type: "function" as const, function: { name, description: "", parameters: {} } }));
  const seen: unknown[] = [];
  const rules = async (schema: Record<string, unknown>, name: string) => {
    seen.push(schema);
    return `${name} ::= "{}"`;
  };
  const required = await toolCallGrammar(tools, "required", "hermes", rules);
  assert.equal(required.root, "tool-calls");
  assert.match(required.gbnf, /^tool-calls ::= tool-call \("\\n" tool-call\)\*$/m);
  assert.deepEqual((seen[0] as { oneOf: { properties: { name: unknown } }[] }).oneOf.map((s) => s.properties.name), [{ const: "f" }, { const: "g" }]);
  const named = await toolCallGrammar(tools, { name: "g" }, "hermes", rules);
  assert.match(named.gbnf, /^tool-calls ::= tool-call$/m);
  assert.deepEqual((seen[1] as { properties: { name: unknown } }).properties.name, { const: "g" });
  await assert.rejects(toolCallGrammar(tools, { name: "h" }, "hermes", rules), /'h', which is not among the tools/);
});

test("tool-call grammar per family: Llama 3.1 objects with 'parameters' joined by '; ', Mistral's [TOOL_CALLS] list", async () => {
  const tools = ["f", "g"].map((name) => ({ type: "function" as const, function: { name, description: "", parameters: { type: "object", properties: { x: { type: "integer" } } } } }));
  const seen: Record<string, unknown>[] = [];
  const rules = async (schema: Record<string, unknown>, name: string) => {
    seen.push(schema);
    return `${name} ::= "{}"`;
  };
  const llama = await toolCallGrammar(tools, "required", "llama3-json", rules);
  assert.match(llama.gbnf, /^tool-calls ::= tool-call \("; " tool-call\)\*$/m);
  assert.match(llama.gbnf, /^tool-call ::= tool-call-json$/m);
  assert.deepEqual(Object.keys((seen[0] as { oneOf: { properties: object }[] }).oneOf[0].properties), ["name", "parameters"]);
  const mistral = await toolCallGrammar(tools, { name: "f" }, "mistral", rules);
  assert.match(mistral.gbnf, /^tool-calls ::= "\[TOOL_CALLS\]\[" tool-call "\]"$/m);
  assert.deepEqual(Object.keys((seen[1] as { properties: object }).properties), ["name", "arguments"]);
});
