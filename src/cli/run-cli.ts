import { EvolverError, describeError } from "../core/errors.js";
import type { CommandEntry } from "./command.js";

function helpText(commands: CommandEntry[]): string {
  const lines = ["usage: evolver <command> [options]", "", "commands:"];
  for (const command of commands) lines.push(`  ${command.path.join(" ").padEnd(18)} ${command.summary}`);
  lines.push("", "Run 'evolver <command> --help' for a command's options.");
  return lines.join("\n");
}

/** Finds the command whose path is the longest prefix of argv, loads and runs it, and maps errors to exit codes. */
export async function runCli(argv: string[], commands: CommandEntry[]): Promise<number> {
  const matches = commands.filter((c) => c.path.every((word, i) => argv[i] === word));
  const command = matches.sort((a, b) => b.path.length - a.path.length)[0];
  if (!command) {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
      console.log(helpText(commands));
      return argv.length === 0 ? 2 : 0;
    }
    console.error(`evolver: unknown command '${argv.join(" ")}'\n\n${helpText(commands)}`);
    return 2;
  }
  const rest = argv.slice(command.path.length);
  try {
    const loaded = await command.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(`${command.summary}\n\nusage: ${loaded.usage}`);
      return 0;
    }
    return await loaded.run(rest);
  } catch (error) {
    if (process.env.EVOLVER_DEBUG) console.error(error);
    console.error(`evolver ${command.path.join(" ")}: ${describeError(error)}`);
    return EvolverError.isInstance(error) && error.code === "CLI_USAGE" ? 2 : 1;
  }
}
