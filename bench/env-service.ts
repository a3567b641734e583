// The environment service under load from another process: 32 keep-alive clients, each looping create, 8 steps
// with a cheap tool call, release. Reports steps/s and step latency against the same loop on a bare node:http
// server that echoes each request (the ceiling of node:http on this machine), measured in alternating rounds.
// Goal: >= 5,000 steps/s with p99 < 10 ms on 2 cores. Wall-clock figures swing with whatever else the machine
// runs; the server's CPU time per step does not, so it is reported too, with the throughput one core could carry.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { Agent, request } from "node:http";
import { createInterface } from "node:readline";
import { knownEnvironments, registerBuiltinEnvironments } from "../src/env/index.js";
import type { BenchResult } from "./result.js";

const clients = 32;
const stepsPerEpisode = 8;

interface Workload {
  label: string;
  envType: string;
  taskId: string;
  /** The step action, as JSON text. */
  action: string;
}

function workload(): Workload {
  registerBuiltinEnvironments();
  const call = (name: string, args: string) =>
    JSON.stringify({ role: "assistant", content: "", tool_calls: [{ id: "call_0", type: "function", function: { name, arguments: args } }] });
  if (knownEnvironments().includes("bfcl-v3")) {
    return { label: "bfcl-v3 multi_turn_base_26, ls()", envType: "bfcl-v3", taskId: "multi_turn_base_26", action: call("ls", "{}") };
  }
  return { label: "counter toy: bfcl-v3 not registered", envType: "counter", taskId: "count-to-6", action: call("read_count", "{}") };
}

async function startChild(mode: "service" | "echo"): Promise<{ child: ChildProcess; url: URL }> {
  const script = new URL("./env-service-child.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import", "tsx", script, mode], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  return { child, url: new URL(line) };
}

/** The child's user + system CPU time so far, in µs. */
async function cpuMicros(child: ChildProcess): Promise<number> {
  child.send("cpu");
  const [usage] = (await once(child, "message")) as [NodeJS.CpuUsage];
  return usage.user + usage.system;
}

interface Load {
  seconds: number;
  /** CPU time of the server and of this (load) process while measuring, in µs. */
  serverCpu: number;
  loadCpu: number;
  /** Step latencies in ms, unsorted. */
  latencies: number[];
}

