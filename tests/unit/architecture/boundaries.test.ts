import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The layering of DESIGN.md ("Processes and boundaries") is enforced by lint. These tests feed
 * small files to the project's own ESLint configuration, as if they sat in each folder, and
 * check which imports it refuses.
 */
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const RULE = '@typescript-eslint/no-restricted-imports';

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: repoRoot });
});

interface Finding {
  ruleId: string | null;
  message: string;
}

async function lint(relativePath: string, code: string): Promise<Finding[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, relativePath) });
  return (result?.messages ?? []).map(({ ruleId, message }) => ({ ruleId, message }));
}

async function expectRefused(relativePath: string, code: string, message: string | RegExp): Promise<void> {
  const findings = (await lint(relativePath, code)).filter((finding) => finding.ruleId === RULE);
  expect(findings, `${relativePath}: ${code}`).toHaveLength(1);
  if (typeof message === 'string') expect(findings[0]!.message).toContain(message);
  else expect(findings[0]!.message).toMatch(message);
}

async function expectClean(relativePath: string, code: string): Promise<void> {
  expect(await lint(relativePath, code), `${relativePath}: ${code}`).toEqual([]);
}

describe('the renderer', () => {
  const file = 'src-renderer/lib/state/probe.ts';

  it('may import types from the contract', async () => {
    await expectClean(file, "import type { CallName } from '../../../src-main/contract/api';\nexport type Name = CallName;\n");
    await expectClean(file, "import type { SlideSummary } from '../../../src-main/contract/schemas';\nexport type S = SlideSummary;\n");
  });

  it('may not import values (schemas) from the contract', async () => {
    await expectRefused(
      file,
      "import { calls } from '../../../src-main/contract/api';\nexport const table = calls;\n",
      'The renderer imports only types from the contract.',
    );
    await expectRefused(
      file,
      "import { slideTagSchema } from '../../../src-main/contract';\nexport const schema = slideTagSchema;\n",
      'The renderer imports only types from the contract.',
    );
  });

  it('may not import main-process services, even their types', async () => {
    const message = 'The renderer talks to the main process through the contract only.';
    await expectRefused(
      file,
      "import { SlideLibrary } from '../../../src-main/services/slides/SlideLibrary';\nexport const library = SlideLibrary;\n",
      message,
    );
    await expectRefused(
      file,
      "import type { SlideReader } from '../../../src-main/services/slides/SlideReader';\nexport type R = SlideReader;\n",
      message,
    );
    await expectRefused(file, "import { dispatch } from '../../../src-main/handlers/dispatch';\nexport const d = dispatch;\n", message);
  });

  it('may not import electron or native packages', async () => {
    await expectRefused(file, "import { ipcRenderer } from 'electron';\nexport const ipc = ipcRenderer;\n", 'Only src-main/app may import electron');
    await expectRefused(file, "import sharp from 'sharp';\nexport const s = sharp;\n", 'No native packages in the renderer.');
  });

  it('is held to the same rules in Svelte components', async () => {
    const findings = await lint(
      'src-renderer/lib/components/Probe.svelte',
      "<script lang=\"ts\">\n  import { calls } from '../../../src-main/contract/api';\n</script>\n\n<p>{Object.keys(calls).length}</p>\n",
    );
    expect(findings.filter((finding) => finding.ruleId === RULE).map((finding) => finding.message)).toEqual([
      expect.stringContaining('The renderer imports only types from the contract.'),
    ]);
  });
});

