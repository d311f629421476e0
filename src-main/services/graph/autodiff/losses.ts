import { fail, requireFloating } from '../Graph';
import type { Graph, Tensor } from '../Graph';
import { add, cast, constant, mul, reduceMean, reduceSum, sub, unsqueeze } from '../ops';
import { toInt64Array } from '../ops/constant';
import { sameShape } from '../shapes';
import { equal, exp, log, logSoftmax, relu } from './extraOps';

/** One-hot rows [B, C] of integer labels [B], built in the graph so labels stay a plain input. */
function oneHot(graph: Graph, labels: Tensor, classes: number, dtype: Tensor['dtype']): Tensor {
  const classIds = constant(graph, labels.dtype, [1, classes], labels.dtype === 'int64' ? toInt64Array([...Array(classes).keys()]) : Int32Array.from(Array(classes).keys()));
  return cast(graph, equal(graph, unsqueeze(graph, labels, [1]), classIds), dtype);
}

/**
 * Softmax cross-entropy of logits [B, C] against integer labels [B] (int64 or int32), the mean
 * over the batch, as torch's `cross_entropy`. Stable through LogSoftmax; the labels get no gradient.
 */
export function softmaxCrossEntropy(graph: Graph, logits: Tensor, labels: Tensor): Tensor {
  return graph.scope('cross_entropy', () => {
    requireFloating('CrossEntropy', graph, logits);
    if (logits.rank !== 2) fail('CrossEntropy', graph, `logits must be [batch, classes], got ${logits.describe()}`);
    if ((labels.dtype !== 'int64' && labels.dtype !== 'int32') || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
      fail('CrossEntropy', graph, `labels must be int64 or int32 [${logits.shape[0]}], got ${labels.describe()}`);
    }
    const [batch, classes] = logits.shape as [number, number];
    const picked = mul(graph, oneHot(graph, labels, classes, logits.dtype), logSoftmax(graph, logits, 1));
    return mul(graph, reduceSum(graph, picked, [0, 1], false), -1 / batch);
  });
}

/**
 * Binary cross-entropy with logits against targets in [0, 1] of the same shape, the mean over
 * all elements, as torch's `binary_cross_entropy_with_logits`. Stable form
 * relu(z) − z·t + log(1 + exp(−|z|)), with −|z| written as z − 2·relu(z) (no Abs/Sign, pitfall 13).
 */
export function binaryCrossEntropyWithLogits(graph: Graph, logits: Tensor, targets: Tensor): Tensor {
  return graph.scope('bce_with_logits', () => {
    requireFloating('BinaryCrossEntropy', graph, logits, targets);
    if (targets.dtype !== logits.dtype || !sameShape(targets.shape, logits.shape)) {
      fail('BinaryCrossEntropy', graph, `targets ${targets.describe()} must match logits ${logits.describe()}`);
    }
    const positive = relu(graph, logits);
    const negativeAbs = sub(graph, logits, mul(graph, positive, 2));
    const softplusTail = log(graph, add(graph, exp(graph, negativeAbs), 1));
    const elementwise = add(graph, sub(graph, positive, mul(graph, logits, targets)), softplusTail);
    return reduceMean(graph, elementwise, elementwise.shape.map((_, i) => i), false);
  });
}

/**
 * Inverted dropout with a mask given as a graph input (0/1 values drawn by a seeded generator
 * in TypeScript, so a step is reproducible): mask·x / keepProbability.
 */
export function dropout(graph: Graph, x: Tensor, mask: Tensor, keepProbability: number): Tensor {
  if (!(keepProbability > 0 && keepProbability <= 1)) fail('Dropout', graph, `keep probability must be in (0, 1], got ${keepProbability}`);
  if (mask.dtype !== x.dtype) fail('Dropout', graph, `mask ${mask.describe()} must have the dtype of ${x.describe()}`);
  return graph.scope('dropout', () => mul(graph, mul(graph, x, mask), 1 / keepProbability));
}
