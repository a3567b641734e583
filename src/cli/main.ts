#!/usr/bin/env node
// The `evolver` command. Each subcommand is a thin wrapper in its own file: parse arguments, call one library
// function, print the result. Errors reach the terminal through `runCli` only: a clear message, never a stack trace
// (set EVOLVER_DEBUG=1 to see one).
import { commands } from "./commands.js";
import { runCli } from "./run-cli.js";

// Output piped into a reader that stopped (`evolver runs audit RUN | head`) ends the command quietly.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});
process.exitCode = await runCli(process.argv.slice(2), commands);
