#!/usr/bin/env node
// `npm start` runs this before Electron. better-sqlite3 is the one native package built against
// a specific runtime ABI (koffi, sharp and onnxruntime-node use N-API), and npm built it for Node,
// which the tests and browser mode use. This builds a second copy for Electron's ABI into
// node_modules/.mitobench-electron/, which src-main/app/main.ts hands to better-sqlite3.
// Needs the internet once (Electron's headers); later runs reuse the build.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..');
const electronVersion = require('electron/package.json').version;
const sqliteVersion = require('better-sqlite3/package.json').version;
const outputFolder = path.join(root, 'node_modules', '.mitobench-electron');
const output = path.join(outputFolder, 'better_sqlite3.node');
const stampFile = path.join(outputFolder, 'built-for.json');
const stamp = JSON.stringify({ electronVersion, sqliteVersion, platform: process.platform, arch: process.arch });

if (fs.existsSync(output) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
  process.exit(0);
}

console.log(`Building better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} (once)…`);
const { rebuild } = await import('@electron/rebuild');
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-electron-native-'));
try {
  const moduleCopy = path.join(workspace, 'node_modules', 'better-sqlite3');
  fs.cpSync(path.join(root, 'node_modules', 'better-sqlite3'), moduleCopy, {
    recursive: true,
    filter: (source) => !source.includes(`${path.sep}build${path.sep}`),
  });
  fs.writeFileSync(
    path.join(workspace, 'package.json'),
    JSON.stringify({ name: 'electron-native', version: '0.0.0', dependencies: { 'better-sqlite3': sqliteVersion } }),
  );
  await rebuild({ buildPath: workspace, electronVersion, onlyModules: ['better-sqlite3'], force: true, buildFromSource: true });
  fs.mkdirSync(outputFolder, { recursive: true });
  fs.copyFileSync(path.join(moduleCopy, 'build', 'Release', 'better_sqlite3.node'), output);
  fs.writeFileSync(stampFile, stamp);
  console.log(`Electron build of better-sqlite3 written to ${path.relative(root, output)}`);
} finally {
  fs.rmSync(workspace, { recursive: true, force: true });
}
