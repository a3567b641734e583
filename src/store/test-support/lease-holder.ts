// Another process holding a run's lease, as a running `evolver evolve` does (lease-holder-process.ts).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("./lease-holder-process.ts", import.meta.url));

/** Starts a process that takes the run's lease; resolves once it holds it. */
export async function holdLease(storePath: string, runId: string): Promise<{ pid: number; kill(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", script, storePath, runId], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      output += chunk;
      if (output.includes("held")) resolve();
    });
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => reject(new Error(`the lease holder exited (${code}): ${output}`)));
  });
  return {
    pid: child.pid!,
    kill: () => new Promise<void>((resolve) => (child.once("exit", () => resolve()), child.kill("SIGKILL"))),
  };
}
