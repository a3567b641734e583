// `evolver model serve --model X`: the embedded model behind an OpenAI-compatible endpoint until SIGINT/SIGTERM.
// An API key, when wanted, comes from the environment variable EVOLVER_SERVE_API_KEY (never from the command line,
// where other users of the machine could read it).
import { EvolverError } from "../core/errors.js";
import { createEmbeddedProvider, startModelServer } from "../llm/index.js";
import { numberOption, parseOptions, type Command, waitForStopSignal } from "./command.js";

const usage =
  "evolver model serve --model PATH_OR_HF_URI [--host 127.0.0.1] [--port 8000] [--served-name NAME] " +
  "[--context-size N] [--parallel 2] [--threads N] [--gpu auto]\n" +
  "  --context-size: tokens per parallel sequence; default the model file's own context length";

export const modelServeCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parseOptions(
      argv,
      {
        model: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string" },
        "served-name": { type: "string" },
        "context-size": { type: "string" },
        parallel: { type: "string" },
        threads: { type: "string" },
        gpu: { type: "string" },
      },
      usage,
    );
    if (!values.model) throw new EvolverError("CLI_USAGE", `--model is required\nusage: ${usage}`);
    if (values.gpu !== undefined && values.gpu !== "auto") throw new EvolverError("CLI_USAGE", `--gpu takes only 'auto'`);
    const provider = await createEmbeddedProvider({
      model: values.model,
      gpu: values.gpu === "auto" ? "auto" : false,
      contextSize: values["context-size"] === undefined ? undefined : numberOption("context-size", values["context-size"], 0),
      sequences: numberOption("parallel", values.parallel, 2),
      threads: values.threads === undefined ? undefined : numberOption("threads", values.threads, 0),
    });
    const server = await startModelServer({
      provider,
      host: values.host,
      port: numberOption("port", values.port, 8000),
      servedModelName: values["served-name"],
      apiKey: process.env.EVOLVER_SERVE_API_KEY || undefined,
      tokenText: (id) => provider.template.decode([id]),
    });
    console.log(`serving ${provider.id} at ${server.url}/v1 (model name '${values["served-name"] ?? provider.id}')`);
    await waitForStopSignal();
    await server.close();
    await provider.close();
    return 0;
  },
};
