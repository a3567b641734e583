import { test } from "node:test";
import assert from "node:assert/strict";
import { BfclCallError, type BfclApiClass } from "./apis/types.js";
import { BfclExecution, bfclCategory, isLongContextEntry } from "./executor.js";
import { pyFloat, type PyDict, type PyValue } from "./python/value.js";
import { parseBfclCall } from "./python/call-parser.js";

// A small backend with the shapes the executor must handle: defaults, a Python exception, a JS crash.
const Probe: BfclApiClass = {
  className: "Probe",
  docFile: "probe",
  create() {
    let loaded: PyDict = {};
    let longContext = false;
    return {
      loadScenario(config, isLong) {
        loaded = config;
        longContext = isLong;
      },
      state: () => ({ loaded, long_context: longContext }),
      methods: {
        echo: { params: [{ name: "text", required: true }, { name: "times", required: false }], call: (a) => ({ text: a.text, times: a.times ?? 1 }) },
        pair: { params: [{ name: "a", required: true }, { name: "b", required: true }, { name: "c", required: true }], call: () => null },
        none: { params: [], call: () => [pyFloat(1), 2] },
        keep: { params: [{ name: "items", required: true }], call: (a) => ((a.items as PyValue[]).push("added"), a.items) },
        raises: { params: [], call: () => { throw new BfclCallError("'missing'"); } },
        crashes: { params: [{ name: "x", required: true }], call: (a) => (a.x as unknown as { y: { z: number } }).y.z },
      },
    };
  },
};

const entry = (id = "multi_turn_base_0") => ({ id, involved_classes: ["Probe"], initial_config: { Probe: { k: 1 }, Other: { z: 2 } } });
const run = (text: string) => new BfclExecution(entry(), { classes: { Probe } }).executeText(text);

test("results are stringified as BFCL records them", () => {
  assert.equal(run("echo(text='hi')"), '{"text": "hi", "times": 1}');
  assert.equal(run("echo('hi', 2)"), '{"text": "hi", "times": 2}');
  assert.equal(run("none()"), "[1.0, 2]");
});

test("unknown and forbidden function names get BFCL's error strings", () => {
  assert.equal(run("cd(folder='x')"), "Error during execution: name 'cd' is not defined");
  assert.equal(run("exit()"), "Error during execution: Function call exit is not allowed.");
});

test("argument errors read like CPython 3.10's TypeError for a bound method", () => {
  assert.equal(run("echo(text='a', x=1)"), "Error during execution: Probe.echo() got an unexpected keyword argument 'x'");
  assert.equal(run("echo('a', text='b')"), "Error during execution: Probe.echo() got multiple values for argument 'text'");
  assert.equal(run("echo()"), "Error during execution: Probe.echo() missing 1 required positional argument: 'text'");
  assert.equal(run("pair(b=1)"), "Error during execution: Probe.pair() missing 2 required positional arguments: 'a' and 'c'");
  assert.equal(run("pair()"), "Error during execution: Probe.pair() missing 3 required positional arguments: 'a', 'b', and 'c'");
  assert.equal(run("echo(1, 2, 3)"), "Error during execution: Probe.echo() takes from 2 to 3 positional arguments but 4 were given");
  assert.equal(run("pair(1, 2, 3, 4)"), "Error during execution: Probe.pair() takes 4 positional arguments but 5 were given");
  assert.equal(run("none(1)"), "Error during execution: Probe.none() takes 1 positional argument but 2 were given");
  // An unexpected keyword is reported before too many positional arguments, as CPython does.
  assert.equal(run("none(1, q=2)"), "Error during execution: Probe.none() got an unexpected keyword argument 'q'");
});

test("exceptions inside a backend become observations, never crashes", () => {
  assert.equal(run("raises()"), "Error during execution: 'missing'");
  assert.match(run("crashes(x=5)"), /^Error during execution: Cannot read properties of undefined/);
});

test("scenario: a copy of the class's config, long-context mode from the category", () => {
  const execution = new BfclExecution(entry(), { classes: { Probe } });
  assert.deepEqual(execution.state(), { Probe: { loaded: { k: 1 }, long_context: false } });
  const long = new BfclExecution(entry("multi_turn_long_context_3"), { classes: { Probe } });
  assert.equal(long.state().Probe.long_context, true);
  assert.equal(bfclCategory("multi_turn_miss_func_12"), "multi_turn_miss_func");
  assert.equal(isLongContextEntry("multi_turn_base_12"), false);
  assert.throws(() => new BfclExecution({ id: "x_1", involved_classes: ["Nope"], initial_config: {} }, { classes: { Probe } }), /unknown BFCL class 'Nope'/);
});

test("the real class table: TicketAPI executes with Python's argument errors", () => {
  const execution = new BfclExecution({ id: "multi_turn_base_1", involved_classes: ["TicketAPI"], initial_config: {} });
  assert.equal(execution.executeText("get_ticket()"), "Error during execution: TicketAPI.get_ticket() missing 1 required positional argument: 'ticket_id'");
  assert.equal(execution.executeText("ticket_login(username='u', password='p')"), '{"success": true}');
});

test("a call's list arguments are fresh each time, as Python evaluates literals anew", () => {
  // A backend that keeps and mutates a list it was given must not change the recorded call (the grader re-runs it).
  const call = parseBfclCall("keep(items=['a'])");
  const execution = new BfclExecution(entry(), { classes: { Probe } });
  assert.equal(execution.execute(call), "['a', 'added']");
  assert.equal(execution.execute(call), "['a', 'added']");
  assert.deepEqual(call.keyword, [["items", ["a"]]]);
});
