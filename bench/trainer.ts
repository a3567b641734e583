// The local trainer through the Tinker protocol (TinkerClient -> HTTP -> trainer/server.py) against the same torch
// work called directly in Python (trainer/bench_direct.py, run in this bench run): forward-backward tokens/s (goal:
// the protocol keeps >= 0.9 of the direct rate), sampler tokens/s, and the trainer process's peak RSS. Direct and
// protocol calls are interleaved round by round. Sampling with 64 requests in flight against 1 in flight (the goal of
// continuous batching: >= 10x tokens/s on the tiny model).
// Models: the tiny random Qwen2 of writeTinyModel, and (full mode) its 0.5B-shaped variant. The client speaks the
// SDK's wire format (protobuf forward_backward and results, TinkerClient's wire: auto); bench/trainer-wire.ts times
// reading results from protobuf against JSON.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { tinyModelShapes, writeTinyModel } from "../src/llm/index.js";
import { LocalTrainer, resolvePython, type TinkerDatum } from "../src/train/index.js";
import type { BenchResult } from "./result.js";
import { updateSharing } from "./trainer-update.js";
import { wireDecoding } from "./trainer-wire.js";

interface Workload {
  shape: "tiny" | "0.5b";
  /** Each forward_backward call: `datums` sequences of `length` tokens. */
  datums: number;
  length: number;
  warmup: number;
  rounds: number;
  sampleTokens: number;
  numSamples: number;
  sampleRounds: number;
  /** Tokens per request of the in-flight figure (a rollout step's sample). */
  flightTokens: number;
}

const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const loraRank = 32;

/** The same sequences as trainer/bench_direct.py's bench_datums. */
function benchDatums(count: number, length: number, vocabSize: number): TinkerDatum[] {
  return Array.from({ length: count }, (_, d) => {
    const sequence = Array.from({ length: length + 1 }, (_, i) => (d * 31 + i * 7 + 3) % vocabSize);
    return {
      model_input: { chunks: [{ type: "encoded_text" as const, tokens: sequence.slice(0, -1) }] },
      loss_fn_inputs: {
        target_tokens: { data: sequence.slice(1), dtype: "int64" as const, shape: [length] },
        weights: { data: new Array<number>(length).fill(1), dtype: "float32" as const, shape: [length] },
      },
    };
  });
}

function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmHWM:"));
  return line ? Number(line.split(/\s+/)[1]) / 1024 : Number.NaN;
}

/** The direct-Python baseline process (trainer/bench_direct.py): one command per line in, one JSON line out. */
class DirectPython {
  private constructor(
    private readonly child: ChildProcess,
    private readonly lines: AsyncIterator<string>,
  ) {}

  static async start(modelDir: string, work: Workload): Promise<DirectPython> {
    const args = ["-m", "trainer.bench_direct", "--base-model", modelDir, "--datums", String(work.datums), "--length", String(work.length),
      "--lora-rank", String(loraRank), "--sample-tokens", String(work.sampleTokens), "--num-samples", String(work.numSamples)];
    const child = spawn(resolvePython(), args, { cwd: repoRoot, stdio: ["pipe", "pipe", "inherit"] });
    const direct = new DirectPython(child, createInterface({ input: child.stdout! })[Symbol.asyncIterator]());
    await direct.read();
    return direct;
  }

  private async read(): Promise<Record<string, number>> {
    const next = await this.lines.next();
    if (next.done) throw new Error("trainer.bench_direct exited early");
    return JSON.parse(next.value);
  }

