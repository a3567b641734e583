// Runs the local trainer (`python3 -m trainer.server`, see trainer/server.py) as a child process: picks a Python
// with torch, waits until /healthz answers, restarts it after a crash on the same port and checkpoint folder (so a
// TrainingClient can `recover()` its last saved state), and stops it cleanly.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { trainerError } from "./errors.js";
import { TinkerClient, type TinkerClientOptions } from "./tinker-client.js";

export interface LocalTrainerOptions {
  /** HF model folder: config.json + model.safetensors (or shards). */
  baseModel: string;
  host?: string;
  /** 0 (default) lets the server pick a free port; a restart reuses the port it got. */
  port?: number;
  /** Python to run. Default: env EVOLVER_PYTHON, else /usr/bin/python3 if it imports torch, else python3. */
  python?: string;
  /** Rank when create_model names none; 0 = full fine-tuning. */
  loraRank?: number;
  /** auto (the server's default): CUDA when torch sees a GPU, bfloat16 weights where it supports them; else the CPU. */
  device?: "auto" | "cpu" | "cuda";
  /** Where checkpoints live. Default: a fresh temporary folder, kept across restarts of this launcher's server. */
  checkpointDir?: string;
  microBatchTokens?: number;
  /** batched (default): concurrent sample requests share forward steps; unbatched: one request at a time. */
  sampling?: "batched" | "unbatched";
  /** Name reported to clients; default the model folder's name. */
  modelName?: string;
  /** torch CPU threads (0 = torch's default). */
  threads?: number;
  startTimeoutMs?: number;
  /** Restart after an unexpected exit, at most this many times (default 3; 0 = never). */
  maxRestarts?: number;
  /** Called after a restart, with the restart count; a TrainingClient should then `recover()`. */
  onRestart?: (restarts: number) => void;
  /** Each line the server writes to stderr. Default: dropped. */
  onLog?: (line: string) => void;
}

/** The folder that holds the `trainer` Python package (the repository or the installed package root). */
const packageRoot = fileURLToPath(new URL("../../", import.meta.url));

let detectedPython: string | undefined;

/** EVOLVER_PYTHON, else /usr/bin/python3 when it can import torch, else python3. */
export function resolvePython(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.EVOLVER_PYTHON) return process.env.EVOLVER_PYTHON;
  if (detectedPython === undefined) {
    // find_spec looks for torch without importing it: an import can take minutes on a loaded machine
    const probe = spawnSync("/usr/bin/python3", ["-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"], { stdio: "ignore", timeout: 60_000 });
    detectedPython = probe.status === 0 ? "/usr/bin/python3" : "python3";
  }
  return detectedPython;
}

export class LocalTrainer {
  private child?: ChildProcess;
  private stopping = false;
  private restarts = 0;
  private port: number;
  private exited?: Promise<void>;
  private restarting?: Promise<void>;
  readonly checkpointDir: string;
  readonly python: string;
  /** Where the server runs and its weights' dtype, as it reported when it started (e.g. "cpu", "float32"). */
  device = "";
  dtype = "";
  /** The kernels of the OpenBLAS its torch runs (e.g. "SkylakeX"; "Prescott" is OpenBLAS's fallback for a CPU it does
   * not know, about half the speed), or "" where torch uses another BLAS. */
  blas = "";

  private constructor(private readonly options: LocalTrainerOptions) {
    this.port = options.port ?? 0;
    this.checkpointDir = resolve(options.checkpointDir ?? mkdtempSync(join(tmpdir(), "evolver-trainer-")));
    this.python = resolvePython(options.python);
  }

  static async start(options: LocalTrainerOptions): Promise<LocalTrainer> {
    const trainer = new LocalTrainer(options);
    await trainer.launch();
    return trainer;
  }

