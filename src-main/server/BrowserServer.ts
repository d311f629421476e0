import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { eventNames } from '../contract/channels';
import { dispatch } from '../handlers/dispatch';
import type { HandlerTable } from '../handlers/handlerTable';
import { answerTileRequest, decodePathname } from '../handlers/tileRequests';
import type { Workspace } from '../handlers/Workspace';
import { CONTENT_SECURITY_POLICY } from '../handlers/contentSecurityPolicy';

const MAX_BODY_BYTES = 4 * 1024 * 1024;

const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface BrowserServerOptions {
  workspace: Workspace;
  handlers: HandlerTable;
  /** The built renderer (index.html and assets). */
  rendererFolder: string;
  port: number;
  token?: string;
}

/**
 * Browser mode: the same handler table over HTTP (calls), server-sent events (events) and
 * /tiles/, bound to loopback only. Every request must carry the per-launch token, either as
 * ?token= on the first page load (which moves it into an HttpOnly cookie) or as that cookie.
 */
export class BrowserServer {
  readonly token: string;
  private server: http.Server | null = null;
  private readonly eventStreams = new Set<http.ServerResponse>();
  private stopForwardingEvents: (() => void) | null = null;

  constructor(private readonly options: BrowserServerOptions) {
    this.token = options.token ?? crypto.randomBytes(24).toString('hex');
  }

  async listen(): Promise<string> {
    const server = http.createServer((request, response) => {
      this.route(request, response).catch((error: unknown) => {
        console.error(error);
        if (!response.headersSent) send(response, 500, 'internal error');
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, '127.0.0.1', () => resolve());
    });
    this.stopForwardingEvents = this.options.workspace.onEvent((name, payload) => {
      const frame = `event: message\ndata: ${JSON.stringify({ name, payload })}\n\n`;
      for (const stream of this.eventStreams) stream.write(frame);
    });
    return `${this.origin}/?token=${this.token}`;
  }

  get origin(): string {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('server is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /**
   * Cookies are not separated by port, so each server names its own: two Mitobench servers
   * (or a restart) on this computer never overwrite each other's sessions.
   */
  private get tokenCookie(): string {
    const address = this.server?.address();
    return `mitobench_token_${address && typeof address !== 'string' ? address.port : 0}`;
  }

  async close(): Promise<void> {
    this.stopForwardingEvents?.();
    this.stopForwardingEvents = null;
    for (const stream of this.eventStreams) stream.end();
    this.eventStreams.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async route(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (!this.hostIsLoopback(request)) return send(response, 421, 'wrong host');

    const queryToken = url.searchParams.get('token');
    if (queryToken !== null && request.method === 'GET' && url.pathname === '/') {
      if (!safeEqual(queryToken, this.token)) return send(response, 401, 'wrong token');
      response.writeHead(302, {
        'Set-Cookie': `${this.tokenCookie}=${this.token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: '/',
        'Cache-Control': 'no-store',
      });
      response.end();
      return;
    }
    if (!this.sameOriginOrDirect(request)) return send(response, 403, 'cross-site request refused');
    if (!this.authorized(request)) {
      return send(response, 401, 'Mitobench: open the address printed in the terminal (it carries the access token).');
    }

    const pathname = decodePathname(url.pathname);
    if (pathname === null) return send(response, 400, 'malformed percent-encoding in the address');
    if (pathname.startsWith('/api/')) return this.answerCall(request, response, pathname.slice(5));
    if (pathname === '/events') return this.openEventStream(request, response);
    if (pathname.startsWith('/tiles/')) {
      const answer = await answerTileRequest(this.options.workspace, pathname.slice(7));
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body);
      return;
    }
    return this.serveStatic(request, response, pathname);
  }

  /**
   * Every other site on 127.0.0.1 counts as "same site" for cookies, so the browser's own
   * account of where a request comes from is checked too: only this origin or a typed address.
   */
  private sameOriginOrDirect(request: http.IncomingMessage): boolean {
    const site = request.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin' || site === 'none';
  }

  private hostIsLoopback(request: http.IncomingMessage): boolean {
    const host = request.headers.host ?? '';
    return /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host);
  }

  private authorized(request: http.IncomingMessage): boolean {
    const header = request.headers['x-mitobench-token'];
    if (typeof header === 'string' && safeEqual(header, this.token)) return true;
    const cookie = (request.headers.cookie ?? '')
      .split(';')
      .map((part) => part.trim().split('='))
      .find(([name]) => name === this.tokenCookie);
    return cookie?.[1] !== undefined && safeEqual(cookie[1], this.token);
  }

  private async answerCall(request: http.IncomingMessage, response: http.ServerResponse, name: string): Promise<void> {
    if (request.method !== 'POST') return send(response, 405, 'calls are POST');
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== this.origin && origin !== this.origin.replace('127.0.0.1', 'localhost')) {
      return send(response, 403, 'cross-origin call refused');
    }
    let body: unknown;
    try {
      const text = await readBody(request);
      body = text.length === 0 ? {} : JSON.parse(text);
    } catch (error) {
      return sendJson(response, { ok: false, error: { code: 'invalid-argument', message: `bad request body: ${String(error)}` } });
    }
    sendJson(response, await dispatch(this.options.handlers, name, body));
  }

  private openEventStream(request: http.IncomingMessage, response: http.ServerResponse): void {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    response.write(`: events ${eventNames.join(',')}\n\n`);
    this.eventStreams.add(response);
    request.on('close', () => this.eventStreams.delete(response));
  }

  private async serveStatic(request: http.IncomingMessage, response: http.ServerResponse, pathname: string): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'method not allowed');
    const root = path.resolve(this.options.rendererFolder);
    const relative = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
    const file = path.resolve(root, relative);
    if (!file.startsWith(root + path.sep)) return send(response, 403, 'outside the app folder');
    let content: Buffer;
    try {
      content = await fs.promises.readFile(file);
    } catch {
      return send(response, 404, 'not found');
    }
    const extension = path.extname(file);
    response.writeHead(200, {
      'Content-Type': MIME_TYPES[extension] ?? 'application/octet-stream',
      'Cache-Control': extension === '.html' ? 'no-store' : 'private, max-age=3600',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    response.end(request.method === 'HEAD' ? undefined : content);
  }
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request) {
    length += (chunk as Buffer).length;
    if (length > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: http.ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(message);
}

function sendJson(response: http.ServerResponse, value: unknown): void {
  response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify(value));
}
