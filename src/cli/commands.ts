// The table of subcommands. Add a command by importing its file and listing it here.
import type { Command } from "./command.js";
import { envReplayCommand } from "./env-replay.js";
import { envServeCommand } from "./env-serve.js";
import { evalCommand } from "./eval.js";
import { modelServeCommand } from "./model-serve.js";
import { modelTinyCommand } from "./model-tiny.js";
import { evolveCommand } from "./evolve.js";
import { runsCommand } from "./runs.js";
import { runsAuditCommand } from "./runs-audit.js";
import { runsShowCommand } from "./runs-show.js";
import { trainerServeCommand } from "./trainer-serve.js";
import { validateCommand } from "./validate.js";

export const commands: Command[] = [
  envReplayCommand,
  envServeCommand,
  evalCommand,
  modelServeCommand,
  modelTinyCommand,
  evolveCommand,
  validateCommand,
  runsCommand,
  runsShowCommand,
  runsAuditCommand,
  trainerServeCommand,
];
