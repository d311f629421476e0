import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, usage } from '../../../src-main/cli/annotationsCommands';
import { AnnotationStore } from '../../../src-main/services/annotations/AnnotationStore';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { slideRow } from '../../fixtures/slideRows';

interface Run {
  status: number;
  stdout: string[];
  stderr: string[];
}

/** Runs the command line in-process, as `npm run annotations -- …` would from `cwd`. */
function run(cwd: string, ...argv: string[]): Run {
  const result: Run = { status: -1, stdout: [], stderr: [] };
  result.status = main(argv, { stdout: (line) => result.stdout.push(line), stderr: (line) => result.stderr.push(line), cwd });
  return result;
}

const csv = ['x,y,label,slide,annotator', '100,200,mitotic figure,case-1.svs,Ana', '100,200,mitotic figure,case-1.svs,Ben', '300,400,imposter,case-2.svs,Ana', ''].join('\n');

let dir: string;
let projectFolder: string;

/** What the project holds now, read with the store (the CLI has closed the database). */
function contents(): { cells: number; votes: number; annotators: string[]; slides: string[] } {
  const project = ProjectDatabase.open(projectFolder);
  try {
    const store = new AnnotationStore(project.db);
    const catalog = new SlideCatalog(project.db);
    const annotators = store.listAnnotators();
    let cells = 0;
    let votes = 0;
    // Without annotators there can be no annotations (each has a creator).
    for (const slide of annotators.length > 0 ? catalog.list() : []) {
      for (const annotation of store.listForSlide(slide.id, { viewerId: annotators[0]!.id })) {
        cells += 1;
        votes += annotation.votes.length;
      }
    }
    return { cells, votes, annotators: annotators.map((annotator) => annotator.name), slides: catalog.list().map((slide) => slide.fileName) };
  } finally {
    project.close();
  }
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-cli-'));
  projectFolder = path.join(dir, 'project');
  const project = ProjectDatabase.create(projectFolder, 'cli test');
  new SlideCatalog(project.db).insert(slideRow('case-1.svs'));
  project.close();
  fs.writeFileSync(path.join(dir, 'labels.csv'), csv);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('npm run annotations', () => {
  it('--help and formats list the commands and every registered format', () => {
    const help = run(dir, '--help');
    expect(help).toEqual({ status: 0, stdout: [usage], stderr: [] });
    for (const command of ['preview', 'import', 'export', 'formats']) expect(usage).toContain(command);
    const formats = run(dir, 'formats');
    expect(formats.status).toBe(0);
    expect(formats.stdout.join('\n')).toMatch(/^midog-json +MIDOG/m);
    expect(formats.stdout.join('\n')).toMatch(/^sliderunner-sqlite .*import, export/m);
    expect(formats.stdout.join('\n')).toMatch(/^csv /m);
  });

  it('preview writes nothing; import then writes the cells; export writes them out again', () => {
    const preview = run(dir, 'preview', 'project', 'labels.csv');
    expect(preview.stderr).toEqual([]);
    expect(preview.status).toBe(0);
    expect(preview.stdout[0]).toBe(`${path.join(dir, 'labels.csv')} (csv): 2 cells, 3 votes would be imported; nothing was written.`);
    expect(preview.stdout.join('\n')).toContain('Slides: 1 match slides of the project, 1 would be added as missing slides');
    expect(contents().cells).toBe(0);

    const imported = run(dir, 'import', 'project', 'labels.csv', '--annotator', 'Clara');
    expect(imported.stderr).toEqual([]);
    expect(imported.status).toBe(0);
    expect(imported.stdout[0]).toMatch(/^Imported 2 cells and 3 votes from .*labels\.csv \(csv\) as "Clara"/);
    expect(contents()).toEqual({ cells: 2, votes: 3, annotators: ['Clara', 'Ana', 'Ben'], slides: ['case-1.svs', 'case-2.svs'] });

    const exported = run(dir, 'export', 'project', 'out/all.json', '--format', 'midog-json');
    expect(exported.status).toBe(1); // the folder out/ does not exist yet
    expect(exported.stderr).toEqual([expect.stringMatching(/^mitobench annotations export: .*out\/all\.json: cannot be written: the folder .* does not exist$/)]);

    fs.mkdirSync(path.join(dir, 'out'));
    const again = run(dir, 'export', 'project', 'out/all.json', '--format', 'midog-json');
    expect(again.stderr).toEqual([]);
    expect(again.stdout[0]).toMatch(/^Wrote 2 cells and 3 votes of 2 slides to .*out\/all\.json \(midog-json, \d+ bytes\)/);
    const document = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'all.json'), 'utf8')) as { annotations: unknown[]; images: unknown[] };
    expect(document.annotations).toHaveLength(2);
    expect(document.images).toHaveLength(2);

    // One slide by name, format from the extension.
    const one = run(dir, 'export', 'project', 'out/case-2.csv', '--slides', 'CASE-2.svs');
    expect(one.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'out', 'case-2.csv'), 'utf8')).toBe(
      // The agreed class (no annotator), then each vote.
      'x,y,label,slide,annotator\r\n300,400,imposter,case-2.svs,\r\n300,400,imposter,case-2.svs,Ana\r\n',
    );
  });

  it('failures exit 1 with one line naming the file; an existing file stays as it was', () => {
    const target = path.join(dir, 'existing.csv');
    fs.writeFileSync(target, 'precious');
    const refused = run(dir, 'export', 'project', 'existing.csv');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toEqual([`mitobench annotations export: ${target}: already exists; choose another name or allow overwriting it`]);
    expect(fs.readFileSync(target, 'utf8')).toBe('precious');
    const replaced = run(dir, 'export', 'project', 'existing.csv', '--overwrite');
    expect(replaced.status).toBe(0);
    expect(fs.readFileSync(target, 'utf8')).toMatch(/^x,y,label,slide/);

    const unknownFormat = run(dir, 'export', 'project', 'x.json', '--format', 'cvat');
    expect(unknownFormat.status).toBe(1);
    expect(unknownFormat.stderr[0]).toContain(`${path.join(dir, 'x.json')}: unknown export format "cvat"`);

    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '{"images": [');
    const before = contents();
    const bad = run(dir, 'import', 'project', 'broken.json');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toHaveLength(1);
    expect(bad.stderr[0]).toContain(broken);
    expect(contents()).toEqual(before);

    const noProject = run(dir, 'preview', 'not-a-project', 'labels.csv');
    expect(noProject.status).toBe(1);
    expect(noProject.stderr[0]).toContain(`${path.join(dir, 'not-a-project')} is not a Mitobench project`);
    expect(fs.existsSync(path.join(dir, 'not-a-project'))).toBe(false);

    const noSlide = run(dir, 'export', 'project', 'y.csv', '--slides', 'nope.svs');
    expect(noSlide.status).toBe(1);
    expect(noSlide.stderr[0]).toContain('--slides: no slide named "nope.svs"');
  });

  it('usage errors exit 2 and say how to get help', () => {
    for (const argv of [[], ['frobnicate'], ['export', 'project'], ['import', 'project', 'labels.csv', '--slides', '1'], ['export', 'project', 'a.csv', '--format']]) {
      const result = run(dir, ...argv);
      expect(result.status, argv.join(' ')).toBe(2);
      expect(result.stderr).toHaveLength(1);
      expect(result.stderr[0]).toMatch(/Run with --help for the commands\.$/);
    }
  });
});
