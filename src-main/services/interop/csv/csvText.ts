import { InteropError } from '../InteropError';

export interface CsvRecord {
  /** Line of the file on which the record starts (1-based; quoted line breaks count). */
  line: number;
  fields: string[];
}

/** The delimiter a header line uses: comma, else semicolon (spreadsheets in many locales), else tab. */
export function detectDelimiter(text: string): string {
  const headerLine = text.slice(0, text.search(/\r?\n|$/));
  if (headerLine.includes(',')) return ',';
  if (headerLine.includes(';')) return ';';
  if (headerLine.includes('\t')) return '\t';
  return ',';
}

/**
 * Splits CSV text into records (RFC 4180: fields in double quotes may hold delimiters, line
 * breaks and doubled quotes). Unquoted fields are trimmed, so "x, y" reads as "x" and "y";
 * quoted fields are kept exactly.
 */
export function parseCsvRecords(text: string, delimiter: string, file: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let index = 0;

  const endField = (): void => {
    fields.push(quoted ? field : field.trim());
    field = '';
    quoted = false;
  };
  const endRecord = (): void => {
    endField();
    records.push({ line: recordLine, fields });
    fields = [];
  };

  while (index < text.length) {
    const char = text[index]!;
    if (char === '"' && field.trim() === '' && !quoted) {
      const closing = closingQuote(text, index + 1);
      if (closing === -1) throw new InteropError(file, `line ${line}`, 'a quoted field is never closed');
      const inner = text.slice(index + 1, closing);
      line += countLineBreaks(inner);
      field = inner.replaceAll('""', '"');
      quoted = true;
      index = closing + 1;
      while (text[index] === ' ' && delimiter !== ' ') index += 1;
      const next = text[index];
      if (next !== undefined && next !== delimiter && next !== '\r' && next !== '\n') {
        throw new InteropError(file, `line ${line}`, `unexpected text after a closing quote: ${JSON.stringify(text.slice(index, index + 10))}`);
      }
      continue;
    }
    if (char === delimiter) {
      endField();
    } else if (char === '\r' || char === '\n') {
      endRecord();
      if (char === '\r' && text[index + 1] === '\n') index += 1;
      line += 1;
      recordLine = line;
    } else {
      field += char;
    }
    index += 1;
  }
  if (field !== '' || quoted || fields.length > 0) endRecord();
  return records;
}

function closingQuote(text: string, from: number): number {
  let index = from;
  for (;;) {
    const quote = text.indexOf('"', index);
    if (quote === -1) return -1;
    if (text[quote + 1] === '"') {
      index = quote + 2;
      continue;
    }
    return quote;
  }
}

function countLineBreaks(text: string): number {
  return (text.match(/\r\n|\r|\n/g) ?? []).length;
}

/** One field, quoted when it must be (delimiter, quote, line break, or edge spaces it would lose). */
export function csvField(value: string, delimiter = ','): string {
  const needsQuotes =
    value.includes(delimiter) || value.includes('"') || /[\r\n]/.test(value) || value !== value.trim();
  return needsQuotes ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvLine(values: string[], delimiter = ','): string {
  return values.map((value) => csvField(value, delimiter)).join(delimiter);
}
