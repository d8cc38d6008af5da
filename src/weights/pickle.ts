// A minimal unpickler for torch.save files: the opcodes of protocols 2–4 that state dicts use. Nothing is ever
// executed: each global (class or function) is handed to the caller's `call` hook, which builds the few objects a
// checkpoint needs (tensors, OrderedDict) and refuses the rest.

/** A pickled reference to module.name (a class or function), never resolved to code. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  toString(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface UnpickleHooks {
  /** REDUCE / NEWOBJ: what calling `fn(...args)` stands for. */
  call(fn: PyGlobal, args: unknown[]): unknown;
  /** BINPERSID: torch's storage references. */
  persistentLoad(pid: unknown): unknown;
  /** BUILD: `state` for an object made by `call` (torch ≤ 0.3 tensors); dicts' attributes need no hook. */
  build?(obj: unknown, state: unknown): void;
}

const MARK = Symbol('mark');

/** Unpickles one object starting at `start`; returns it and the offset just past its STOP opcode. */
export function unpickle(bytes: Uint8Array, start: number, hooks: UnpickleHooks, what: string): { value: unknown; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let p = start;

  const fail = (msg: string): never => {
    throw new Error(`${what}: ${msg}`);
  };
  const need = (n: number): number => {
    if (p + n > bytes.length) fail('truncated pickle data');
    const at = p;
    p += n;
    return at;
  };
  const u8 = () => bytes[need(1)];
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = () => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('pickle length field too large');
    return Number(v);
  };
  const text = (n: number) => Buffer.from(bytes.subarray(need(n), p)).toString('utf8');
  const line = () => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) fail('truncated pickle data');
    return text(end - p + 1).slice(0, -1);
  };
  const pop = () => {
    if (stack.length === 0 || stack[stack.length - 1] === MARK) fail('malformed pickle (stack underflow)');
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    const m = stack.lastIndexOf(MARK);
    if (m < 0) fail('malformed pickle (no MARK)');
    const items = stack.splice(m);
    items.shift();
    return items;
  };
  const top = () => {
    if (stack.length === 0) fail('malformed pickle (stack underflow)');
    return stack[stack.length - 1];
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) fail('malformed pickle (SETITEM on a non-dict)');
    for (let i = 0; i + 1 < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) fail('malformed pickle (APPEND on a non-list)');
    (target as unknown[]).push(...items);
  };
  const call = (fn: unknown, args: unknown) => {
    if (!(fn instanceof PyGlobal) || !Array.isArray(args)) fail('malformed pickle (call of a non-global)');
    return hooks.call(fn as PyGlobal, args as unknown[]);
  };
  const long = (n: number): number | bigint => {
    if (n === 0) return 0;
    const at = need(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
    if (bytes[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    const at = p;
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME: framing is only a read-ahead hint
      case 0x2e: return { value: pop(), end: p }; // STOP
      case 0x28: stack.push(MARK); break;
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { const m = new Map(); setItems(m, popMark()); stack.push(m); break; } // DICT
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); stack.push([pop(), b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); stack.push([pop(), b, c]); break; } // TUPLE3
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x4a: stack.push(view.getInt32(need(4), true)); break; // BININT
      case 0x8a: stack.push(long(u8())); break; // LONG1
      case 0x8b: stack.push(long(u32())); break; // LONG4
      case 0x47: stack.push(view.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text(u64())); break; // BINUNICODE8
      case 0x54: stack.push(text(u32())); break; // BINSTRING (Python 2 str)
      case 0x55: stack.push(text(u8())); break; // SHORT_BINSTRING
      case 0x42: { const n = u32(); stack.push(bytes.slice(need(n), p)); break; } // BINBYTES
      case 0x43: { const n = u8(); stack.push(bytes.slice(need(n), p)); break; } // SHORT_BINBYTES
      case 0x63: { const module = line(); stack.push(new PyGlobal(module, line())); break; } // GLOBAL
      case 0x93: { const name = pop(); const module = pop(); stack.push(new PyGlobal(String(module), String(name))); break; } // STACK_GLOBAL
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`malformed pickle (memo ${k} unset)`);
        stack.push(memo.get(k));
        break;
      }
      case 0x52: { const args = pop(); stack.push(call(pop(), args)); break; } // REDUCE
      case 0x81: { const args = pop(); stack.push(call(pop(), args)); break; } // NEWOBJ
      case 0x62: { const state = pop(); hooks.build?.(top(), state); break; } // BUILD
      case 0x51: stack.push(hooks.persistentLoad(pop())); break; // BINPERSID
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }
}
