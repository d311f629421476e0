import fs from 'node:fs';
import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

const { version } = JSON.parse(fs.readFileSync(resolve(import.meta.dirname, 'package.json'), 'utf8')) as { version: string };
const define = { __MITOBENCH_VERSION__: JSON.stringify(version) };

export default defineConfig({
  main: {
    define,
    build: {
      externalizeDeps: true,
      rollupOptions: {
        input: {
          // The Electron main process, and browser mode's server (plain Node, no Electron).
          index: resolve(import.meta.dirname, 'src-main/app/main.ts'),
          serve: resolve(import.meta.dirname, 'src-main/server/serve.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // Sandboxed preloads cannot load ES modules or node_modules: one self-contained CJS file.
      externalizeDeps: false,
      isolatedEntries: true,
      rollupOptions: {
        input: { index: resolve(import.meta.dirname, 'src-main/app/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'src-renderer'),
    define,
    plugins: [svelte()],
    build: {
      rollupOptions: { input: { index: resolve(import.meta.dirname, 'src-renderer/index.html') } },
    },
  },
});
