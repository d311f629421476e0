/**
 * A file that cannot be read or written in an interchange format. The message names the file,
 * the place in it (JSON path, table and column, line) and the problem, because the user sees it
 * as it is; parsers throw it before returning anything, so a bad file changes nothing.
 */
export class InteropError extends Error {
  override readonly name = 'InteropError';
  constructor(
    readonly file: string,
    /** e.g. 'annotations[17].bbox', 'Annotations.foo', 'line 12', or '' for the whole file. */
    readonly place: string,
    readonly problem: string,
  ) {
    super(place ? `${file}: ${place}: ${problem}` : `${file}: ${problem}`);
  }
}

/** Formats a path such as ['annotations', 17, 'bbox'] as annotations[17].bbox. */
export function jsonPath(segments: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text ? `.${String(segment)}` : String(segment);
  }
  return text || '(top level)';
}
