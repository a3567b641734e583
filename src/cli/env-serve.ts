// `evolver env serve`: serves the built-in environments over AgentEvolver's env-service HTTP protocol
// (docs/env-service.md) until SIGINT or SIGTERM, then closes cleanly.
import { EvolverError } from "../core/errors.js";
import { knownEnvironments, registerBuiltinEnvironments, registryEnvironments, startEnvService } from "../env/index.js";
import { numberOption, parseOptions, type Command, waitForStopSignal } from "./command.js";

const usage = "evolver env serve [--host 127.0.0.1] [--port 8080] [--idle-timeout 600] [--max-instances 4096] [--env NAME]...";

export const envServeCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parseOptions(
      argv,
      {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "8080" },
        "idle-timeout": { type: "string", default: "600" },
        "max-instances": { type: "string", default: "4096" },
        env: { type: "string", multiple: true },
      },
      usage,
    );
    registerBuiltinEnvironments();
    let environments;
    try {
      environments = registryEnvironments(values.env);
    } catch (error) {
      throw new EvolverError("CLI_USAGE", `--env: ${(error as Error).message}`);
    }
    const service = await startEnvService({
      host: values.host,
      port: numberOption("port", values.port, 8080),
      idleTimeoutMs: numberOption("idle-timeout", values["idle-timeout"], 600) * 1000,
      maxInstances: numberOption("max-instances", values["max-instances"], 4096),
      environments,
    });
    const served = values.env ?? knownEnvironments().filter((name) => name !== "remote");
    console.log(`env service listening on ${service.url} (environments: ${served.join(", ")})`);
    const signal = await waitForStopSignal();
    await service.close();
    console.log(`env service closed (${signal})`);
    return 0;
  },
};
