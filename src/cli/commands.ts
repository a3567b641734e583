// The table of subcommands. Add a command by importing its file and listing it here.
import type { Command } from "./command.js";

export const commands: Command[] = [];
