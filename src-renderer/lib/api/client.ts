import type { CallInput, CallName, CallOutput, EventName, EventPayload } from '../../../src-main/contract/api';
import type { Envelope, ErrorInfo } from '../../../src-main/contract/errors';

/** What the Electron preload exposes; absent in browser mode. */
interface PreloadBridge {
  invoke(name: string, input: unknown): Promise<Envelope<unknown>>;
  on(name: string, listener: (payload: unknown) => void): () => void;
  tileRoot: string;
}

declare global {
  interface Window {
    mitobench?: PreloadBridge;
  }
}

/** A failed call, carrying the typed error from the main process. */
export class CallError extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
  }
}

interface Transport {
  invoke(name: string, input: unknown): Promise<Envelope<unknown>>;
  on(name: string, listener: (payload: unknown) => void): () => void;
  tileRoot: string;
}

/** Browser mode: calls are POST /api/<name>; events arrive on one server-sent event stream. */
function httpTransport(): Transport {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let stream: EventSource | null = null;
  const ensureStream = () => {
    if (stream) return;
    stream = new EventSource('/events');
    stream.onmessage = (message: MessageEvent<string>) => {
      const { name, payload } = JSON.parse(message.data) as { name: string; payload: unknown };
      for (const listener of listeners.get(name) ?? []) listener(payload);
    };
  };
  return {
    async invoke(name, input) {
      let response: Response;
      try {
        response = await fetch(`/api/${encodeURIComponent(name)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(input),
        });
      } catch (error) {
        return { ok: false, error: { code: 'internal', message: `Mitobench server unreachable (${String(error)})` } };
      }
      if (!response.ok) {
        return { ok: false, error: { code: response.status === 401 ? 'unauthorized' : 'internal', message: await response.text() } };
      }
      return (await response.json()) as Envelope<unknown>;
    },
    on(name, listener) {
      ensureStream();
      const set = listeners.get(name) ?? new Set();
      set.add(listener);
      listeners.set(name, set);
      return () => set.delete(listener);
    },
    tileRoot: '/tiles/',
  };
}

/** The typed API of the main process, over whichever transport this window has. */
export class MitobenchClient {
  private readonly transport: Transport = window.mitobench ?? httpTransport();

  async call<N extends CallName>(name: N, input: CallInput<N>): Promise<CallOutput<N>> {
    const envelope = await this.transport.invoke(name, input);
    if (!envelope.ok) throw new CallError(envelope.error);
    return envelope.result as CallOutput<N>;
  }

  on<N extends EventName>(name: N, listener: (payload: EventPayload<N>) => void): () => void {
    return this.transport.on(name, listener as (payload: unknown) => void);
  }

  /** URL of a tile, thumbnail or associated image; tiles are addressed by slide id only. */
  slideUrl(slideId: number, tileVersion: string, rest: string): string {
    return `${this.transport.tileRoot}${slideId}/v${tileVersion}/${rest}`;
  }

  /**
   * URL of a square JPEG crop of `size` pixels centred on a level-0 point, at `downsample`
   * level-0 pixels per crop pixel; versioned like tiles (the same address as tileRequests.cropPath).
   */
  cropUrl(slideId: number, tileVersion: string, x: number, y: number, size: number, downsample: number): string {
    return this.slideUrl(slideId, tileVersion, `crop/${Math.max(0, Math.round(x))}_${Math.max(0, Math.round(y))}_${size}_${downsample}.jpg`);
  }
}

export const client = new MitobenchClient();
