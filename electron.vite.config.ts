import fs from 'node:fs';
import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { CONTENT_SECURITY_POLICY } from './src-main/handlers/contentSecurityPolicy';

const { version } = JSON.parse(fs.readFileSync(resolve(import.meta.dirname, 'package.json'), 'utf8')) as { version: string };
const define = { __MITOBENCH_VERSION__: JSON.stringify(version) };

/**
 * The policy also as a <meta> tag: Electron loads the page from a file, where no response
 * header can carry it. (frame-ancestors only works as a header; browser mode sends that too.)
 */
function contentSecurityPolicyMeta(): Plugin {
  const policy = CONTENT_SECURITY_POLICY.split('; ')
    .filter((directive) => !directive.startsWith('frame-ancestors'))
    .join('; ');
  return {
    name: 'mitobench-csp-meta',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: policy }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  main: {
    define,
    build: {
      externalizeDeps: true,
      rollupOptions: {
        input: {
          // The Electron main process, browser mode's server and the annotations command line (plain Node, no Electron).
          index: resolve(import.meta.dirname, 'src-main/app/main.ts'),
          serve: resolve(import.meta.dirname, 'src-main/server/serve.ts'),
          annotationsCli: resolve(import.meta.dirname, 'src-main/cli/annotationsCli.ts'),
          studyCli: resolve(import.meta.dirname, 'src-main/cli/studyCli.ts'),
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
    plugins: [svelte(), contentSecurityPolicyMeta()],
    build: {
      rollupOptions: { input: { index: resolve(import.meta.dirname, 'src-renderer/index.html') } },
    },
  },
});
