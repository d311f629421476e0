import { InteropError } from './InteropError';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of a file given as text or bytes: UTF-8, without a byte-order mark. */
export function textOf(content: string | Uint8Array, file: string): string {
  let text: string;
  if (typeof content === 'string') {
    text = content;
  } else {
    try {
      text = utf8.decode(content);
    } catch {
      throw new InteropError(file, '', 'is not UTF-8 text (is it the right file?)');
    }
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** 'line 3, column 17' for a character offset into text. */
export function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let index = text.indexOf('\n'); index !== -1 && index < offset; index = text.indexOf('\n', index + 1)) {
    line += 1;
    lineStart = index + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}
