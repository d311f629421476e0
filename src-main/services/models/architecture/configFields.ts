import { CheckpointError } from '../CheckpointError';

export type JsonObject = Readonly<Record<string, unknown>>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads typed fields of one config object; errors name the file and the field's full path
 * (e.g. `model_args.embed_dim`), because they are shown to the user as they are.
 */
export class ConfigFields {
  constructor(
    readonly filePath: string,
    private readonly object: JsonObject,
    /** Path of this object inside the file, '' at the top. */
    private readonly at = '',
  ) {}

  path(key: string): string {
    return this.at === '' ? key : `${this.at}.${key}`;
  }

  has(key: string): boolean {
    return this.object[key] !== undefined && this.object[key] !== null;
  }

  raw(key: string): unknown {
    return this.object[key];
  }

  fail(key: string, reason: string): never {
    throw new CheckpointError(this.filePath, `field "${this.path(key)}" ${reason}`);
  }

  child(key: string): ConfigFields | undefined {
    const value = this.object[key];
    if (value === undefined || value === null) return undefined;
    if (!isJsonObject(value)) this.fail(key, `must be an object, got ${JSON.stringify(value)}`);
    return new ConfigFields(this.filePath, value, this.path(key));
  }

  positiveInteger(key: string, fallback?: number): number {
    const value = this.object[key];
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      this.fail(key, 'is missing');
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) this.fail(key, `must be a positive integer, got ${JSON.stringify(value)}`);
    return value;
  }

  nonNegativeInteger(key: string, fallback: number): number {
    const value = this.object[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) this.fail(key, `must be an integer ≥ 0, got ${JSON.stringify(value)}`);
    return value;
  }

  positiveNumber(key: string, fallback?: number): number {
    const value = this.object[key];
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      this.fail(key, 'is missing');
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) this.fail(key, `must be a positive number, got ${JSON.stringify(value)}`);
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.object[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') this.fail(key, `must be true or false, got ${JSON.stringify(value)}`);
    return value;
  }

  string(key: string): string | undefined {
    const value = this.object[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') this.fail(key, `must be a string, got ${JSON.stringify(value)}`);
    return value;
  }

  /** A square image size given as a number or as [h, w] / [c, h, w]; undefined when absent. */
  squareSize(key: string): number | undefined {
    const value = this.object[key];
    if (value === undefined || value === null) return undefined;
    const sides = typeof value === 'number' ? [value, value] : Array.isArray(value) ? (value as unknown[]).slice(-2) : [];
    if (sides.length !== 2 || !sides.every((side) => typeof side === 'number' && Number.isInteger(side) && side > 0)) {
      this.fail(key, `must be a size in pixels, got ${JSON.stringify(value)}`);
    }
    if (sides[0] !== sides[1]) this.fail(key, `is ${JSON.stringify(value)}: only square inputs are supported`);
    return sides[0] as number;
  }
}
