import { defineConfig } from '@playwright/test';
import { chromiumLaunchArgs, systemChromium } from './tests/fixtures/browserServer';

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
      args: [...chromiumLaunchArgs],
    },
    trace: 'off',
  },
});
