// Reading a future's result in the client, JSON against protobuf (the SDK's wire format): the same result, each
// format's bytes as the local trainer writes them, read through the same schema the client uses. Rounds interleave
// the two formats; the ratio is the median of per-round ratios (protobuf time / JSON time: below 1, protobuf is faster).
import { isDeepStrictEqual } from "node:util";
import { ForwardBackwardOutput, SampleResult } from "../src/train/tinker-schema.js";
import { loadTinkerProto } from "../src/train/tinker-proto.js";
import type { BenchResult } from "./result.js";

/** Float32 logprob-like values from a fixed seed, so every run reads the same bytes. */
function logprobs(count: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.fround(-8 * (state / 2 ** 32));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Seconds per call of `fn`, timed over enough calls to take ~`budgetMs`. */
function perCall(fn: () => unknown, budgetMs: number): number {
  let calls = 0;
  const started = performance.now();
  while (performance.now() - started < budgetMs || calls < 3) {
    fn();
    calls++;
  }
  return (performance.now() - started) / 1000 / calls;
}

export async function wireDecoding({ quick, datums, length, samples, sampleTokens }: {
  quick: boolean;
  /** The forward_backward workload of the trainer bench: datums of `length` tokens. */
  datums: number;
  length: number;
  /** The sampling workload: sequences of `sampleTokens` tokens per request. */
  samples: number;
  sampleTokens: number;
}): Promise<BenchResult[]> {
  const proto = await loadTinkerProto();
  const output: ForwardBackwardOutput = {
    loss_fn_output_type: "ArrayRecord",
    loss_fn_outputs: Array.from({ length: datums }, (_, i) => ({
      logprobs: { data: logprobs(length, 2 * i + 1), dtype: "float32", shape: [length] },
      elementwise_loss: { data: logprobs(length, 2 * i + 2).map((v) => -v), dtype: "float32", shape: [length] },
    })),
    metrics: { "loss:sum": 1234.5, "trainer_seconds:sum": 0.25 },
  };
  const sample: SampleResult = {
    sequences: Array.from({ length: samples }, (_, i) => ({
      tokens: Array.from({ length: sampleTokens }, (_, j) => (i * 7919 + j * 104729) % 151_000),
      logprobs: logprobs(sampleTokens, 100 + i),
      stop_reason: "length" as const,
    })),
  };
  const cases = [
    {
      name: `forward_backward result (${datums} datums x ${length} tokens, logprobs + elementwise_loss)`,
      json: new TextEncoder().encode(JSON.stringify(output)),
      proto: proto.encodeForwardBackwardOutput(output),
      readJson: (bytes: Uint8Array) => ForwardBackwardOutput.parse(JSON.parse(new TextDecoder().decode(bytes))),
      readProto: (bytes: Uint8Array) => ForwardBackwardOutput.parse(proto.decodeForwardBackwardOutput(bytes)),
    },
    {
      name: `sample result (${samples} sequences x ${sampleTokens} tokens)`,
      json: new TextEncoder().encode(JSON.stringify(sample)),
      proto: proto.encodeSampleResponse(sample),
      readJson: (bytes: Uint8Array) => SampleResult.parse(JSON.parse(new TextDecoder().decode(bytes))),
      readProto: (bytes: Uint8Array) => SampleResult.parse(proto.decodeSampleResponse(bytes)),
    },
  ];
  const results: BenchResult[] = [];
  for (const c of cases) {
    // the two readings must agree before their times mean anything
    if (!isDeepStrictEqual(c.readJson(c.json), c.readProto(c.proto))) throw new Error(`${c.name}: JSON and protobuf read differently`);
    const rounds = { json: [] as number[], proto: [] as number[], ratio: [] as number[] };
    for (let round = 0; round < (quick ? 5 : 11); round++) {
      const json = perCall(() => c.readJson(c.json), quick ? 60 : 150);
      const protobuf = perCall(() => c.readProto(c.proto), quick ? 60 : 150);
      rounds.json.push(json);
      rounds.proto.push(protobuf);
      rounds.ratio.push(protobuf / json);
    }
    results.push(
      {
        name: `wire: reading a ${c.name} from protobuf`,
        value: median(rounds.proto) * 1e6,
        unit: "µs",
        baseline: { name: "the same result from JSON", value: median(rounds.json) * 1e6 },
        ratio: median(rounds.ratio),
      },
      {
        name: `wire: ${c.name} size as protobuf`,
        value: c.proto.length / 1024,
        unit: "KiB",
        baseline: { name: "as JSON", value: c.json.length / 1024 },
        ratio: c.proto.length / c.json.length,
      },
    );
  }
  return results;
}
