import { execFileSync } from 'node:child_process';
import { defineConfig } from '@playwright/test';

/** Debian's Chromium: no browser download is possible (or wanted) on these machines. */
function systemChromium(): string {
  if (process.env.MITOBENCH_CHROMIUM) return process.env.MITOBENCH_CHROMIUM;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('Chromium not found: install Debian\'s "chromium" package (the README\'s set-up command does).');
  }
}

export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: 'test-results/e2e',
  timeout: 120_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  use: {
    viewport: { width: 1400, height: 900 },
    deviceScaleFactor: 1,
    launchOptions: {
      executablePath: systemChromium(),
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        // WebGL in software, so the viewer draws exactly as on a workstation with a GPU.
        '--enable-unsafe-swiftshader',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
    trace: 'off',
  },
});
