import type { BackwardRule, GradientRegistration } from './BackwardRule';
import { addGradient } from './rules/add';
import { castGradient } from './rules/cast';
import { concatGradient } from './rules/concat';
import { convGradient } from './rules/conv';
import { divGradient } from './rules/div';
import { erfGradient, expGradient, logGradient, reluGradient, sigmoidGradient, sqrtGradient, tanhGradient } from './rules/elementwiseUnary';
import { expandGradient } from './rules/expand';
import { gatherGradient } from './rules/gather';
import { geluFunctionGradient } from './rules/gelu';
import { gemmGradient } from './rules/gemm';
import { identityGradient } from './rules/identity';
import { layerNormalizationGradient } from './rules/layerNormalization';
import { logSoftmaxGradient } from './rules/logSoftmax';
import { matMulGradient } from './rules/matMul';
import { mulGradient } from './rules/mul';
import { whereGradient } from './rules/where';
import { reduceMeanGradient, reduceSumGradient } from './rules/reduce';
import { reshapeGradient, squeezeGradient, unsqueezeGradient } from './rules/reshapeLike';
import { sliceGradient } from './rules/slice';
import { softmaxGradient } from './rules/softmax';
import { splitGradient } from './rules/split';
import { subGradient } from './rules/sub';
import { transposeGradient } from './rules/transpose';

const REGISTRATIONS: readonly GradientRegistration[] = [
  addGradient,
  castGradient,
  concatGradient,
  convGradient,
  divGradient,
  erfGradient,
  expGradient,
  expandGradient,
  gatherGradient,
  gemmGradient,
  identityGradient,
  layerNormalizationGradient,
  logGradient,
  logSoftmaxGradient,
  matMulGradient,
  mulGradient,
  whereGradient,
  reduceMeanGradient,
  reduceSumGradient,
  reluGradient,
  reshapeGradient,
  sigmoidGradient,
  sliceGradient,
  softmaxGradient,
  splitGradient,
  sqrtGradient,
  squeezeGradient,
  subGradient,
  tanhGradient,
  transposeGradient,
  unsqueezeGradient,
];

/** One backward rule per op type of the default ONNX domain, as tfjs registers one per kernel. */
const RULES: ReadonlyMap<string, BackwardRule> = new Map(REGISTRATIONS.map(({ opType, backward }) => [opType, backward]));

export function backwardRuleFor(domain: string, opType: string): BackwardRule | undefined {
  return domain === '' ? RULES.get(opType) : undefined;
}

/** Rules of inlined functions (Graph.inlineFunction), by function name. */
const FUNCTION_RULES: ReadonlyMap<string, BackwardRule> = new Map([[geluFunctionGradient.opType, geluFunctionGradient.backward]]);

export function functionRuleFor(name: string): BackwardRule | undefined {
  return FUNCTION_RULES.get(name);
}

/** The op types that can be differentiated, sorted (for error messages and tests). */
export function differentiableOpTypes(): string[] {
  return [...RULES.keys()].sort();
}