describe('services', () => {
  it('never import electron', async () => {
    for (const file of [
      'src-main/services/slides/Probe.ts',
      'src-main/services/project/Probe.ts',
      'src-main/services/training/Probe.ts',
    ]) {
      await expectRefused(file, "import { app } from 'electron';\nexport const a = app;\n", 'Only src-main/app may import electron');
    }
  });

  it('use only the native packages they own: no koffi in services/project', async () => {
    await expectRefused(
      'src-main/services/project/Probe.ts',
      "import koffi from 'koffi';\nexport const k = koffi;\n",
      'koffi is owned by another service: call that service instead.',
    );
    await expectClean('src-main/services/project/Probe.ts', "import BetterSqlite3 from 'better-sqlite3';\nexport const b = BetterSqlite3;\n");
  });

  it('use only the native packages they own: better-sqlite3 in services/slides as types only', async () => {
    const file = 'src-main/services/slides/Probe.ts';
    await expectRefused(
      file,
      "import BetterSqlite3 from 'better-sqlite3';\nexport const db = new BetterSqlite3(':memory:');\n",
      'better-sqlite3 is owned by another service: call that service instead.',
    );
    await expectClean(file, "import type { Database } from 'better-sqlite3';\nexport type Db = Database;\n");
    await expectClean(file, "import koffi from 'koffi';\nimport sharp from 'sharp';\nexport const both = [koffi, sharp];\n");
  });

  it('use only the native packages they own: onnxruntime-node in the model runtime only', async () => {
    const runtime = 'src-main/services/models/runtime/Probe.ts';
    await expectClean(runtime, "import * as ort from 'onnxruntime-node';\nexport const o = ort;\n");
    await expectRefused(runtime, "import sharp from 'sharp';\nexport const s = sharp;\n", 'sharp is owned by another service: call that service instead.');
    await expectRefused(
      'src-main/services/models/Probe.ts',
      "import * as ort from 'onnxruntime-node';\nexport const o = ort;\n",
      'onnxruntime-node is owned by another service: call that service instead.',
    );
  });

  it('of other areas own no native package', async () => {
    await expectRefused(
      'src-main/services/annotations/Probe.ts',
      "import sharp from 'sharp';\nexport const s = sharp;\n",
      'sharp is owned by another service',
    );
  });
});

describe('the contract', () => {
  const file = 'src-main/contract/probe.ts';

  it('imports no Node module', async () => {
    for (const specifier of ['node:fs', 'fs', 'node:path', 'path', 'os']) {
      await expectRefused(file, `import x from '${specifier}';\nexport const y = x;\n`, 'The contract runs in the renderer too: no Node modules.');
    }
  });

  it('imports no service, handler or native package', async () => {
    await expectRefused(
      file,
      "import { SlideLibrary } from '../services/slides/SlideLibrary';\nexport const s = SlideLibrary;\n",
      'The contract depends on nothing.',
    );
    await expectRefused(file, "import BetterSqlite3 from 'better-sqlite3';\nexport const b = BetterSqlite3;\n", 'The contract is plain types and schemas.');
    await expectRefused(file, "import { app } from 'electron';\nexport const a = app;\n", 'Only src-main/app may import electron');
  });

  it('may import zod and its own files', async () => {
    await expectClean(file, "import { z } from 'zod';\nimport { slideIdSchema } from './schemas';\nexport const s = z.object({ id: slideIdSchema });\n");
  });
});

describe('transports', () => {
  it('handlers and the browser server import no electron and no native package', async () => {
    for (const file of ['src-main/handlers/Probe.ts', 'src-main/server/Probe.ts']) {
      await expectRefused(file, "import { app } from 'electron';\nexport const a = app;\n", 'Only src-main/app may import electron');
      await expectRefused(file, "import sharp from 'sharp';\nexport const s = sharp;\n", 'sharp is owned by another service');
    }
  });

  it('src-main/app may import electron', async () => {
    await expectClean('src-main/app/Probe.ts', "import { app } from 'electron';\nexport const a = app;\n");
  });
});

describe('the code as it is', () => {
  it('passes these rules', async () => {
    const results = await eslint.lintFiles([
      'src-main/contract',
      'src-main/handlers',
      'src-main/server',
      'src-main/services',
      'src-renderer/lib/api',
      'src-renderer/lib/state',
    ]);
    const problems = results.flatMap((result) =>
      result.messages.map((message) => `${path.relative(repoRoot, result.filePath)}:${message.line} ${message.ruleId}: ${message.message}`),
    );
    expect(results.length).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });
});
