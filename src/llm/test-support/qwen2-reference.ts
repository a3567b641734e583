// A plain, slow Qwen2 forward pass over HF weights (the safetensors of `writeTinyModel`), written from the HF
// Qwen2 modelling semantics: RMSNorm, q/k/v with bias, rotate-half rope, grouped-query causal attention, SwiGLU MLP,
// tied or separate output layer. Tests compare llama.cpp's logits on the GGUF with these, which checks that the two
// files are one model. Only for tiny models: everything is float64 loops.
import type { LoadedTensor } from "../safetensors.js";

export interface Qwen2ReferenceConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  intermediate_size: number;
  rms_norm_eps: number;
  rope_theta: number;
  vocab_size: number;
  tie_word_embeddings: boolean;
}

type Matrix = Float64Array[];

function linear(input: Matrix, weight: LoadedTensor, bias?: LoadedTensor): Matrix {
  const [outFeatures, inFeatures] = weight.shape;
  return input.map((row) => {
    const out = new Float64Array(outFeatures);
    for (let o = 0; o < outFeatures; o++) {
      let sum = bias ? bias.values[o] : 0;
      const base = o * inFeatures;
      for (let i = 0; i < inFeatures; i++) sum += row[i] * weight.values[base + i];
      out[o] = sum;
    }
    return out;
  });
}

function rmsNorm(input: Matrix, weight: LoadedTensor, eps: number): Matrix {
  return input.map((row) => {
    let meanSquare = 0;
    for (const v of row) meanSquare += v * v;
    const scale = 1 / Math.sqrt(meanSquare / row.length + eps);
    return row.map((v, i) => v * scale * weight.values[i]);
  });
}

/** Rotate-half rope on each head of each row, in place: pairs (i, i + headDim/2). */
function applyRope(rows: Matrix, heads: number, headDim: number, theta: number): void {
  const half = headDim / 2;
  rows.forEach((row, position) => {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        const angle = position * theta ** (-(2 * i) / headDim);
        const a = row[h * headDim + i];
        const b = row[h * headDim + i + half];
        row[h * headDim + i] = a * Math.cos(angle) - b * Math.sin(angle);
        row[h * headDim + i + half] = b * Math.cos(angle) + a * Math.sin(angle);
      }
    }
  });
}

/** Logits (one row of vocab_size per input position). */
export function qwen2ReferenceLogits(config: Qwen2ReferenceConfig, weights: Map<string, LoadedTensor>, tokens: number[]): Matrix {
  const w = (name: string) => {
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`missing tensor ${name}`);
    return tensor;
  };
  const H = config.hidden_size;
  const heads = config.num_attention_heads;
  const kvHeads = config.num_key_value_heads;
  const headDim = H / heads;
  const embed = w("model.embed_tokens.weight");
  let x: Matrix = tokens.map((t) => Float64Array.from(embed.values.subarray(t * H, (t + 1) * H)));

  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    const p = `model.layers.${layer}`;
    const h = rmsNorm(x, w(`${p}.input_layernorm.weight`), config.rms_norm_eps);
    const q = linear(h, w(`${p}.self_attn.q_proj.weight`), w(`${p}.self_attn.q_proj.bias`));
    const k = linear(h, w(`${p}.self_attn.k_proj.weight`), w(`${p}.self_attn.k_proj.bias`));
    const v = linear(h, w(`${p}.self_attn.v_proj.weight`), w(`${p}.self_attn.v_proj.bias`));
    applyRope(q, heads, headDim, config.rope_theta);
    applyRope(k, kvHeads, headDim, config.rope_theta);
    const attended: Matrix = q.map((qRow, t) => {
      const out = new Float64Array(heads * headDim);
      for (let head = 0; head < heads; head++) {
        const kvHead = Math.floor(head / (heads / kvHeads));
        const scores = new Float64Array(t + 1);
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += qRow[head * headDim + d] * k[s][kvHead * headDim + d];
          scores[s] = dot / Math.sqrt(headDim);
        }
        const max = Math.max(...scores);
        let total = 0;
        for (let s = 0; s <= t; s++) total += scores[s] = Math.exp(scores[s] - max);
        for (let s = 0; s <= t; s++) {
          for (let d = 0; d < headDim; d++) out[head * headDim + d] += (scores[s] / total) * v[s][kvHead * headDim + d];
        }
      }
      return out;
    });
    const o = linear(attended, w(`${p}.self_attn.o_proj.weight`));
    x = x.map((row, t) => row.map((value, i) => value + o[t][i]));
    const h2 = rmsNorm(x, w(`${p}.post_attention_layernorm.weight`), config.rms_norm_eps);
    const gate = linear(h2, w(`${p}.mlp.gate_proj.weight`));
    const up = linear(h2, w(`${p}.mlp.up_proj.weight`));
    const act = gate.map((row, t) => row.map((g, i) => (g / (1 + Math.exp(-g))) * up[t][i]));
    const down = linear(act, w(`${p}.mlp.down_proj.weight`));
    x = x.map((row, t) => row.map((value, i) => value + down[t][i]));
  }
  const final = rmsNorm(x, w("model.norm.weight"), config.rms_norm_eps);
  return linear(final, config.tie_word_embeddings ? embed : w("lm_head.weight"));
}
