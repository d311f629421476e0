/**
 * Where JSON text first goes wrong. JSON.parse only sometimes says (V8 gives a position for some
 * errors and a quoted fragment for others), so when it fails this walks the text once more with
 * a small validating scanner to find the offset and say what was expected there.
 */
export interface JsonSyntaxProblem {
  offset: number;
  /** true when the text simply stops: the file is most likely truncated. */
  endsEarly: boolean;
  expected: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly expected: string,
  ) {}
}

export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | null {
  let at = 0;

  const fail = (expected: string): never => {
    throw new Stop(at, expected);
  };
  const skipSpace = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at += 1;
  };
  const literal = (word: string): void => {
    for (const char of word) {
      if (text[at] !== char) fail(`"${word}"`);
      at += 1;
    }
  };
  const string = (): void => {
    at += 1;
    for (;;) {
      const char = text[at];
      if (char === undefined) fail('the closing quote of a string');
      if (char === '"') break;
      if (char! < ' ') fail('no control characters inside a string');
      if (char === '\\') {
        at += 1;
        const escape = text[at];
        if (escape === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) fail('four hex digits after \\u');
          at += 4;
        } else if (escape === undefined || !'"\\/bfnrt'.includes(escape)) {
          fail('a valid escape after \\');
        }
      }
      at += 1;
    }
    at += 1;
  };
  const number = (): void => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at, at + 400));
    if (!match || match[0] === '' || match[0] === '-') fail('a number');
    at += match![0].length;
  };
  const value = (): void => {
    skipSpace();
    const char = text[at];
    if (char === '{') return object();
    if (char === '[') return array();
    if (char === '"') return string();
    if (char === 't') return literal('true');
    if (char === 'f') return literal('false');
    if (char === 'n') return literal('null');
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return number();
    fail('a value');
  };
  const members = (close: string, member: () => void): void => {
    at += 1;
    skipSpace();
    if (text[at] === close) {
      at += 1;
      return;
    }
    for (;;) {
      member();
      skipSpace();
      if (text[at] === ',') {
        at += 1;
        continue;
      }
      if (text[at] === close) {
        at += 1;
        return;
      }
      fail(`"," or "${close}"`);
    }
  };
  const object = (): void =>
    members('}', () => {
      skipSpace();
      if (text[at] !== '"') fail('a property name in double quotes');
      string();
      skipSpace();
      if (text[at] !== ':') fail('":"');
      at += 1;
      value();
    });
  const array = (): void => members(']', value);

  try {
    value();
    skipSpace();
    if (at < text.length) fail('the end of the file after the top-level value');
    return null;
  } catch (error) {
    if (error instanceof RangeError) return null; // nested deeper than the stack allows: no place to name
    if (!(error instanceof Stop)) throw error;
    return { offset: error.offset, endsEarly: error.offset >= text.length, expected: error.expected };
  }
}
