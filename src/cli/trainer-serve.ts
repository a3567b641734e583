// `evolver trainer serve`: runs the local PyTorch trainer (trainer/server.py) behind the Tinker protocol until SIGINT
// or SIGTERM, restarting it if it crashes. Point TinkerClient (or Tinker's SDK <= 0.24) at the printed URL.
import { EvolverError } from "../core/errors.js";
import { LocalTrainer } from "../train/index.js";
import { numberOption, parseOptions, type Command, waitForStopSignal } from "./command.js";

const usage =
  "evolver trainer serve --base-model DIR [--host 127.0.0.1] [--port 8000] [--lora-rank 32] [--device auto|cpu|cuda] " +
  "[--checkpoint-dir DIR] [--micro-batch-tokens 2048] [--python PATH] [--model-name NAME]";

export const trainerServeCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parseOptions(
      argv,
      {
        "base-model": { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "8000" },
        "lora-rank": { type: "string" },
        device: { type: "string", default: "auto" },
        "checkpoint-dir": { type: "string" },
        "micro-batch-tokens": { type: "string" },
        python: { type: "string" },
        "model-name": { type: "string" },
      },
      usage,
    );
    if (!values["base-model"]) throw new EvolverError("CLI_USAGE", `--base-model is required\nusage: ${usage}`);
    if (values.device !== "auto" && values.device !== "cpu" && values.device !== "cuda") {
      throw new EvolverError("CLI_USAGE", `--device must be auto, cpu or cuda, got '${values.device}'`);
    }
    const optional = (name: string, value: string | undefined) => (value === undefined ? undefined : numberOption(name, value, 0));
    const trainer = await LocalTrainer.start({
      baseModel: values["base-model"],
      host: values.host,
      port: numberOption("port", values.port, 8000),
      loraRank: optional("lora-rank", values["lora-rank"]),
      device: values.device,
      checkpointDir: values["checkpoint-dir"],
      microBatchTokens: optional("micro-batch-tokens", values["micro-batch-tokens"]),
      python: values.python,
      modelName: values["model-name"],
      maxRestarts: 10,
      onLog: (line) => console.error(line),
      onRestart: (count) => console.error(`trainer restarted after a crash (${count})`),
    });
    const blas = trainer.blas ? `, OpenBLAS ${trainer.blas} kernels` : "";
    console.log(`trainer listening on ${trainer.baseUrl} (device ${trainer.device}, dtype ${trainer.dtype}${blas}, python ${trainer.python}, checkpoints in ${trainer.checkpointDir})`);
    const signal = await waitForStopSignal();
    await trainer.stop();
    console.log(`trainer stopped (${signal})`);
    return 0;
  },
};
