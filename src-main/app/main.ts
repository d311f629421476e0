import fs from 'node:fs';
import path from 'node:path';
import { app, BrowserWindow, ipcMain, protocol, session, shell } from 'electron';
import { AppSettings } from '../services/project/AppSettings';
import { CONTENT_SECURITY_POLICY } from '../handlers/contentSecurityPolicy';
import { dispatch } from '../handlers/dispatch';
import { createHandlerTable } from '../handlers/handlerTable';
import { answerTileRequest, decodePathname } from '../handlers/tileRequests';
import { Workspace } from '../handlers/Workspace';
import { appVersion } from '../handlers/appVersion';

// Must happen before app is ready: slide:// behaves like a secure, fetchable origin.
protocol.registerSchemesAsPrivileged([
  { scheme: 'slide', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

const rendererIndex = path.join(import.meta.dirname, '../renderer/index.html');
const rendererUrl = new URL(`file://${rendererIndex}`).href;

/** better-sqlite3 rebuilt for Electron's ABI by tools/electron-native.mjs (Node keeps npm's build). */
function useElectronSqliteBinding(): void {
  const binding = path.join(app.getAppPath(), 'node_modules', '.mitobench-electron', 'better_sqlite3.node');
  if (fs.existsSync(binding)) process.env.MITOBENCH_SQLITE_BINDING ??= binding;
}

async function start(): Promise<void> {
  await app.whenReady();
  useElectronSqliteBinding();
  const workspace = new Workspace(
    new AppSettings(path.join(app.getPath('userData'), 'settings.json')),
    'electron',
    appVersion(),
  );
  const handlers = createHandlerTable(workspace);

  ipcMain.handle('mitobench:call', (event, name: unknown, input: unknown) => {
    // Only our own page may call: reject anything else that got a frame in the window.
    if (event.senderFrame?.url !== rendererUrl) {
      return { ok: false, error: { code: 'unauthorized', message: 'caller is not the Mitobench window' } };
    }
    return dispatch(handlers, String(name), input);
  });

  protocol.handle('slide', async (request) => {
    const { pathname, host } = new URL(request.url);
    if (host !== 'tiles') return new Response('not found', { status: 404 });
    const decoded = decodePathname(pathname.slice(1));
    if (decoded === null) return new Response('malformed address', { status: 400 });
    const answer = await answerTileRequest(workspace, decoded);
    const body = typeof answer.body === 'string' ? answer.body : new Uint8Array(answer.body);
    return new Response(body, { status: answer.status, headers: answer.headers });
  });

  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });
  session.defaultSession.setPermissionRequestHandler((_webContents, permission, allow) => allow(permission === 'fullscreen'));

  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    title: 'Mitobench',
    icon: path.join(app.getAppPath(), 'resources', 'icon.png'),
    webPreferences: {
      preload: path.join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  workspace.onEvent((name, payload) => {
    if (!window.isDestroyed()) window.webContents.send(`mitobench:event:${name}`, payload);
  });
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  await window.loadFile(rendererIndex);

  app.on('window-all-closed', () => {
    void workspace.closeProject().finally(() => app.quit());
  });
}

void start();
