// Training through the Tinker protocol: the client (local trainer, SkyRL or hosted Tinker), the local trainer's
// launcher, and datums built from token sequences.
/** Every protocol schema and type, e.g. `tinker.Datum`, `tinker.ForwardBackwardOutput`. */
export * as tinker from "./tinker-schema.js";
export type { Datum as TinkerDatum, LossFnName, LossFnConfig, EvolverPpoConfig } from "./tinker-schema.js";
export { AdamParams } from "./tinker-schema.js";
export { evolverPpoLossFnConfig, adamParamsOf } from "./loss-request.js";
export {
  TinkerClient,
  TrainingClient,
  SamplingClient,
  type TinkerClientOptions,
  type TrainingClientOptions,
  type ForwardBackwardResult,
  type SampleManyRequest,
  type SampleManyResult,
  type WireChoice,
} from "./tinker-client.js";
export { loadTinkerProto, TinkerProto, PROTO_CONTENT_TYPE } from "./tinker-proto.js";
export { TinkerHttp, type TinkerHttpOptions } from "./tinker-http.js";
export { LocalTrainer, resolvePython, type LocalTrainerOptions } from "./local-trainer.js";
export { buildDatum, trajectorySequences, type TrainingSequence } from "./datums.js";
export { trainerError, type TrainerErrorCode } from "./errors.js";
export {
  evolverPpoForwardBackward,
  evolverPpoProblems,
  evolverPpoRoute,
  trainerFeatures,
  type EvolverPpoRoute,
} from "./evolver-ppo.js";
export type { EvolverFeatures, ServerCapabilities } from "./tinker-schema.js";