/** Drives `clients` concurrent episode loops for `seconds` after a short warm-up; times only the steps. */
async function drive({ url, child }: { url: URL; child: ChildProcess }, work: Workload, seconds: number): Promise<Load> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const post = (path: string, body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path, method: "POST", agent, headers: { "content-length": Buffer.byteLength(body) } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          if (res.statusCode !== 200) return reject(new Error(`${path} answered ${res.statusCode}: ${text.slice(0, 300)}`));
          JSON.parse(text);
          resolve();
        });
      });
      req.on("error", reject);
      req.end(body);
    });

  const latencies: number[] = [];
  let measuring = false;
  let stopped = false;
  const loop = async (client: number) => {
    for (let episode = 0; !stopped; episode++) {
      const id = JSON.stringify(`bench-${process.hrtime.bigint()}-${client}-${episode}`);
      await post("/create", `{"env_type":${JSON.stringify(work.envType)},"task_id":${JSON.stringify(work.taskId)},"instance_id":${id}}`);
      const step = `{"instance_id":${id},"messages":${work.action}}`;
      for (let i = 0; i < stepsPerEpisode; i++) {
        const started = performance.now();
        await post("/step", step);
        if (measuring) latencies.push(performance.now() - started);
      }
      await post("/release", `{"instance_id":${id}}`);
    }
  };
  // A failed call stops every loop at once, and the run reports it instead of a figure.
  let failure: unknown;
  const loops = Array.from({ length: clients }, (_, client) =>
    loop(client).catch((error: unknown) => {
      failure ??= error;
      stopped = true;
    }),
  );
  const wait = async (ms: number) => {
    for (const end = performance.now() + ms; !stopped && performance.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  await wait(200);
  const [serverCpuBefore, loadCpuBefore] = [await cpuMicros(child), process.cpuUsage()];
  measuring = true;
  const started = performance.now();
  await wait(seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const steps = latencies.length;
  const loadCpuUsage = process.cpuUsage(loadCpuBefore);
  const serverCpu = (await cpuMicros(child)) - serverCpuBefore;
  stopped = true;
  await Promise.all(loops);
  agent.destroy();
  if (failure) throw failure;
  return { seconds: elapsed, serverCpu, loadCpu: loadCpuUsage.user + loadCpuUsage.system, latencies: latencies.slice(0, steps) };
}

/** Sums rounds of one server into steps/s and latency percentiles. */
function summarize(rounds: Load[]) {
  const latencies = rounds.flatMap((round) => round.latencies).sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  const total = (key: "seconds" | "serverCpu" | "loadCpu") => rounds.reduce((sum, round) => sum + round[key], 0);
  return {
    stepsPerSecond: latencies.length / total("seconds"),
    p50: at(0.5),
    p99: at(0.99),
    serverCpuPerStep: total("serverCpu") / latencies.length,
    loadCpuPerStep: total("loadCpu") / latencies.length,
  };
}

export async function run({ quick }: { quick: boolean }): Promise<BenchResult[]> {
  const seconds = quick ? 3 : 10;
  const rounds = quick ? 3 : 5;
  const work = workload();
  const children: ChildProcess[] = [];
  try {
    const echo = await startChild("echo");
    children.push(echo.child);
    const service = await startChild("service");
    children.push(service.child);
    // Short alternating rounds, so that both servers meet the same machine (other processes come and go).
    const echoRounds: Load[] = [];
    const serviceRounds: Load[] = [];
    for (let round = 0; round < rounds; round++) {
      echoRounds.push(await drive(echo, work, seconds / rounds));
      serviceRounds.push(await drive(service, work, seconds / rounds));
    }
    const [echoLoad, serviceLoad] = [summarize(echoRounds), summarize(serviceRounds)];
    const baseline = (value: number) => ({ name: "bare node:http echo, same loop", value });
    return [
      {
        name: `steps/s, ${clients} clients (${work.label})`,
        value: serviceLoad.stepsPerSecond,
        unit: "steps/s",
        baseline: baseline(echoLoad.stepsPerSecond),
        ratio: serviceLoad.stepsPerSecond / echoLoad.stepsPerSecond,
        goal: ">= 5000 steps/s on 2 cores",
        ok: serviceLoad.stepsPerSecond >= 5000,
      },
      { name: "step latency p50", value: serviceLoad.p50, unit: "ms", baseline: baseline(echoLoad.p50), ratio: serviceLoad.p50 / echoLoad.p50 },
      {
        name: "step latency p99",
        value: serviceLoad.p99,
        unit: "ms",
        baseline: baseline(echoLoad.p99),
        ratio: serviceLoad.p99 / echoLoad.p99,
        goal: "< 10 ms",
        ok: serviceLoad.p99 < 10,
      },
      // CPU per step barely depends on what else the machine runs, unlike the wall-clock figures above. A step's
      // share of its episode's create and release is included.
      {
        name: "server CPU per step",
        value: serviceLoad.serverCpuPerStep,
        unit: "µs",
        baseline: baseline(echoLoad.serverCpuPerStep),
        ratio: serviceLoad.serverCpuPerStep / echoLoad.serverCpuPerStep,
      },
      {
        name: "steps/s one server core can carry (1e6 / CPU per step)",
        value: 1e6 / serviceLoad.serverCpuPerStep,
        unit: "steps/s",
        baseline: baseline(1e6 / echoLoad.serverCpuPerStep),
        ratio: echoLoad.serverCpuPerStep / serviceLoad.serverCpuPerStep,
      },
      { name: "load-generator CPU per step (this process)", value: serviceLoad.loadCpuPerStep, unit: "µs", baseline: baseline(echoLoad.loadCpuPerStep) },
    ];
  } finally {
    for (const child of children) child.kill("SIGTERM");
  }
}
