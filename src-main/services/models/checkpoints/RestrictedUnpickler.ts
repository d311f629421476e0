/**
 * A pickle reader that only builds data. It never imports or calls anything: GLOBAL names are
 * looked up in a caller-supplied allow-list, and REDUCE may call only the TypeScript
 * functions that allow-list supplies. It implements the opcodes of protocols 2–5 that plain
 * containers, numbers, strings and torch.save's tensor records use.
 */

/** A Python tuple (lists are plain arrays, dicts are Maps). */
export class PickleTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** A global the allow-list accepted: a callable implemented in TypeScript, or a marker value. */
export interface AllowedGlobal {
  readonly module: string;
  readonly name: string;
  /** What REDUCE does with it; absent for globals that are only passed around (storage types). */
  readonly reduce?: (args: readonly unknown[]) => unknown;
}

export interface UnpicklerOptions {
  /** Returns the allowed global, or throws a PickleError explaining the refusal. */
  resolveGlobal(module: string, name: string): AllowedGlobal;
  /** Resolves BINPERSID ids; without it, persistent ids are refused. */
  persistentLoad?(id: unknown): unknown;
}

export class PickleError extends Error {
  override readonly name = 'PickleError';
}

const enum Op {
  Mark = 0x28,
  EmptyTuple = 0x29,
  Stop = 0x2e,
  Pop = 0x30,
  PopMark = 0x31,
  Dup = 0x32,
  BinBytes = 0x42,
  ShortBinBytes = 0x43,
  BinFloat = 0x47,
  BinInt = 0x4a,
  BinInt1 = 0x4b,
  BinInt2 = 0x4d,
  None = 0x4e,
  BinPersId = 0x51,
  Reduce = 0x52,
  BinString = 0x54,
  ShortBinString = 0x55,
  BinUnicode = 0x58,
  EmptyList = 0x5d,
  Append = 0x61,
  Build = 0x62,
  Global = 0x63,
  Dict = 0x64,
  Appends = 0x65,
  BinGet = 0x68,
  LongBinGet = 0x6a,
  List = 0x6c,
  BinPut = 0x71,
  LongBinPut = 0x72,
  SetItem = 0x73,
  Tuple = 0x74,
  SetItems = 0x75,
  EmptyDict = 0x7d,
  Proto = 0x80,
  Tuple1 = 0x85,
  Tuple2 = 0x86,
  Tuple3 = 0x87,
  NewTrue = 0x88,
  NewFalse = 0x89,
  Long1 = 0x8a,
  Long4 = 0x8b,
  ShortBinUnicode = 0x8c,
  BinUnicode8 = 0x8d,
  BinBytes8 = 0x8e,
  StackGlobal = 0x93,
  Memoize = 0x94,
  Frame = 0x95,
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Parses one pickle and returns its value. Throws PickleError on anything it does not accept. */
export function unpickle(bytes: Uint8Array, options: UnpicklerOptions): unknown {
  return new Unpickler(bytes, options).run();
}

class Unpickler {
  private position = 0;
  private stack: unknown[] = [];
  private readonly marks: unknown[][] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: UnpicklerOptions,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): unknown {
    for (;;) {
      const at = this.position;
      const opcode = this.byte();
      switch (opcode) {
        case Op.Proto: {
          const version = this.byte();
          if (version > 5) this.fail(`pickle protocol ${version} is newer than 5`, at);
          break;
        }
        case Op.Frame:
          this.take(8);
          break;
        case Op.Stop:
          if (this.stack.length !== 1 || this.marks.length > 0) this.fail('STOP with an unbalanced stack', at);
          return this.stack[0];
        case Op.Mark:
          this.marks.push(this.stack);
          this.stack = [];
          break;
        case Op.Pop:
          this.pop(at);
          break;
        case Op.PopMark:
          this.popMark(at);
          break;
        case Op.Dup:
          this.stack.push(this.top(at));
          break;
        case Op.None:
          this.stack.push(null);
          break;
        case Op.NewTrue:
          this.stack.push(true);
          break;
        case Op.NewFalse:
          this.stack.push(false);
          break;
        case Op.BinInt:
          this.stack.push(this.take(4).getInt32(0, true));
          break;
        case Op.BinInt1:
          this.stack.push(this.byte());
          break;
        case Op.BinInt2:
          this.stack.push(this.take(2).getUint16(0, true));
          break;
        case Op.Long1:
          this.stack.push(this.long(this.byte()));
          break;
        case Op.Long4:
          this.stack.push(this.long(this.length(4, at)));
          break;
        case Op.BinFloat:
          // The one big-endian field of the format.
          this.stack.push(this.take(8).getFloat64(0, false));
          break;
        case Op.BinUnicode:
          this.stack.push(this.text(this.length(4, at), at));
          break;
        case Op.ShortBinUnicode:
          this.stack.push(this.text(this.byte(), at));
          break;
        case Op.BinUnicode8:
          this.stack.push(this.text(this.length(8, at), at));
          break;
        case Op.BinString:
          this.stack.push(latin1.decode(this.raw(this.length(4, at))));
          break;
        case Op.ShortBinString:
          this.stack.push(latin1.decode(this.raw(this.byte())));
          break;
        case Op.BinBytes:
          this.stack.push(this.raw(this.length(4, at)).slice());
          break;
        case Op.ShortBinBytes:
          this.stack.push(this.raw(this.byte()).slice());
          break;
        case Op.BinBytes8:
          this.stack.push(this.raw(this.length(8, at)).slice());
          break;
        case Op.EmptyTuple:
          this.stack.push(new PickleTuple([]));
          break;
        case Op.Tuple: {
          // popMark replaces this.stack: take the items before choosing the stack to push on.
          const items = this.popMark(at);
          this.stack.push(new PickleTuple(items));
          break;
        }
        case Op.Tuple1:
        case Op.Tuple2:
        case Op.Tuple3: {
          const count = opcode - Op.Tuple1 + 1;
          if (this.stack.length < count) this.fail(`TUPLE${count} needs ${count} items on the stack`, at);
          this.stack.push(new PickleTuple(this.stack.splice(this.stack.length - count, count)));
          break;
        }
        case Op.EmptyList:
          this.stack.push([]);
          break;
        case Op.List: {
          const items = this.popMark(at);
          this.stack.push(items);
          break;
        }
        case Op.Append: {
          const value = this.pop(at);
          this.list(this.top(at), at).push(value);
          break;
        }
        case Op.Appends: {
          const values = this.popMark(at);
          this.list(this.top(at), at).push(...values);
          break;
        }
        case Op.EmptyDict:
          this.stack.push(new Map());
          break;
        case Op.Dict: {
          const items = this.popMark(at);
          this.stack.push(this.setItems(new Map(), items, at));
          break;
        }
        case Op.SetItem: {
          const value = this.pop(at);
          const key = this.pop(at);
          this.setItems(this.top(at), [key, value], at);
          break;
        }
        case Op.SetItems: {
          const items = this.popMark(at);
          this.setItems(this.top(at), items, at);
          break;
        }
        case Op.BinPut:
          this.memo.set(this.byte(), this.top(at));
          break;
        case Op.LongBinPut:
          this.memo.set(this.take(4).getUint32(0, true), this.top(at));
          break;
        case Op.Memoize:
          this.memo.set(this.memo.size, this.top(at));
          break;
        case Op.BinGet:
          this.stack.push(this.memoGet(this.byte(), at));
          break;
        case Op.LongBinGet:
          this.stack.push(this.memoGet(this.take(4).getUint32(0, true), at));
          break;
        case Op.Global: {
          const module = this.line(at);
          const name = this.line(at);
          this.stack.push(this.options.resolveGlobal(module, name));
          break;
        }
        case Op.StackGlobal: {
          const name = this.pop(at);
          const module = this.pop(at);
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings', at);
          this.stack.push(this.options.resolveGlobal(module as string, name as string));
          break;
        }
        case Op.Reduce: {
          const args = this.pop(at);
          const callable = this.pop(at);
          this.stack.push(this.reduce(callable, args, at));
          break;
        }
        case Op.Build: {
          const state = this.pop(at);
          this.build(this.top(at), state, at);
          break;
        }
        case Op.BinPersId: {
          const id = this.pop(at);
          if (!this.options.persistentLoad) this.fail('persistent ids are not allowed here', at);
          this.stack.push(this.options.persistentLoad!(id));
          break;
        }
        default:
          this.fail(`opcode 0x${opcode.toString(16).padStart(2, '0')} is not supported by the restricted unpickler`, at);
      }
    }
  }

  private reduce(callable: unknown, args: unknown, at: number): unknown {
    if (!isAllowedGlobal(callable)) this.fail('REDUCE on something that is not a global', at);
    const global = callable as AllowedGlobal;
    if (!global.reduce) this.fail(`${global.module}.${global.name} cannot be called`, at);
    if (!(args instanceof PickleTuple)) this.fail(`REDUCE of ${global.module}.${global.name} without an argument tuple`, at);
    return global.reduce!((args as PickleTuple).items);
  }

  /**
   * BUILD sets attributes of an object. Only dicts are accepted (an OrderedDict's attributes,
   * such as a state dict's `_metadata`, carry no tensors and are dropped).
   */
  private build(target: unknown, state: unknown, at: number): void {
    if (!(target instanceof Map)) this.fail('BUILD on a value that is not a dict', at);
    const parts = state instanceof PickleTuple ? state.items : [state];
    for (const part of parts) if (part !== null && !(part instanceof Map)) this.fail('BUILD with a state that is not a dict', at);
  }

  private setItems(target: unknown, items: readonly unknown[], at: number): Map<unknown, unknown> {
    if (!(target instanceof Map)) this.fail('SETITEM on a value that is not a dict', at);
    if (items.length % 2 !== 0) this.fail('SETITEMS with an odd number of items', at);
    const map = target as Map<unknown, unknown>;
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i];
      // Python keys are hashable: never lists or dicts.
      if (key !== null && typeof key === 'object' && !(key instanceof PickleTuple)) this.fail('dict keys must be strings, numbers, booleans, None or tuples', at);
      map.set(key, items[i + 1]);
    }
    return map;
  }

  private list(target: unknown, at: number): unknown[] {
    if (!Array.isArray(target)) this.fail('APPEND on a value that is not a list', at);
    return target as unknown[];
  }

  private memoGet(index: number, at: number): unknown {
    if (!this.memo.has(index)) this.fail(`memo entry ${index} was never stored`, at);
    return this.memo.get(index);
  }

  private pop(at: number): unknown {
    if (this.stack.length === 0) this.fail('stack underflow', at);
    return this.stack.pop();
  }

  private top(at: number): unknown {
    if (this.stack.length === 0) this.fail('stack underflow', at);
    return this.stack[this.stack.length - 1];
  }

  private popMark(at: number): unknown[] {
    const items = this.stack;
    const previous = this.marks.pop();
    if (!previous) this.fail('no MARK to pop to', at);
    this.stack = previous!;
    return items;
  }

  private byte(): number {
    if (this.position >= this.bytes.length) this.fail('the pickle ends without STOP (truncated?)', this.position);
    return this.bytes[this.position++]!;
  }

  private raw(length: number): Uint8Array {
    if (this.position + length > this.bytes.length) this.fail(`the pickle ends inside a ${length}-byte field (truncated?)`, this.position);
    const slice = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return slice;
  }

  private take(length: number): DataView {
    const slice = this.raw(length);
    return new DataView(slice.buffer, slice.byteOffset, length);
  }

  /** An unsigned 4- or 8-byte length or index. */
  private length(size: 4 | 8, at: number): number {
    const view = this.take(size);
    const value = size === 4 ? view.getUint32(0, true) : view.getBigUint64(0, true);
    if (BigInt(value) > BigInt(this.bytes.length)) this.fail(`a length of ${value} exceeds the pickle's ${this.bytes.length} bytes`, at);
    return Number(value);
  }

  /** A little-endian two's-complement integer; a number when it is safe, else a bigint. */
  private long(size: number): number | bigint {
    const bytes = this.raw(size);
    let value = 0n;
    for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
    if (size > 0 && bytes[size - 1]! & 0x80) value -= 1n << BigInt(8 * size);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  private text(length: number, at: number): string {
    try {
      return utf8.decode(this.raw(length));
    } catch (error) {
      if (error instanceof PickleError) throw error;
      return this.fail('a string is not valid UTF-8', at);
    }
  }

  private line(at: number): string {
    const end = this.bytes.indexOf(0x0a, this.position);
    if (end < 0) this.fail('GLOBAL without a newline (truncated?)', at);
    const text = latin1.decode(this.bytes.subarray(this.position, end));
    this.position = end + 1;
    return text;
  }

  private fail(reason: string, at: number): never {
    throw new PickleError(`${reason} (byte ${at})`);
  }
}

function isAllowedGlobal(value: unknown): value is AllowedGlobal {
  return typeof value === 'object' && value !== null && allowedGlobals.has(value);
}

const allowedGlobals = new WeakSet<object>();

/** Declares an allow-list entry; only values made here can be REDUCE'd. */
export function allowGlobal(module: string, name: string, reduce?: (args: readonly unknown[]) => unknown): AllowedGlobal {
  const global: AllowedGlobal = reduce ? { module, name, reduce } : { module, name };
  allowedGlobals.add(global);
  return global;
}
