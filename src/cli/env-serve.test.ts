import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

const main = new URL("./main.ts", import.meta.url).pathname;

test("env serve prints its URL, serves, and closes cleanly on SIGTERM", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", main, "env", "serve", "--port", "0", "--idle-timeout", "5"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const [first] = (await once(lines, "line")) as [string];
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+) \(environments: (.*)\)/.exec(first);
  assert.ok(url, `unexpected first line: ${first}`);
  assert.doesNotMatch(url[2], /\bremote\b/);
  assert.equal(await (await fetch(`${url[1]}/healthz`)).text(), "OK");
  const created = await fetch(`${url[1]}/create`, { method: "POST", body: JSON.stringify({ env_type: "key-chain", task_id: "nope" }) });
  assert.equal(created.status, 404);

  const rest: string[] = [];
  lines.on("line", (line) => rest.push(line));
  child.kill("SIGTERM");
  const [code] = await once(child, "exit");
  assert.equal(code, 0);
  assert.deepEqual(rest, ["env service closed (SIGTERM)"]);
});

test("env serve refuses an unknown --env with a usage error", () => {
  const result = spawnSync(process.execPath, ["--import", "tsx", main, "env", "serve", "--port", "0", "--env", "nope"], { encoding: "utf8" });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--env: unknown environment type 'nope'; known: /);
});