  get baseUrl(): string {
    return `http://${this.options.host ?? "127.0.0.1"}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get restartCount(): number {
    return this.restarts;
  }

  /** A protocol client of this server. */
  connect(options: Omit<TinkerClientOptions, "baseUrl"> = {}): Promise<TinkerClient> {
    return TinkerClient.connect({ ...options, baseUrl: this.baseUrl });
  }

  /** Resolves once a restart after a crash has finished (at once when none is under way). */
  async ready(): Promise<void> {
    await this.restarting;
  }

  private args(): string[] {
    const o = this.options;
    const args = ["-m", "trainer.server", "--base-model", resolve(o.baseModel), "--host", o.host ?? "127.0.0.1", "--port", String(this.port),
      "--checkpoint-dir", this.checkpointDir];
    if (o.loraRank !== undefined) args.push("--lora-rank", String(o.loraRank));
    if (o.device) args.push("--device", o.device);
    if (o.microBatchTokens !== undefined) args.push("--micro-batch-tokens", String(o.microBatchTokens));
    if (o.modelName) args.push("--model-name", o.modelName);
    if (o.sampling) args.push("--sampling", o.sampling);
    if (o.threads) args.push("--threads", String(o.threads));
    return args;
  }

  private launch(): Promise<void> {
    // its own process group, so a terminal's Ctrl-C reaches only us and we stop it in order; it watches its stdin
    // and exits when we do, however we end
    // OpenMP's idle threads spin by default: with more than one torch thread, a 64-row decode step of the tiny model
    // took 13-30 ms of CPU against 2.5 ms with PASSIVE (2 threads, 2 cores shared with this process); a user's
    // setting wins
    const env = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? "PASSIVE" };
    const child = spawn(this.python, [...this.args(), "--exit-with-stdin"], { cwd: packageRoot, stdio: ["pipe", "pipe", "pipe"], detached: true, env });
    this.child = child;
    const stderrTail: string[] = [];
    readLines(child.stderr!, (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      this.options.onLog?.(line);
    });
    // "close", not "exit": it comes after stderr has been read to its end, so the trainer's last lines are logged
    // before stop() returns (on "exit" a run could end on the first line of a traceback)
    this.exited = new Promise((resolveExit) => child.once("close", () => resolveExit()));
    const timeoutMs = this.options.startTimeoutMs ?? 120_000;

    const listening = new Promise<void>((resolveStart, rejectStart) => {
      const fail = (why: string) =>
        rejectStart(trainerError("TRAINER_START_FAILED", `the local trainer did not start (${why})${stderrTail.length ? `:\n${stderrTail.join("\n")}` : ""}`, {
          details: { python: this.python, baseModel: this.options.baseModel },
        }));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        fail(`no answer within ${timeoutMs} ms`);
      }, timeoutMs);
      child.once("error", (error) => {
        clearTimeout(timer);
        fail(`${this.python}: ${error.message}`);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        fail(`exit code ${code ?? signal}`);
      });
      readLines(child.stdout!, (line) => {
        let event: { event?: string; port?: number; device?: string; dtype?: string; blas?: string | null };
        try {
          event = JSON.parse(line);
        } catch {
          return;
        }
        if (event.event !== "listening" || typeof event.port !== "number") return;
        this.port = event.port;
        this.device = event.device ?? "";
        this.dtype = event.dtype ?? "";
        this.blas = event.blas ?? "";
        waitForHealth(this.baseUrl, timeoutMs).then(
          () => {
            clearTimeout(timer);
            resolveStart();
          },
          (error: Error) => {
            clearTimeout(timer);
            fail(error.message);
          },
        );
      });
    });
    return listening.then(() => {
      child.once("exit", () => this.onUnexpectedExit(child));
    });
  }

  private onUnexpectedExit(child: ChildProcess): void {
    if (this.stopping || child !== this.child) return;
    if (this.restarts >= (this.options.maxRestarts ?? 3)) return;
    this.restarts += 1;
    const count = this.restarts;
    this.restarting = this.launch().then(
      () => this.options.onRestart?.(count),
      (error) => this.options.onLog?.(`restart ${count} failed: ${(error as Error).message}`),
    );
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    await this.restarting;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // Closing its stdin is the trainer's own signal to stop (--exit-with-stdin); SIGTERM makes sure.
    child.stdin?.end();
    child.kill("SIGTERM");
    const killed = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(killed);
  }
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  });
}

async function waitForHealth(baseUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${baseUrl}/api/v1/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) throw new Error(`/healthz did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
