// The environment service under load from another process: 32 keep-alive clients, each looping create, 8 steps
// with a cheap tool call, release. Reports steps/s and step latency against the same loop on a bare node:http
// server that echoes each request (the ceiling of node:http on this machine), measured in alternating rounds.
// Goal: >= 5,000 steps/s with p99 < 10 ms on 2 cores.
//
// The service runs as a user runs it: `node dist/cli/main.js env serve` (built code; `npm run build` first). The
// load generator shares the machine's cores with the server, so it is kept lean: one raw TCP socket per client, the
// request bytes prepared once per episode, and an answer read by its status line and content-length only. Wall-clock
// figures swing with whatever else the machine runs; the server's CPU time per step does not, so it is reported too
// (from /proc, where there is one), with the throughput one core could carry.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";
import type { BenchResult } from "./result.js";

const clients = 32;
const stepsPerEpisode = 8;
const envType = "bfcl-v3";
const taskId = "multi_turn_base_26";
const workLabel = `${envType} ${taskId}, ls()`;
const action = JSON.stringify({
  role: "assistant",
  content: "",
  tool_calls: [{ id: "call_0", type: "function", function: { name: "ls", arguments: "{}" } }],
});

// The baseline: node:http answering every request with its own body, as plain JavaScript.
const echoSource = `
const http = require("node:http");
const server = http.createServer({ keepAliveTimeout: 65000 }, (request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks);
    response.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    response.end(body);
  });
});
server.listen(0, "127.0.0.1", () => console.log("listening on http://127.0.0.1:" + server.address().port));
`;

interface Server {
  child: ChildProcess;
  port: number;
}

