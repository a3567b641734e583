// The tensors of a Qwen2 decoder under both naming schemes (HF / PyTorch and llama.cpp's GGUF), with seeded random
// values. Each tensor's values come from its own generator, seeded by (seed, HF name), so the GGUF and the
// safetensors writers can each produce them on demand and get the very same numbers.
// Qwen2 uses rotate-half (NEOX) rope, so llama.cpp takes q/k weights as HF stores them, without llama's permutation.
import { float16BitsToFloat32, float32ToFloat16Bits } from "./float16.js";
import { mulberry32 } from "../core/random.js";

export interface Qwen2Shape {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  tieWordEmbeddings: boolean;
}

export interface TensorSpec {
  hfName: string;
  ggufName: string;
  /** PyTorch order: [out_features, in_features] for linear weights. */
  shape: number[];
  init: { kind: "uniform"; std: number } | { kind: "around-one"; spread: number };
}

export function qwen2TensorSpecs(shape: Qwen2Shape): TensorSpec[] {
  const { vocabSize: V, hidden: H, layers, heads, kvHeads, intermediate: I } = shape;
  if (H % heads !== 0) throw new Error(`hidden ${H} is not a multiple of heads ${heads}`);
  if (heads % kvHeads !== 0) throw new Error(`heads ${heads} is not a multiple of kv heads ${kvHeads}`);
  const headDim = H / heads;
  const linear = (fanIn: number) => ({ kind: "uniform", std: 1 / Math.sqrt(fanIn) }) as const;
  const bias = { kind: "uniform", std: 0.1 } as const;
  const norm = { kind: "around-one", spread: 0.2 } as const;
  // Embedding rows of norm ~1 keep the tied logits at a standard deviation near 1: a random model that still
  // samples varied tokens and whose wiring mistakes show up in the logits.
  const specs: TensorSpec[] = [
    { hfName: "model.embed_tokens.weight", ggufName: "token_embd.weight", shape: [V, H], init: linear(H) },
  ];
  for (let i = 0; i < layers; i++) {
    const hf = `model.layers.${i}`;
    const gg = `blk.${i}`;
    specs.push(
      { hfName: `${hf}.input_layernorm.weight`, ggufName: `${gg}.attn_norm.weight`, shape: [H], init: norm },
      { hfName: `${hf}.self_attn.q_proj.weight`, ggufName: `${gg}.attn_q.weight`, shape: [heads * headDim, H], init: linear(H) },
      { hfName: `${hf}.self_attn.q_proj.bias`, ggufName: `${gg}.attn_q.bias`, shape: [heads * headDim], init: bias },
      { hfName: `${hf}.self_attn.k_proj.weight`, ggufName: `${gg}.attn_k.weight`, shape: [kvHeads * headDim, H], init: linear(H) },
      { hfName: `${hf}.self_attn.k_proj.bias`, ggufName: `${gg}.attn_k.bias`, shape: [kvHeads * headDim], init: bias },
      { hfName: `${hf}.self_attn.v_proj.weight`, ggufName: `${gg}.attn_v.weight`, shape: [kvHeads * headDim, H], init: linear(H) },
      { hfName: `${hf}.self_attn.v_proj.bias`, ggufName: `${gg}.attn_v.bias`, shape: [kvHeads * headDim], init: bias },
      { hfName: `${hf}.self_attn.o_proj.weight`, ggufName: `${gg}.attn_output.weight`, shape: [H, heads * headDim], init: linear(H) },
      { hfName: `${hf}.post_attention_layernorm.weight`, ggufName: `${gg}.ffn_norm.weight`, shape: [H], init: norm },
      { hfName: `${hf}.mlp.gate_proj.weight`, ggufName: `${gg}.ffn_gate.weight`, shape: [I, H], init: linear(H) },
      { hfName: `${hf}.mlp.up_proj.weight`, ggufName: `${gg}.ffn_up.weight`, shape: [I, H], init: linear(H) },
      { hfName: `${hf}.mlp.down_proj.weight`, ggufName: `${gg}.ffn_down.weight`, shape: [H, I], init: linear(I) },
    );
  }
  specs.push({ hfName: "model.norm.weight", ggufName: "output_norm.weight", shape: [H], init: norm });
  if (!shape.tieWordEmbeddings) {
    specs.push({ hfName: "lm_head.weight", ggufName: "output.weight", shape: [V, H], init: linear(H) });
  }
  return specs;
}

/** FNV-1a over the text, to turn (seed, tensor name) into a 32-bit generator seed. */
function hashSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}


/**
 * The values of one tensor. With `roundToF16` they are rounded to half precision first, so that an F16 GGUF and the
 * F32 safetensors still hold exactly the same numbers.
 */
export function tensorValues(spec: TensorSpec, seed: number, roundToF16 = false): Float32Array {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const random = mulberry32(hashSeed(seed, spec.hfName));
  const values = new Float32Array(count);
  if (spec.init.kind === "uniform") {
    const bound = Math.sqrt(3) * spec.init.std; // a uniform on [-b, b] has standard deviation b / sqrt(3)
    for (let i = 0; i < count; i++) values[i] = (2 * random() - 1) * bound;
  } else {
    for (let i = 0; i < count; i++) values[i] = 1 + (2 * random() - 1) * spec.init.spread;
  }
  if (roundToF16) for (let i = 0; i < count; i++) values[i] = float16BitsToFloat32(float32ToFloat16Bits(values[i]));
  return values;
}
