export { ADAM_DEFAULTS, ADAMW_DEFAULTS, AdamW } from './adamW';
export type { AdamWOptions, AdamWState } from './adamW';
export { DropoutMaskSupply, drawDropoutMasks } from './dropoutMasks';
export { initialLoraParameters } from './init';
export type { ParameterSet } from './init';
export {
  checkLoraSpec,
  dropoutKeep,
  dropoutMaskInputs,
  embeddingWidth,
  HEAD_BIAS,
  HEAD_WEIGHT,
  LORA_DEFAULTS,
  loraScaling,
  loraTargets,
  trainableParameters,
} from './loraConfig';
export type { EmbeddingRule, HeadConfig, LoraConfig, LoraModelSpec, LoraTarget, TrainableParameter } from './loraConfig';
export { buildInferenceGraph, buildTrainStepGraph, gradientName, LABELS, LOGITS, loraLinear, LOSS, PIXELS, PROBABILITIES } from './loraGraph';
export type { InferenceGraphOptions } from './loraGraph';
export { mergedVitWeights, mergeLora } from './mergeLora';
export type { LoraMatrices } from './mergeLora';
