import path from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import type { CallName, CallOutput } from '../../../src-main/contract/api';
import type { Envelope, ErrorInfo } from '../../../src-main/contract/errors';
import { dispatch } from '../../../src-main/handlers/dispatch';
import { createHandlerTable, type HandlerTable } from '../../../src-main/handlers/handlerTable';
import { Workspace } from '../../../src-main/handlers/Workspace';
import { AppSettings } from '../../../src-main/services/project/AppSettings';
import { makeTempDir, removeTempDir } from '../../fixtures/syntheticSlides';

/** The current test's browser-mode workspace, on its own scratch folder, and calls through dispatch as the renderer makes them. */
export class HandlerHarness {
  /** The test's scratch folder (settings in its "settings" folder); removed after the test. */
  dir!: string;
  workspace!: Workspace;
  table!: HandlerTable;

  /** Calls `name`; throws if it answers with an error. */
  ok = async <N extends CallName>(name: N, input: unknown): Promise<CallOutput<N>> => {
    const envelope = await dispatch(this.table, name, input);
    if (!envelope.ok) throw new Error(`${name} failed: ${JSON.stringify(envelope.error)}`);
    return envelope.result as CallOutput<N>;
  };

  /** Calls `name`, expecting an error, and returns it. */
  failure = async (name: string, input: unknown): Promise<ErrorInfo> => {
    const envelope: Envelope<unknown> = await dispatch(this.table, name, input);
    expect(envelope.ok, `${name} should have failed`).toBe(false);
    return (envelope as { ok: false; error: ErrorInfo }).error;
  };
}

/** A fresh workspace for every test of the calling file (beforeEach), its project closed and scratch folder removed after (afterEach). */
export function useHandlerHarness(tempPrefix: string): HandlerHarness {
  const harness = new HandlerHarness();
  beforeEach(async () => {
    harness.dir = await makeTempDir(tempPrefix);
    harness.workspace = new Workspace(new AppSettings(path.join(harness.dir, 'settings', 'settings.json')), 'browser', 'test');
    harness.table = createHandlerTable(harness.workspace);
  });
  afterEach(async () => {
    await harness.workspace.closeProject();
    await removeTempDir(harness.dir);
  });
  return harness;
}
