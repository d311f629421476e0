#!/usr/bin/env node
// `npm start` runs this before Electron. better-sqlite3 is the one native package built against
// a specific runtime ABI (koffi, sharp and onnxruntime-node use N-API), and npm built it for Node,
// which the tests and browser mode use. This builds a second copy for Electron's ABI into
// node_modules/.mitobench-electron/, which src-main/app/main.ts hands to better-sqlite3.
// Needs the internet once (Electron's headers); later runs reuse the build.
import { execFileSync } from 'node:child_process';
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
const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-electron-native-'));
try {
  const moduleCopy = path.join(workspace, 'better-sqlite3');
  fs.cpSync(path.join(root, 'node_modules', 'better-sqlite3'), moduleCopy, {
    recursive: true,
    filter: (source) => !source.includes(`${path.sep}build${path.sep}`),
  });
  execFileSync(
    process.execPath,
    [
      require.resolve('node-gyp/bin/node-gyp.js'),
      'rebuild',
      '--release',
      `--target=${electronVersion}`,
      `--arch=${process.arch}`,
      '--runtime=electron',
      '--dist-url=https://electronjs.org/headers',
    ],
    { cwd: moduleCopy, stdio: 'inherit' },
  );
  fs.mkdirSync(outputFolder, { recursive: true });
  fs.copyFileSync(path.join(moduleCopy, 'build', 'Release', 'better_sqlite3.node'), output);
  fs.writeFileSync(stampFile, stamp);
  console.log(`Electron build of better-sqlite3 written to ${path.relative(root, output)}`);
} finally {
  fs.rmSync(workspace, { recursive: true, force: true });
}
