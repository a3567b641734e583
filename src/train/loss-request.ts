// The one mapping from the run config's `loss` and `optimizer` sections to what the trainer is sent. Both sections
// are the protocol's own schemas (PolicyLossConfig, AdamParams), so this is a selection, not a field-by-field copy.
import { PolicyLossConfig } from "../evolve/attributing/index.js";
import { AdamParams, type LossFnConfig } from "./tinker-schema.js";

/** loss_fn_config of `evolver_ppo`; entropy_coeff only when it is on, so a trainer without the bonus accepts the rest. */
export function evolverPpoLossFnConfig(loss: PolicyLossConfig): LossFnConfig {
  const { entropy_coeff, ...rest } = PolicyLossConfig.parse(loss);
  return entropy_coeff > 0 ? { ...rest, entropy_coeff } : rest;
}

/** optim_step's adam_params from the run's `optimizer` section (which adds its own keys, e.g. mini_batches). */
export function adamParamsOf(optimizer: AdamParams & Record<string, unknown>): AdamParams {
  return AdamParams.parse(Object.fromEntries(Object.keys(AdamParams.shape).map((key) => [key, optimizer[key]])));
}
