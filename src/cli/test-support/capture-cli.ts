// Runs a CLI command in this process, as `evolver` would, and captures what it printed: for tests of commands whose
// output is what matters, without paying a process start (tsx) for each on a loaded machine.
import { format } from "node:util";
import { commands } from "../commands.js";
import { runCli } from "../run-cli.js";

/** Commands print through console.log / console.error only; run one at a time (the console is swapped meanwhile). */
export async function captureCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...args: unknown[]) => void out.push(`${format(...args)}\n`);
  console.error = (...args: unknown[]) => void err.push(`${format(...args)}\n`);
  try {
    const code = await runCli(argv, commands);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    console.log = log;
    console.error = error;
  }
}
