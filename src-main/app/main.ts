import fs from 'node:fs';
import path from 'node:path';
import { app, BrowserWindow, ipcMain, protocol, session } from 'electron';
import { AppSettings } from '../services/project/AppSettings';
import { CONTENT_SECURITY_POLICY } from '../handlers/contentSecurityPolicy';
import { dispatch } from '../handlers/dispatch';
import { createHandlerTable } from '../handlers/handlerTable';
import { answerTileRequest, decodePathname } from '../handlers/tileRequests';
import { Workspace } from '../handlers/Workspace';
import { appVersion } from '../handlers/appVersion';

// Must happen before app is ready: slide:// behaves like a secure, fetchable origin whose
// images the (file://) page may draw into WebGL, which needs CORS.
protocol.registerSchemesAsPrivileged([
  { scheme: 'slide', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, corsEnabled: true } },
]);

const rendererIndex = path.join(import.meta.dirname, '../renderer/index.html');

/** better-sqlite3 rebuilt for Electron's ABI by tools/electron-native.mjs (Node keeps npm's build). */
function useElectronSqliteBinding(): void {
  const binding = path.join(app.getAppPath(), 'node_modules', '.mitobench-electron', 'better_sqlite3.node');
  if (fs.existsSync(binding)) process.env.MITOBENCH_SQLITE_BINDING ??= binding;
}

/** The app shows only its own page: no navigation, no pop-ups, no embedded web views. */
function lockDownWebContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    const refuse = (event: { preventDefault(): void }) => event.preventDefault();
    contents.on('will-navigate', refuse);
    contents.on('will-redirect', refuse);
    contents.on('will-attach-webview', refuse);
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

async function start(): Promise<void> {
  lockDownWebContents();
  await app.whenReady();
  useElectronSqliteBinding();
  const workspace = new Workspace(
    new AppSettings(path.join(app.getPath('userData'), 'settings.json')),
    'electron',
    appVersion(),
  );
  const handlers = createHandlerTable(workspace);

  protocol.handle('slide', async (request) => {
    const { pathname, host } = new URL(request.url);
    if (host !== 'tiles') return new Response('not found', { status: 404 });
    const decoded = decodePathname(pathname.slice(1));
    if (decoded === null) return new Response('malformed address', { status: 400 });
    const answer = await answerTileRequest(workspace, decoded);
    const body = typeof answer.body === 'string' ? answer.body : new Uint8Array(answer.body);
    // The page's origin is file:// ("null"); tiles carry no credentials, so any origin may read them.
    return new Response(body, { status: answer.status, headers: { ...answer.headers, 'Access-Control-Allow-Origin': '*' } });
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

  ipcMain.handle('mitobench:call', (event, name: unknown, input: unknown) => {
    // Only the window's own top frame may call; anything else that got a frame is refused.
    if (event.senderFrame !== window.webContents.mainFrame) {
      return { ok: false, error: { code: 'unauthorized', message: 'caller is not the Mitobench window' } };
    }
    return dispatch(handlers, String(name), input);
  });
  workspace.onEvent((name, payload) => {
    if (!window.isDestroyed()) window.webContents.send(`mitobench:event:${name}`, payload);
  });
  await window.loadFile(rendererIndex);

  app.on('window-all-closed', () => {
    void workspace.closeProject().finally(() => app.quit());
  });
}

void start();
