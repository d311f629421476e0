import { InteropError } from '../InteropError';
import { lineAndColumn } from '../textContent';

/**
 * A small, strict XML reader for annotation files (ASAP writes plain XML through pugixml/TinyXML:
 * elements, attributes, an XML declaration, perhaps comments). It reads elements with their
 * attributes (either quote style, the five predefined entities and numeric character
 * references), skips comments, processing instructions, CDATA and a DOCTYPE without internal
 * subset, ignores text, and refuses anything malformed with the line and column.
 */
export interface XmlElement {
  name: string;
  attributes: Map<string, string>;
  children: XmlElement[];
  /** Character offset of the element's "<" (lineAndColumn gives the line). */
  offset: number;
}

const namePattern = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const predefined: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function readXml(text: string, file: string): XmlElement {
  let at = 0;
  const fail = (problem: string, offset = at): never => {
    throw new InteropError(file, lineAndColumn(text, offset), problem);
  };
  const truncated = (what: string): never =>
    fail(`the XML ends inside ${what}; the file looks truncated`, text.length);

  const skipSpace = (): void => {
    while (at < text.length && ' \t\r\n'.includes(text[at]!)) at += 1;
  };
  const skipPast = (terminator: string, what: string): void => {
    const end = text.indexOf(terminator, at);
    if (end === -1) truncated(what);
    at = end + terminator.length;
  };
  const readName = (what: string): string => {
    namePattern.lastIndex = at;
    const match = namePattern.exec(text);
    if (!match) {
      if (at >= text.length) truncated(what);
      fail(`expected ${what}`);
    }
    at += match![0].length;
    return match![0];
  };
  const decode = (raw: string, offset: number): string =>
    raw.replace(/&([^;&<]*);?/g, (whole, entity: string) => {
      if (!whole.endsWith(';')) fail(`"&" must start an entity such as &amp; (found "${whole.slice(0, 12)}")`, offset);
      if (entity in predefined) return predefined[entity]!;
      const numeric = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(entity);
      if (numeric) {
        const code = numeric[1]!.startsWith('x') ? parseInt(numeric[1]!.slice(1), 16) : parseInt(numeric[1]!, 10);
        if (code > 0 && code <= 0x10ffff) return String.fromCodePoint(code);
      }
      return fail(`unknown entity "&${entity};"`, offset);
    });

  /** Skips what may stand between elements: text, comments, processing instructions, CDATA. */
  const skipMisc = (allowText: boolean): void => {
    for (;;) {
      const start = at;
      while (at < text.length && text[at] !== '<') at += 1;
      if (!allowText && text.slice(start, at).trim() !== '') fail('text outside the root element', start);
      if (at >= text.length) return;
      if (text.startsWith('<!--', at)) skipPast('-->', 'a comment');
      else if (text.startsWith('<?', at)) skipPast('?>', 'a processing instruction');
      else if (text.startsWith('<![CDATA[', at)) {
        if (!allowText) fail('CDATA outside the root element');
        skipPast(']]>', 'a CDATA section');
      } else if (text.startsWith('<!DOCTYPE', at)) {
        const end = text.indexOf('>', at);
        if (end === -1) truncated('the DOCTYPE');
        if (text.slice(at, end).includes('[')) fail('a DOCTYPE with an internal subset is not supported');
        at = end + 1;
      } else return;
    }
  };

  const readElement = (): XmlElement => {
    const start = at;
    at += 1; // '<'
    const name = readName('an element name after "<"');
    const attributes = new Map<string, string>();
    for (;;) {
      const before = at;
      skipSpace();
      if (at >= text.length) truncated(`the tag <${name}>`);
      if (text[at] === '/' || text[at] === '>') break;
      if (at === before) fail(`expected a space, "/>" or ">" in <${name}>`);
      const attributeName = readName(`an attribute name in <${name}>`);
      skipSpace();
      if (text[at] !== '=') fail(`expected "=" after the attribute ${attributeName} of <${name}>`);
      at += 1;
      skipSpace();
      const quote = text[at];
      if (quote !== '"' && quote !== "'") fail(`the value of ${attributeName} in <${name}> must be in quotes`);
      const valueStart = at + 1;
      const end = text.indexOf(quote!, valueStart);
      if (end === -1) truncated(`the attribute ${attributeName} of <${name}>`);
      const raw = text.slice(valueStart, end);
      if (raw.includes('<')) fail(`"<" inside the value of ${attributeName} in <${name}>`, valueStart);
      if (attributes.has(attributeName)) fail(`the attribute ${attributeName} appears twice in <${name}>`);
      attributes.set(attributeName, decode(raw, valueStart));
      at = end + 1;
    }
    const element: XmlElement = { name, attributes, children: [], offset: start };
    if (text[at] === '/') {
      if (text[at + 1] !== '>') fail(`expected "/>" to end <${name}>`);
      at += 2;
      return element;
    }
    at += 1; // '>'
    for (;;) {
      skipMisc(true);
      if (at >= text.length) fail(`the element <${name}> opened at ${lineAndColumn(text, start)} is never closed; the file looks truncated`, text.length);
      if (text.startsWith('</', at)) {
        const closeAt = at;
        at += 2;
        const closing = readName('an element name after "</"');
        skipSpace();
        if (text[at] !== '>') fail(`expected ">" to end </${closing}>`);
        at += 1;
        if (closing !== name) fail(`</${closing}> closes <${name}> opened at ${lineAndColumn(text, start)}`, closeAt);
        return element;
      }
      element.children.push(readElement());
    }
  };

  skipMisc(false);
  if (at >= text.length) fail('has no XML element (is it empty?)', 0);
  const root = readElement();
  skipMisc(false);
  if (at < text.length) fail(`more than one root element: <${root.name}> ends before this`);
  return root;
}

/** Escapes text for an attribute value in double quotes. */
export function xmlAttribute(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}
