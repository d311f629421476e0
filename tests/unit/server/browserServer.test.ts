import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../../src-main/contract/errors';
import type { AddSlidesResult, AppInfo, ProjectSummary } from '../../../src-main/contract/schemas';
import { CONTENT_SECURITY_POLICY } from '../../../src-main/handlers/contentSecurityPolicy';
import { createHandlerTable } from '../../../src-main/handlers/handlerTable';
import { Workspace } from '../../../src-main/handlers/Workspace';
import { BrowserServer } from '../../../src-main/server/BrowserServer';
import { AppSettings } from '../../../src-main/services/project/AppSettings';
import { makeTempDir, removeTempDir, writeSyntheticPyramid } from '../../fixtures/syntheticSlides';

const SECRET = 'the contents of a file outside the app folder';
const INDEX_HTML = '<!doctype html><title>Mitobench</title><script type="module" src="/assets/app.js"></script>';

let dir: string;
let workspace: Workspace;
let server: BrowserServer;
let launchUrl: string;
let origin: string;
let cookie: string;

beforeAll(async () => {
  dir = await makeTempDir('mitobench-browser-server-');
  const renderer = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(renderer, 'index.html'), INDEX_HTML);
  fs.writeFileSync(path.join(renderer, 'assets', 'app.js'), 'console.log("app");');
  fs.writeFileSync(path.join(dir, 'secret.txt'), SECRET);
  // A sibling whose name starts like the app folder's must not count as inside it.
  fs.mkdirSync(path.join(dir, 'renderer-private'));
  fs.writeFileSync(path.join(dir, 'renderer-private', 'secret.txt'), SECRET);

  workspace = new Workspace(new AppSettings(path.join(dir, 'settings.json')), 'browser', 'test');
  server = new BrowserServer({ workspace, handlers: createHandlerTable(workspace), rendererFolder: renderer, port: 0 });
  launchUrl = await server.listen();
  origin = server.origin;
  // Cookies are not separated by port, so the cookie's name carries the server's.
  cookie = `mitobench_token_${new URL(origin).port}=${server.token}`;
});
afterAll(async () => {
  await server.close();
  await workspace.closeProject();
  await removeTempDir(dir);
});

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with full control of the path and headers (fetch normalises both). */
function rawRequest(options: { path: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  const { port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port: Number(port), path: options.path, method: options.method ?? 'GET', headers: options.headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

async function call<T>(name: string, input: unknown, headers: Record<string, string> = { Cookie: cookie }): Promise<Envelope<T>> {
  const response = await fetch(`${origin}/api/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(input),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  return (await response.json()) as Envelope<T>;
}

async function result<T>(name: string, input: unknown): Promise<T> {
  const envelope = await call<T>(name, input);
  if (!envelope.ok) throw new Error(`${name}: ${JSON.stringify(envelope.error)}`);
  return envelope.result;
}

describe('listening', () => {
  it('binds to 127.0.0.1 only and prints an address carrying the token', () => {
    const address = (server as unknown as { server: http.Server }).server.address();
    expect(address).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(launchUrl).toBe(`${origin}/?token=${server.token}`);
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('is not reachable on other network interfaces', async () => {
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((entry) => entry && entry.family === 'IPv4' && !entry.internal);
    if (!external) {
      console.warn('browser server: no non-loopback IPv4 interface here, reachability check skipped');
      return;
    }
    const { port } = new URL(origin);
    await expect(fetch(`http://${external.address}:${port}/`)).rejects.toThrow();
  });

  it('makes a new random token per launch', () => {
    const tokens = [1, 2].map(() => new BrowserServer({ workspace, handlers: createHandlerTable(workspace), rendererFolder: dir, port: 0 }).token);
    for (const token of tokens) expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(tokens[0]).not.toBe(tokens[1]);
  });
});

describe('the access token', () => {
  it('moves a right ?token= into an HttpOnly, SameSite=Strict cookie and redirects', async () => {
    const response = await fetch(launchUrl, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const setCookie = response.headers.getSetCookie();
    expect(setCookie).toHaveLength(1);
    const parts = setCookie[0]!.split(';').map((part) => part.trim());
    expect(parts[0]).toBe(cookie);
    expect(parts).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
  });

  it('answers 401 to a wrong token and sets no cookie', async () => {
    for (const token of ['wrong', server.token.slice(0, -1), `${server.token}0`, '']) {
      const response = await fetch(`${origin}/?token=${token}`, { redirect: 'manual' });
      expect(response.status, token).toBe(401);
      expect(response.headers.getSetCookie()).toEqual([]);
    }
  });

  it('answers 401 to every kind of request without the token', async () => {
    expect((await fetch(`${origin}/`)).status).toBe(401);
    expect((await fetch(`${origin}/index.html`)).status).toBe(401);
    expect((await fetch(`${origin}/assets/app.js`)).status).toBe(401);
    expect((await fetch(`${origin}/api/app.info`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await fetch(`${origin}/tiles/1/v1/0/0_0.jpg`)).status).toBe(401);
    expect((await fetch(`${origin}/events`)).status).toBe(401);
    const unauthorised = await fetch(`${origin}/`);
    expect(await unauthorised.text()).not.toContain('<title>');
  });

  it('answers 401 to a wrong cookie or header, and to the token in the query of other paths', async () => {
    expect((await fetch(`${origin}/`, { headers: { Cookie: 'mitobench_token=nope' } })).status).toBe(401);
    expect((await fetch(`${origin}/`, { headers: { Cookie: `mitobench_token_${new URL(origin).port}=nope` } })).status).toBe(401);
    // The right token under another server's cookie name is not this server's session.
    expect((await fetch(`${origin}/`, { headers: { Cookie: `mitobench_token=${server.token}` } })).status).toBe(401);
    expect((await fetch(`${origin}/`, { headers: { Cookie: `mitobench_token_1=${server.token}` } })).status).toBe(401);
    expect((await fetch(`${origin}/api/app.info`, { method: 'POST', headers: { 'X-Mitobench-Token': 'nope' } })).status).toBe(401);
    expect((await fetch(`${origin}/api/app.info?token=${server.token}`, { method: 'POST' })).status).toBe(401);
  });

  it('accepts the cookie', async () => {
    const response = await fetch(`${origin}/`, { headers: { Cookie: `theme=dark; ${cookie}` } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(INDEX_HTML);
  });

  it('accepts the X-Mitobench-Token header', async () => {
    const envelope = await call<AppInfo>('app.info', {}, { 'X-Mitobench-Token': server.token });
    expect(envelope).toMatchObject({ ok: true, result: { mode: 'browser', version: 'test' } });
  });
});

describe('requests from elsewhere', () => {
  it('answers 421 when the Host header is not loopback (DNS rebinding)', async () => {
    const { port } = new URL(origin);
    for (const host of [`evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost.evil.example`, `192.168.1.10:${port}`]) {
      const response = await rawRequest({ path: '/', headers: { Host: host, Cookie: cookie } });
      expect(response.status, host).toBe(421);
      expect(response.body).not.toContain('<title>');
    }
    expect((await rawRequest({ path: '/', headers: { Host: `localhost:${port}`, Cookie: cookie } })).status).toBe(200);
  });

  it('refuses a call from a foreign origin with 403', async () => {
    for (const foreign of ['https://evil.example', 'null', 'http://127.0.0.1:1']) {
      const response = await fetch(`${origin}/api/project.create`, {
        method: 'POST',
        headers: { Cookie: cookie, Origin: foreign },
        body: JSON.stringify({ folder: path.join(dir, 'csrf'), name: 'csrf' }),
      });
      expect(response.status, foreign).toBe(403);
    }
    expect(fs.existsSync(path.join(dir, 'csrf'))).toBe(false);
    const sameOrigin = await call<AppInfo>('app.info', {}, { Cookie: cookie, Origin: origin });
    expect(sameOrigin.ok).toBe(true);
  });

  it('answers 405 to a call that is not a POST', async () => {
    expect((await fetch(`${origin}/api/app.info`, { headers: { Cookie: cookie } })).status).toBe(405);
  });
});

describe('static files', () => {
  it('serves index.html with the Content-Security-Policy and no caching', async () => {
    const response = await fetch(`${origin}/`, { headers: { Cookie: cookie } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('serves assets with their type', async () => {
    const response = await fetch(`${origin}/assets/app.js`, { headers: { Cookie: cookie } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await response.text()).toBe('console.log("app");');
    const head = await fetch(`${origin}/index.html`, { method: 'HEAD', headers: { Cookie: cookie } });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('refuses paths that climb out of the app folder', async () => {
    const attempts: [string, number][] = [
      ['/..%2f..%2fetc/passwd', 403],
      ['/..%2fsecret.txt', 403],
      ['/assets/..%2f..%2fsecret.txt', 403],
      ['/..%2frenderer-private%2fsecret.txt', 403],
      ['/%2e%2e%2fsecret.txt', 403],
      ['/..%5csecret.txt', 404],
      ['/../secret.txt', 404],
      ['/assets/../../secret.txt', 404],
      [`/${encodeURIComponent(path.join(dir, 'secret.txt'))}`, 404],
      ['/missing.js', 404],
      ['/assets', 404],
    ];
    for (const [attempt, status] of attempts) {
      const response = await rawRequest({ path: attempt, headers: { Cookie: cookie } });
      expect(response.status, attempt).toBe(status);
      expect(response.body, attempt).not.toContain(SECRET);
    }
  });

  it('answers 400 to malformed percent-encoding instead of failing', async () => {
    for (const attempt of ['/%E0%A4%A', '/tiles/%E0%A4%A', '/api/%ZZ', '/%']) {
      const response = await rawRequest({ path: attempt, method: attempt.startsWith('/api/') ? 'POST' : 'GET', headers: { Cookie: cookie } });
      expect(response.status, attempt).toBe(400);
    }
  });

  it('refuses to write', async () => {
    expect((await fetch(`${origin}/index.html`, { method: 'PUT', headers: { Cookie: cookie }, body: 'x' })).status).toBe(405);
  });
});

describe('calls', () => {
  it('answers a malformed JSON body with an invalid-argument envelope', async () => {
    const response = await fetch(`${origin}/api/app.info`, { method: 'POST', headers: { Cookie: cookie }, body: '{"not json' });
    expect(response.status).toBe(200);
    const envelope = (await response.json()) as Envelope<unknown>;
    expect(envelope).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect((envelope as { ok: false; error: { message: string } }).error.message).toMatch(/^bad request body: /);
  });

  it('validates arguments against the contract', async () => {
    const envelope = await call('slides.remove', { slideId: -1 });
    expect(envelope).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(JSON.stringify(envelope)).toContain('slideId');
    expect(await call('slides.explode', {})).toEqual({ ok: false, error: { code: 'invalid-argument', message: 'unknown call "slides.explode"' } });
  });

  it('treats an empty body as no arguments', async () => {
    const response = await fetch(`${origin}/api/app.info`, { method: 'POST', headers: { Cookie: cookie } });
    expect(((await response.json()) as Envelope<AppInfo>).ok).toBe(true);
  });
});

describe('events and tiles', () => {
  it('pushes project.changed over server-sent events when a project is created', async () => {
    const aborter = new AbortController();
    const stream = await fetch(`${origin}/events`, { headers: { Cookie: cookie }, signal: aborter.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    const nextFrame = async (predicate: (text: string) => boolean): Promise<void> => {
      while (!predicate(received)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`event stream ended; received so far: ${received}`);
        received += decoder.decode(value, { stream: true });
      }
    };
    await nextFrame((text) => text.includes('\n\n'));
    expect(received).toMatch(/^: events project\.changed,slides\.changed,jobs\.changed,annotations\.changed\n\n/);

    const folder = path.join(dir, 'events-project');
    const created = await result<ProjectSummary>('project.create', { folder, name: 'Events' });
    await nextFrame((text) => text.includes('"project.changed"'));
    await nextFrame((text) => /data: .*\n\n/.test(text));
    const frame = received.split('\n\n').find((part) => part.includes('"project.changed"'))!;
    expect(frame.startsWith('event: message\ndata: ')).toBe(true);
    expect(JSON.parse(frame.slice('event: message\ndata: '.length))).toEqual({ name: 'project.changed', payload: created });
    aborter.abort();
  });

  it('serves tiles of an added slide by id, never by path', async () => {
    await result('project.create', { folder: path.join(dir, 'tiles-project'), name: 'Tiles' });
    const slide = await writeSyntheticPyramid(dir, { width: 300, height: 200 });
    const { added } = await result<AddSlidesResult>('slides.add', { paths: [slide.path] });
    const { id, tileVersion } = added[0]!;
    expect(tileVersion).toMatch(/^[0-9a-f]{8}\.1$/);
    const tile = await fetch(`${origin}/tiles/${id}/v${tileVersion}/9/0_0.jpg`, { headers: { Cookie: cookie } });
    expect(tile.status).toBe(200);
    expect(tile.headers.get('content-type')).toBe('image/jpeg');
    expect(tile.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect([...new Uint8Array(await tile.arrayBuffer()).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const thumbnail = await fetch(`${origin}/tiles/${id}/v${tileVersion}/thumbnail.jpg`, { headers: { Cookie: cookie } });
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');

    const traversal = await rawRequest({ path: '/tiles/..%2f..%2f..%2fsecret.txt', headers: { Cookie: cookie } });
    expect(traversal.status).toBe(400);
    expect(traversal.body).not.toContain(SECRET);
    expect((await fetch(`${origin}/tiles/${id}/v${tileVersion}/20/0_0.jpg`, { headers: { Cookie: cookie } })).status).toBe(404);
    expect((await fetch(`${origin}${encodeURI(`/tiles/${slide.path}`)}`, { headers: { Cookie: cookie } })).status).toBe(400);
    // The old address form, without the project key, is not a tile address any more.
    expect((await fetch(`${origin}/tiles/${id}/v1/9/0_0.jpg`, { headers: { Cookie: cookie } })).status).toBe(400);
  });

  it('gives slide 1 of two projects different tile addresses, and only the open one is cached for good', async () => {
    const tileUrl = (slideId: number, tileVersion: string) => `${origin}/tiles/${slideId}/v${tileVersion}/9/0_0.jpg`;
    const addSlide = async (fileName: string, width: number, height: number) => {
      const file = await writeSyntheticPyramid(dir, { width, height, fileName });
      return (await result<AddSlidesResult>('slides.add', { paths: [file.path] })).added[0]!;
    };
    await result('project.create', { folder: path.join(dir, 'first-project'), name: 'First' });
    const firstSlide = await addSlide('first.tif', 300, 200);
    const firstTile = await fetch(tileUrl(firstSlide.id, firstSlide.tileVersion), { headers: { Cookie: cookie } });
    expect(firstTile.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');

    await result('project.create', { folder: path.join(dir, 'second-project'), name: 'Second' });
    const secondSlide = await addSlide('second.tif', 400, 300);
    expect([firstSlide.id, secondSlide.id]).toEqual([1, 1]);
    expect(tileUrl(secondSlide.id, secondSlide.tileVersion)).not.toBe(tileUrl(firstSlide.id, firstSlide.tileVersion));

    const secondTile = await fetch(tileUrl(secondSlide.id, secondSlide.tileVersion), { headers: { Cookie: cookie } });
    expect(secondTile.status).toBe(200);
    expect(secondTile.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    const stale = await fetch(tileUrl(firstSlide.id, firstSlide.tileVersion), { headers: { Cookie: cookie } });
    expect(stale.status).toBe(200);
    expect(stale.headers.get('cache-control')).toBe('no-cache');
  });
});
