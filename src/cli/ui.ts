// `evolver ui`: the dashboard over a run store, on 127.0.0.1, until SIGINT or SIGTERM. It reads the store only; a store
// that cannot be read yet (not created, not a run store) is named here and on every page until it can be.
import { describeError } from "../core/errors.js";
import { RunStore } from "../store/index.js";
import { startDashboard } from "../web/index.js";
import { numberOption, parseOptions, type Command, waitForStopSignal } from "./command.js";

const usage = "evolver ui [--store .evolver/runs.db] [--port 3000] [--host 127.0.0.1]";

export const uiCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parseOptions(
      argv,
      { store: { type: "string", default: ".evolver/runs.db" }, port: { type: "string", default: "3000" }, host: { type: "string", default: "127.0.0.1" } },
      usage,
    );
    try {
      new RunStore(values.store!, { readonly: true }).close();
    } catch (error) {
      console.error(`evolver ui: the store cannot be read yet (${describeError(error)}); the pages say so until it can`);
    }
    const dashboard = await startDashboard({ storePath: values.store!, host: values.host, port: numberOption("port", values.port, 3000) });
    console.log(`dashboard on ${dashboard.url} (store ${values.store}, read-only)`);
    const signal = await waitForStopSignal();
    await dashboard.close();
    console.log(`dashboard closed (${signal})`);
    return 0;
  },
};
