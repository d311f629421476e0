import os from 'node:os';
import path from 'node:path';
import { AppSettings } from '../services/project/AppSettings';
import { createHandlerTable } from '../handlers/handlerTable';
import { Workspace } from '../handlers/Workspace';
import { appVersion } from '../handlers/appVersion';
import { BrowserServer } from './BrowserServer';

/** `npm run serve`: the app in the user's own browser, on loopback with a per-launch token. */
async function main(): Promise<void> {
  const settingsFolder = process.env.MITOBENCH_SETTINGS_DIR ?? path.join(os.homedir(), '.config', 'mitobench');
  const workspace = new Workspace(new AppSettings(path.join(settingsFolder, 'settings.json')), 'browser', appVersion());
  const portArgument = process.argv.indexOf('--port');
  const port = Number(portArgument > 0 ? process.argv[portArgument + 1] : (process.env.MITOBENCH_PORT ?? 0));
  const server = new BrowserServer({
    workspace,
    handlers: createHandlerTable(workspace),
    rendererFolder: path.join(import.meta.dirname, '../renderer'),
    port,
  });
  const url = await server.listen();
  console.log(`Mitobench is running at ${url}`);
  console.log('Open that address in a browser on this computer. Press Ctrl+C to stop.');

  const stop = async () => {
    await server.close();
    await workspace.closeProject();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
