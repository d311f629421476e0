/**
 * Wrapper keys that training scripts put around a model's state dict, in the order they are
 * tried: `{"state_dict": {...}}` (Lightning), `{"model": {...}}` (timm, DeiT, MAE), `{"module":
 * ...}`, `{"teacher": ...}` (DINO: the teacher is the model that is released).
 */
export const STATE_DICT_WRAPPER_KEYS = ['state_dict', 'model_state_dict', 'model', 'module', 'teacher'] as const;

export interface SelectedStateDict<T> {
  /** Dict keys followed from the root to the state dict; [] when the root is the state dict. */
  readonly path: readonly string[];
  /** Tensor names (keys of nested dicts joined with '.') in pickle order. */
  readonly tensors: ReadonlyMap<string, T>;
}

export class StateDictError extends Error {
  override readonly name = 'StateDictError';
  constructor(
    reason: string,
    readonly tensorName?: string,
  ) {
    super(reason);
  }
}

/**
 * Finds the state dict in a checkpoint's root object. The rule:
 * 1. With an explicit `path`, follow those keys.
 * 2. Otherwise, while the current dict holds no tensor directly, descend into the first of
 *    STATE_DICT_WRAPPER_KEYS that it has and that holds tensors somewhere below.
 * 3. Every tensor under the chosen dict is taken, nested dicts' keys joined with '.'; values
 *    that are neither tensors nor dicts (epoch numbers, config strings, lists) are ignored.
 */
export function selectStateDict<T>(root: unknown, isTensor: (value: unknown) => value is T, path?: readonly string[]): SelectedStateDict<T> {
  if (!(root instanceof Map)) throw new StateDictError('the checkpoint holds no dict of tensors at its root');
  let current: Map<unknown, unknown> = root;
  const followed: string[] = [];
  if (path) {
    for (const key of path) {
      const next = current.get(key);
      if (!(next instanceof Map)) throw new StateDictError(`the checkpoint has no dict at ${[...followed, key].join(' → ')}`);
      current = next;
      followed.push(key);
    }
  } else {
    while (![...current.values()].some(isTensor)) {
      const key = STATE_DICT_WRAPPER_KEYS.find((candidate) => {
        const value = current.get(candidate);
        return value instanceof Map && holdsTensor(value, isTensor);
      });
      if (key === undefined) break;
      current = current.get(key) as Map<unknown, unknown>;
      followed.push(key);
    }
  }
  const tensors = new Map<string, T>();
  flatten(current, '', isTensor, tensors, new Set());
  if (tensors.size === 0) throw new StateDictError(`the checkpoint holds no tensors${followed.length ? ` under ${followed.join(' → ')}` : ''}`);
  return { path: followed, tensors };
}

function holdsTensor<T>(dict: Map<unknown, unknown>, isTensor: (value: unknown) => value is T, seen = new Set<unknown>()): boolean {
  if (seen.has(dict)) return false;
  seen.add(dict);
  for (const value of dict.values()) {
    if (isTensor(value) || (value instanceof Map && holdsTensor(value, isTensor, seen))) return true;
  }
  return false;
}

function flatten<T>(dict: Map<unknown, unknown>, prefix: string, isTensor: (value: unknown) => value is T, out: Map<string, T>, seen: Set<unknown>): void {
  // A dict reachable twice (memo references) would otherwise be listed twice or loop.
  if (seen.has(dict)) return;
  seen.add(dict);
  for (const [key, value] of dict) {
    const name = `${prefix}${String(key)}`;
    if (isTensor(value)) {
      if (out.has(name)) throw new StateDictError('the name occurs twice after joining nested keys with "."', name);
      out.set(name, value);
    } else if (value instanceof Map) {
      flatten(value, `${name}.`, isTensor, out, seen);
    }
  }
}
