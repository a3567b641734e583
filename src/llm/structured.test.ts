import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { EvolverError } from "../core/errors.js";
import { ScriptedProvider } from "./scripted-provider.js";
import { chatStructured, parseStructured } from "./structured.js";

const Answer = z.object({ colour: z.enum(["red", "blue"]), count: z.number().int() });
const jsonSchema = { name: "answer", schema: { type: "object" } };
const messages = [{ role: "user" as const, content: "Pick a colour and a count." }];

test("parseStructured: a fenced answer is read; not JSON and a schema mismatch are LLM_BAD_JSON naming what is wrong", () => {
  assert.deepEqual(parseStructured('```json\n{"colour": "red", "count": 2}\n```', Answer), { colour: "red", count: 2 });
  assert.throws(() => parseStructured("red, 2", Answer, "the colour answer"), (e: EvolverError) => e.code === "LLM_BAD_JSON" && e.message === "the colour answer is not JSON");
  assert.throws(
    () => parseStructured('{"colour": "green", "count": 2.5}', Answer),
    (e: EvolverError) => e.code === "LLM_BAD_JSON" && /colour/.test(e.message) && /count/.test(e.message),
  );
});

test("chatStructured: the schema goes to the provider; an invalid answer then a valid one is ok on attempt 2, 1 invalid counted", async () => {
  const provider = new ScriptedProvider(["not json", '{"colour": "blue", "count": 3}']);
  const outcome = await chatStructured({ provider, messages, schema: Answer, jsonSchema, maxAttempts: 3 });
  assert.deepEqual(outcome, { ok: true, value: { colour: "blue", count: 3 }, attempts: 2, invalid: 1, failedCalls: 0 });
  assert.deepEqual(provider.requests[0].jsonSchema, jsonSchema);
  // Without feedback the retry asks the very same thing.
  assert.deepEqual(provider.requests[1].messages, messages);
});

test("chatStructured with feedback: the retry shows the model its answer and what was wrong with it", async () => {
  const provider = new ScriptedProvider(['{"colour": "green", "count": 1}', '{"colour": "red", "count": 1}']);
  const outcome = await chatStructured({ provider, messages, schema: Answer, jsonSchema, maxAttempts: 2, feedback: true });
  assert.equal(outcome.ok, true);
  const retry = provider.requests[1].messages;
  assert.equal(retry.length, 3);
  assert.equal(retry[1].content, '{"colour": "green", "count": 1}');
  assert.match(retry[2].content, /does not match the schema.*colour/s);
});

test("chatStructured: interpret refuses an answer (its error kept); a failed call is counted apart; nothing throws", async () => {
  const provider = new ScriptedProvider(['{"colour": "red", "count": 0}']);
  const interpret = (value: z.infer<typeof Answer>) => {
    if (value.count === 0) throw new EvolverError("COUNT_ZERO", "a count of zero");
    return value.count * 10;
  };
  const outcome = await chatStructured({ provider, messages, schema: Answer, jsonSchema, interpret, maxAttempts: 2 });
  // The second call meets an exhausted script: a failed call, not an invalid answer.
  assert.equal(outcome.ok, false);
  assert.deepEqual([outcome.attempts, outcome.invalid, outcome.failedCalls], [2, 1, 1]);
  assert.equal(!outcome.ok && outcome.error.code, "LLM_SCRIPT_EXHAUSTED");
  const once = await chatStructured({ provider: new ScriptedProvider(['{"colour": "red", "count": 0}']), messages, schema: Answer, jsonSchema, interpret });
  assert.equal(!once.ok && once.error.code, "COUNT_ZERO");
});

test("chatStructured: an aborted signal makes no call", async () => {
  const provider = new ScriptedProvider(['{"colour": "red", "count": 1}']);
  const controller = new AbortController();
  controller.abort();
  const outcome = await chatStructured({ provider, messages, schema: Answer, jsonSchema, signal: controller.signal });
  assert.deepEqual([outcome.ok, outcome.attempts, provider.requests.length], [false, 0, 0]);
});
