import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppSettings } from '../../../src-main/services/project/AppSettings';

let folder: string;
let file: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-settings-'));
  file = path.join(folder, 'nested', 'settings.json');
});
afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

describe('AppSettings', () => {
  it('starts in English with automatic slide drawing and no recent projects', () => {
    const settings = new AppSettings(file);
    expect(settings.language).toBe('en');
    expect(settings.viewerRenderer).toBe('auto');
    expect(settings.recentProjects).toEqual([]);
  });

  it('remembers language, drawing and recent projects across restarts, newest first, without duplicates', () => {
    const settings = new AppSettings(file);
    settings.setLanguage('ja');
    settings.setViewerRenderer('webgl');
    settings.rememberProject('/p/a', 'A');
    settings.rememberProject('/p/b', 'B');
    settings.rememberProject('/p/a', 'A again');

    const restarted = new AppSettings(file);
    expect(restarted.language).toBe('ja');
    expect(restarted.viewerRenderer).toBe('webgl');
    expect(restarted.recentProjects.map((project) => [project.folder, project.name])).toEqual([
      ['/p/a', 'A again'],
      ['/p/b', 'B'],
    ]);
    restarted.forgetProject('/p/b');
    expect(new AppSettings(file).recentProjects.map((project) => project.folder)).toEqual(['/p/a']);
  });

  it('keeps at most twelve recent projects', () => {
    const settings = new AppSettings(file);
    for (let i = 0; i < 20; i += 1) settings.rememberProject(`/p/${i}`, `P${i}`);
    expect(settings.recentProjects).toHaveLength(12);
    expect(settings.recentProjects[0]?.folder).toBe('/p/19');
  });

  it('falls back to defaults for a damaged settings file instead of stopping the app', () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"language": "ja", "viewerRenderer": "magic", "recentProjects": 7');
    const settings = new AppSettings(file);
    expect(settings.language).toBe('en');
    expect(settings.viewerRenderer).toBe('auto');
    fs.writeFileSync(file, JSON.stringify({ language: 'klingon', viewerRenderer: 'magic', recentProjects: 'x' }));
    const odd = new AppSettings(file);
    expect([odd.language, odd.viewerRenderer, odd.recentProjects]).toEqual(['en', 'auto', []]);
  });
});
