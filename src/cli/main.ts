#!/usr/bin/env node
// The `evolver` command. Each subcommand is a thin wrapper in its own file: parse arguments, call one library
// function, print the result. Errors reach the terminal through `runCli` only: a clear message, never a stack trace
// (set EVOLVER_DEBUG=1 to see one).
import { commands } from "./commands.js";
import { runCli } from "./run-cli.js";

process.exitCode = await runCli(process.argv.slice(2), commands);