  async ask(command: "fb" | "sample" | "rss"): Promise<Record<string, number>> {
    this.child.stdin!.write(`${command}\n`);
    return this.read();
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    await once(this.child, "exit");
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Direct and protocol calls alternate, round by round, so both meet the same machine load (this machine is shared;
 * a block of one then a block of the other would compare two different moments). Rates are medians over rounds.
 */
async function measure(modelDir: string, work: Workload, vocabSize: number) {
  const direct = await DirectPython.start(modelDir, work);
  const trainer = await LocalTrainer.start({ baseModel: modelDir, loraRank, startTimeoutMs: 600_000 });
  try {
    const client = await trainer.connect({ heartbeatMs: 0 });
    const training = await client.createTrainingClient({ baseModel: "model", loraRank, seed: 0 });
    const datums = benchDatums(work.datums, work.length, vocabSize);
    const tokens = work.datums * work.length;
    const ticksPerSecond = 100; // USER_HZ, the unit of /proc/<pid>/stat times on Linux
    const trainerCpuSeconds = () => {
      const fields = readFileSync(`/proc/${trainer.pid}/stat`, "utf8").split(") ")[1].split(" ");
      return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond; // utime + stime
    };
    const rounds = { direct: [] as number[], protocol: [] as number[], ratio: [] as number[], efficiency: [] as number[] };
    const cpu = { direct: 0, protocol: 0 };
    for (let round = 0; round < work.warmup + work.rounds; round++) {
      const answer = await direct.ask("fb");
      const started = performance.now();
      const trainerCpu = trainerCpuSeconds();
      const clientCpu = process.cpuUsage();
      const { metrics } = await training.forwardBackward(datums, "cross_entropy");
      const seconds = (performance.now() - started) / 1000;
      const protocolRate = tokens / seconds;
      const clientCpuUsed = process.cpuUsage(clientCpu);
      if (round < work.warmup) continue;
      const directRate = answer.tokens / answer.seconds;
      rounds.direct.push(directRate);
      rounds.protocol.push(protocolRate);
      rounds.ratio.push(protocolRate / directRate);
      rounds.efficiency.push(metrics["trainer_seconds:sum"] / seconds);
      cpu.direct += answer.cpu_seconds;
      cpu.protocol += trainerCpuSeconds() - trainerCpu + (clientCpuUsed.user + clientCpuUsed.system) / 1e6;
    }

    const sampler = await training.saveWeightsForSampler("bench");
    const request = { promptTokens: datums[0].model_input.chunks[0].tokens.slice(0, 16), maxTokens: work.sampleTokens, temperature: 1, seed: 0 };
    const sampling = { direct: [] as number[], protocol: [] as number[] };
    for (let round = 0; round < 1 + work.sampleRounds; round++) {
      const answer = await direct.ask("sample");
      const started = performance.now();
      const { sequences } = await sampler.sampleMany({ ...request, numSamples: work.numSamples });
      const protocolRate = sequences.reduce((n, s) => n + s.tokens.length, 0) / ((performance.now() - started) / 1000);
      if (round >= 1) {
        sampling.direct.push(answer.tokens / answer.seconds);
        sampling.protocol.push(protocolRate);
      }
    }
    // continuous batching: 64 rollouts' requests in flight at once against one at a time, same sampler, same run
    const flight = { one: [] as number[], many: [] as number[], ratio: [] as number[] };
    const inFlight = async (concurrent: number, requests: number) => {
      const started = performance.now();
      let next = 0;
      let produced = 0;
      const lane = async () => {
        while (next < requests) {
          const seed = next++;
          // awaited first: `produced += await …` would read produced before the wait and lose the other lanes' tokens
          const { tokens } = await sampler.sample({ ...request, maxTokens: work.flightTokens, seed });
          produced += tokens.length;
        }
      };
      await Promise.all(Array.from({ length: concurrent }, lane));
      return produced / ((performance.now() - started) / 1000);
    };
    for (let round = 0; round < 1 + work.sampleRounds; round++) {
      const one = await inFlight(1, 4);
      const many = await inFlight(64, 64);
      if (round >= 1) {
        flight.one.push(one);
        flight.many.push(many);
        flight.ratio.push(many / one);
      }
    }
    const rss = { protocol: peakRssMb(trainer.pid!), direct: (await direct.ask("rss")).peak_rss_mb };
    client.close();
    return {
      // the ratio is the median of per-round ratios: a round's two calls meet the same load, rounds do not
      fb: { direct: median(rounds.direct), protocol: median(rounds.protocol), ratio: median(rounds.ratio), cpuRatio: cpu.direct / cpu.protocol,
        efficiency: median(rounds.efficiency) },
      sample: { direct: median(sampling.direct), protocol: median(sampling.protocol) },
      // as forward_backward's: the median of per-round ratios, each round's two measurements taken back to back
      flight: { one: median(flight.one), many: median(flight.many), ratio: median(flight.ratio) },
      rss,
    };
  } finally {
    await trainer.stop();
    await direct.stop();
  }
}

export async function run({ quick }: { quick: boolean }): Promise<BenchResult[]> {
  const workloads: Workload[] = [
    // 4,096 tokens a call: enough work that a fixed per-call cost (HTTP, JSON, polling) shows as what it is
    { shape: "tiny", datums: 16, length: 256, warmup: 2, rounds: quick ? 9 : 21, sampleTokens: 64, numSamples: 4, sampleRounds: quick ? 3 : 7, flightTokens: 16 },
  ];
  if (!quick) workloads.push({ shape: "0.5b", datums: 2, length: 128, warmup: 1, rounds: 3, sampleTokens: 16, numSamples: 2, sampleRounds: 1, flightTokens: 4 });
  const results: BenchResult[] = [];
  for (const work of workloads) {
    const dir = mkdtempSync(join(tmpdir(), "evolver-bench-trainer-"));
    try {
      const modelDir = join(dir, "model");
      const files = writeTinyModel(modelDir, { ...tinyModelShapes[work.shape], formats: ["hf"], seed: 0 });
      const measured = await measure(modelDir, work, files.vocabSize);
      const label = `${work.shape} (${(files.parameterCount / 1e6).toFixed(1)}M params, LoRA ${loraRank})`;
      const fbRatio = measured.fb.ratio;
      results.push(
        {
          name: `${label}: forward_backward via protocol`,
          value: measured.fb.protocol,
          unit: "tokens/s",
          baseline: { name: "same work called directly in Python", value: measured.fb.direct },
          ratio: fbRatio,
          goal: ">= 0.9 of direct",
          ok: fbRatio >= 0.9,
        },
        {
          name: `${label}: forward_backward CPU time, direct / protocol (trainer + client)`,
          value: measured.fb.cpuRatio,
          unit: "x",
          goal: ">= 0.9 (the same goal in CPU time, which a shared machine's load skews less than wall time)",
          ok: measured.fb.cpuRatio >= 0.9,
        },
        {
          name: `${label}: forward_backward trainer compute / end-to-end time, same call`,
          value: measured.fb.efficiency,
          unit: "x",
          goal: ">= 0.9 (the protocol's own share of a call's time, measured within each call)",
          ok: measured.fb.efficiency >= 0.9,
        },
        {
          name: `${label}: sampling via protocol`,
          value: measured.sample.protocol,
          unit: "tokens/s",
          baseline: { name: "same sampling called directly in Python", value: measured.sample.direct },
          ratio: measured.sample.protocol / measured.sample.direct,
        },
        {
          name: `${label}: sampling tokens/s with 64 requests in flight (continuous batching)`,
          value: measured.flight.many,
          unit: "tokens/s",
          baseline: { name: "1 request in flight", value: measured.flight.one },
          ratio: measured.flight.ratio,
          goal: work.shape === "tiny" ? ">= 10x" : undefined,
          ok: work.shape === "tiny" ? measured.flight.ratio >= 10 : undefined,
        },
        {
          name: `${label}: trainer peak RSS`,
          value: measured.rss.protocol,
          unit: "MiB",
          baseline: { name: "direct Python process", value: measured.rss.direct },
          ratio: measured.rss.protocol / measured.rss.direct,
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // the client's reading of the tiny workload's results, JSON against protobuf (the wire format the client asks for)
  const [tiny] = workloads;
  results.push(...(await wireDecoding({ quick, datums: tiny.datums, length: tiny.length, samples: tiny.numSamples, sampleTokens: tiny.sampleTokens })));
  results.push(...updateSharing({ quick }));
  return results;
}