async function startServer(kind: "service" | "echo"): Promise<Server> {
  const cli = new URL("../dist/cli/main.js", import.meta.url).pathname;
  if (kind === "service" && !existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (the bench serves built code)`);
  const args = kind === "service" ? [cli, "env", "serve", "--host", "127.0.0.1", "--port", "0", "--env", envType] : ["-e", echoSource];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  const port = /http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1];
  if (!port) throw new Error(`${kind} server printed no URL: ${line}`);
  return { child, port: Number(port) };
}

/**
 * User + system CPU time of a process so far, all its threads (V8's GC and compiler too), in µs, from /proc;
 * undefined where there is no /proc.
 */
function cpuMicros(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces, hence the last ")"): utime and stime are the 12th and
  // 13th, in clock ticks of 1/100 s (USER_HZ on Linux).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * One keep-alive HTTP/1.1 connection that sends one POST at a time and resolves with the server's own time from
 * the answer's Server-Timing header (NaN where there is none: the echo). The body is skipped by its content-length
 * (both servers always send one); nothing is parsed that the figure does not need.
 */
class RawClient {
  private readonly socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private waiting?: { resolve: (serverMs: number) => void; reject: (error: Error) => void };

  constructor(port: number) {
    this.socket = connect({ host: "127.0.0.1", port, noDelay: true });
    this.socket.on("data", (chunk: Buffer) => this.read(chunk));
    this.socket.on("error", (error) => this.fail(error));
    this.socket.on("close", () => this.fail(new Error("the server closed the connection")));
  }

  /** `request` is the whole request text, from `requestText`. */
  post(request: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headEnd = this.buffer.indexOf("\r\n\r\n");
    if (headEnd < 0) return;
    const head = this.buffer.toString("latin1", 0, headEnd);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) return this.fail(new Error(`an answer without content-length: ${head}`));
    const end = headEnd + 4 + Number(length[1]);
    if (this.buffer.length < end) return;
    if (head.slice(9, 12) !== "200") return this.fail(new Error(`answered ${head.slice(9, 12)}: ${this.buffer.toString("utf8", headEnd + 4, Math.min(end, headEnd + 304))}`));
    const serverMs = Number(/\r\nserver-timing: *app;dur=([\d.]+)/i.exec(head)?.[1] ?? NaN);
    this.buffer = this.buffer.subarray(end);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve(serverMs);
  }

  private fail(error: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }
}

function requestText(path: string, body: string): string {
  return `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

interface Load {
  seconds: number;
  /** CPU time of the server and of this (load) process while measuring, in µs; the server's undefined without /proc. */
  serverCpu: number | undefined;
  loadCpu: number;
  /** Step latencies in ms, unsorted. */
  latencies: number[];
  /** The server's own time of each step in ms (its Server-Timing), unsorted; empty for the echo. */
  serverTimes: number[];
}

/**
 * Drives `clients` concurrent episode loops, first for at least 200 ms and `warmUpSteps` steps, then for `seconds`
 * while timing the steps.
 */
async function drive(server: Server, seconds: number, warmUpSteps: number): Promise<Load> {
  const latencies: number[] = [];
  const serverTimes: number[] = [];
  let stepsDone = 0;
  let measuring = false;
  let stopped = false;
  const sockets: RawClient[] = [];
  const loop = async (client: number) => {
    const socket = new RawClient(server.port);
    sockets.push(socket);
    for (let episode = 0; !stopped; episode++) {
      const id = JSON.stringify(`bench-${process.pid}-${server.port}-${client}-${episode}`);
      await socket.post(requestText("/create", `{"env_type":"${envType}","task_id":"${taskId}","instance_id":${id}}`));
      const step = requestText("/step", `{"instance_id":${id},"messages":${action}}`);
      for (let i = 0; i < stepsPerEpisode; i++) {
        const started = performance.now();
        const serverMs = await socket.post(step);
        stepsDone++;
        if (measuring) {
          latencies.push(performance.now() - started);
          if (!Number.isNaN(serverMs)) serverTimes.push(serverMs);
        }
      }
      await socket.post(requestText("/release", `{"instance_id":${id}}`));
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
  while (!stopped && stepsDone < warmUpSteps) await wait(20);
  const [serverCpuBefore, loadCpuBefore] = [cpuMicros(server.child.pid!), process.cpuUsage()];
  measuring = true;
  const started = performance.now();
  await wait(seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const loadCpuUsage = process.cpuUsage(loadCpuBefore);
  const serverCpuAfter = cpuMicros(server.child.pid!);
  const [steps, timed] = [latencies.length, serverTimes.length];
  stopped = true;
  await Promise.all(loops);
  for (const socket of sockets) socket.close();
  if (failure) throw failure;
  return {
    seconds: elapsed,
    serverCpu: serverCpuBefore === undefined || serverCpuAfter === undefined ? undefined : serverCpuAfter - serverCpuBefore,
    loadCpu: loadCpuUsage.user + loadCpuUsage.system,
    latencies: latencies.slice(0, steps),
    serverTimes: serverTimes.slice(0, timed),
  };
}

/** Sums rounds of one server into steps/s and latency percentiles. */
function summarize(rounds: Load[]) {
  const sorted = (key: "latencies" | "serverTimes") => rounds.flatMap((round) => round[key]).sort((a, b) => a - b);
  const at = (values: number[], q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))];
  const [latencies, serverTimes] = [sorted("latencies"), sorted("serverTimes")];
  const total = (key: "seconds" | "loadCpu") => rounds.reduce((sum, round) => sum + round[key], 0);
  const serverCpu = rounds.every((round) => round.serverCpu !== undefined) ? rounds.reduce((sum, round) => sum + round.serverCpu!, 0) : undefined;
  return {
    stepsPerSecond: latencies.length / total("seconds"),
    p50: at(latencies, 0.5),
    p99: at(latencies, 0.99),
    serverP99: serverTimes.length > 0 ? at(serverTimes, 0.99) : undefined,
    serverCpuPerStep: serverCpu === undefined ? undefined : serverCpu / latencies.length,
    loadCpuPerStep: total("loadCpu") / latencies.length,
  };
}

export async function run({ quick }: { quick: boolean }): Promise<BenchResult[]> {
  const seconds = quick ? 3 : 10;
  const rounds = quick ? 3 : 5;
  // A service runs for hours; its first seconds are not its speed. Until V8 has compiled the hot paths (counted in
  // calls, not time) and the BFCL data is loaded, a fresh server spent about 10 times its later CPU per step, and
  // those slow steps set the p99 of a short run. So each server first serves this many steps unmeasured.
  const warmUpSteps = quick ? 10_000 : 30_000;
  const servers: Server[] = [];
  try {
    const echo = await startServer("echo");
    servers.push(echo);
    const service = await startServer("service");
    servers.push(service);
    // Short alternating rounds, so that both servers meet the same machine (other processes come and go).
    const echoRounds: Load[] = [];
    const serviceRounds: Load[] = [];
    for (let round = 0; round < rounds; round++) {
      echoRounds.push(await drive(echo, seconds / rounds, round === 0 ? warmUpSteps : 0));
      serviceRounds.push(await drive(service, seconds / rounds, round === 0 ? warmUpSteps : 0));
    }
    const [echoLoad, serviceLoad] = [summarize(echoRounds), summarize(serviceRounds)];
    const baseline = (value: number) => ({ name: "bare node:http echo, same loop", value });
    const results: BenchResult[] = [
      {
        name: `steps/s, ${clients} clients (${workLabel})`,
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
    ];
    // The rest of a step's latency is waiting: in the server's queue behind the other clients' calls, in the
    // kernel, and in this process. The echo answers no Server-Timing.
    if (serviceLoad.serverP99 !== undefined) {
      results.push({ name: "server's own time per step p99 (Server-Timing)", value: serviceLoad.serverP99, unit: "ms" });
    }
    // CPU per step barely depends on what else the machine runs, unlike the wall-clock figures above. A step's
    // share of its episode's create and release is included.
    if (serviceLoad.serverCpuPerStep !== undefined && echoLoad.serverCpuPerStep !== undefined) {
      results.push(
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
      );
    }
    results.push({ name: "load-generator CPU per step (this process)", value: serviceLoad.loadCpuPerStep, unit: "µs", baseline: baseline(echoLoad.loadCpuPerStep) });
    return results;
  } finally {
    for (const server of servers) server.child.kill("SIGTERM");
  }
}
