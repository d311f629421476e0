import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SlideSummary } from '../../../src-main/contract/schemas';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { openSlideLibraryStatus } from '../../../src-main/services/slides/OpenSlideReader';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { SlideError } from '../../../src-main/services/slides/SlideError';
import { RelinkMismatchError, SlideLibrary, SlideNotFoundError } from '../../../src-main/services/slides/SlideLibrary';
import { TileCache } from '../../../src-main/services/slides/TileCache';
import { TileOutOfRangeError } from '../../../src-main/services/slides/TileGrid';
import {
  copyInto,
  makeTempDir,
  removeTempDir,
  writeEmptyFile,
  writeGarbageFile,
  writeSyntheticImage,
  writeSyntheticPyramid,
} from '../../fixtures/syntheticSlides';
import type { SyntheticSlide } from '../../fixtures/syntheticSlides';

const openslide = openSlideLibraryStatus();
if (!openslide.available) console.warn(`SlideLibrary: OpenSlide reader switch skipped: ${openslide.reason}`);

const isJpeg = (bytes: Buffer) => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

/** Source slides written once; each test copies what it needs into its own folder. */
let sources: string;
let pyramid: SyntheticSlide;
let otherPyramid: SyntheticSlide;
let png: SyntheticSlide;
beforeAll(async () => {
  sources = await makeTempDir('mitobench-library-sources-');
  pyramid = await writeSyntheticPyramid(sources, { width: 700, height: 500, mpp: 0.25 });
  otherPyramid = await writeSyntheticPyramid(sources, { width: 600, height: 400, fileName: 'other.tif' });
  png = await writeSyntheticImage(sources, { width: 64, height: 48, format: 'png' });
});
afterAll(async () => {
  await removeTempDir(sources);
});

let dir: string;
let projectFolder: string;
let project: ProjectDatabase;
let tileCache: TileCache;
let library: SlideLibrary;

function openLibrary(): SlideLibrary {
  return new SlideLibrary(new SlideCatalog(project.db), path.join(project.cacheFolder, 'thumbnails'), tileCache, project.projectKey);
}

/** The tile version a slide of this project shows after its n-th change of pixels ("<project key>.<n>"). */
function version(n: number): string {
  return `${project.projectKey}.${n}`;
}

beforeEach(async () => {
  dir = await makeTempDir('mitobench-library-');
  projectFolder = path.join(dir, 'project');
  project = ProjectDatabase.create(projectFolder, 'p');
  tileCache = new TileCache(64 * 1024 * 1024);
  library = openLibrary();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await library.close();
  project.close();
  await removeTempDir(dir);
});

/** A folder of slides as a scanner share might hold them. */
async function slideFolder(): Promise<string> {
  const root = path.join(dir, 'scans');
  fs.mkdirSync(path.join(root, 'nested', 'deeper'), { recursive: true });
  fs.mkdirSync(path.join(root, '.hidden'));
  await copyInto(pyramid.path, root, 'a.tif');
  await copyInto(png.path, path.join(root, 'nested', 'deeper'), 'b.png');
  await copyInto(pyramid.path, path.join(root, '.hidden'), 'hidden.tif');
  await copyInto(pyramid.path, root, '.dotfile.tif');
  fs.writeFileSync(path.join(root, 'notes.txt'), 'case list');
  fs.writeFileSync(path.join(root, 'nested', 'report.pdf'), '%PDF-1.4');
  await writeGarbageFile(root, 4096, 'garbage.svs');
  await writeEmptyFile(path.join(root, 'nested'), 'empty.tif');
  return root;
}

async function addOne(file: string) {
  const result = await library.add([file]);
  expect(result.failed).toEqual([]);
  expect(result.added).toHaveLength(1);
  return result.added[0]!;
}

describe('adding slides', () => {
  it('adds a folder recursively, skipping hidden entries and files that are not slides', async () => {
    const root = await slideFolder();
    const result = await library.add([root]);
    expect(result.added.map((slide) => slide.path)).toEqual([
      path.join(root, 'a.tif'),
      path.join(root, 'nested', 'deeper', 'b.png'),
    ]);
    expect(result.added.map((slide) => [slide.name, slide.reader, slide.status])).toEqual([
      ['a.tif', 'tiff', 'ok'],
      ['b.png', 'image', 'ok'],
    ]);
    expect(result.alreadyPresent).toEqual([]);
    expect(library.list().map((slide) => slide.name)).toEqual(['a.tif', 'b.png']);
  });

  it('lists each file that failed with a message naming it and the reason', async () => {
    const root = await slideFolder();
    const { failed } = await library.add([root]);
    const garbage = path.join(root, 'garbage.svs');
    const empty = path.join(root, 'nested', 'empty.tif');
    expect(failed).toEqual([
      { path: garbage, message: `${garbage}: not a TIFF file (bad byte-order mark)` },
      { path: empty, message: `${empty}: empty file (0 bytes)` },
    ]);
  });

  it('reports files already in the project instead of adding them twice', async () => {
    const root = await slideFolder();
    const first = await library.add([root]);
    const again = await library.add([root, path.join(root, 'a.tif')]);
    expect(again.added).toEqual([]);
    expect(again.alreadyPresent).toEqual(first.added.map((slide) => slide.path));
    expect(library.list()).toHaveLength(2);
  });

  it('attempts an explicitly chosen file whatever its name, and names why it failed', async () => {
    const notes = path.join(dir, 'notes.txt');
    fs.writeFileSync(notes, 'not a slide');
    const result = await library.add([notes]);
    expect(result.added).toEqual([]);
    expect(result.failed).toEqual([{ path: notes, message: `${notes}: not a TIFF file (bad byte-order mark)` }]);
  });

  it('reports a path that does not exist', async () => {
    const missing = path.join(dir, 'gone', 'slide.svs');
    const result = await library.add([missing, await copyInto(pyramid.path, dir, 'present.tif')]);
    expect(result.failed).toEqual([{ path: missing, message: `${missing}: file not found` }]);
    expect(result.added.map((slide) => slide.name)).toEqual(['present.tif']);
  });

  it('finishes on a folder holding a symbolic link to its own parent, adding each slide once', async () => {
    const root = path.join(dir, 'looped');
    fs.mkdirSync(path.join(root, 'inner'), { recursive: true });
    await copyInto(pyramid.path, path.join(root, 'inner'), 'a.tif');
    fs.symlinkSync('..', path.join(root, 'inner', 'back-up'));
    const result = await library.add([root]);
    expect(result.failed).toEqual([]);
    expect(result.added.map((slide) => slide.path)).toEqual([path.join(root, 'inner', 'a.tif')]);
  });

  it('reports a folder it may not read and still adds the rest', async () => {
    const root = await slideFolder();
    const locked = path.join(root, 'nested');
    const readdir = fs.promises.readdir;
    vi.spyOn(fs.promises, 'readdir').mockImplementation(((folder: fs.PathLike, ...rest: unknown[]) => {
      if (folder === locked) {
        return Promise.reject(Object.assign(new Error(`EACCES: permission denied, scandir '${locked}'`), { code: 'EACCES' }));
      }
      return (readdir as (...args: unknown[]) => Promise<unknown>)(folder, ...rest);
    }) as typeof fs.promises.readdir);
    const result = await library.add([root]);
    expect(result.added.map((slide) => slide.name)).toEqual(['a.tif']);
    expect(result.failed).toContainEqual({ path: locked, message: `${locked}: folder permission denied` });
  });

  it('stores what the file says: size, levels, resolution and reader', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const slide = await addOne(file);
    expect(slide).toMatchObject({
      name: 'slide.tif',
      path: file,
      status: 'ok',
      problem: null,
      width: 700,
      height: 500,
      vendor: 'generic-tiff',
      reader: 'tiff',
      readerChoice: 'auto',
      fileSizeBytes: fs.statSync(file).size,
      tags: [],
      tileVersion: version(1),
    });
    expect(slide.levels.map((level) => [level.width, level.height, level.downsample])).toEqual([
      [700, 500, 1],
      [350, 250, 2],
      [175, 125, 4],
    ]);
    expect(slide.mppX).toBeCloseTo(0.25, 6);
    expect(slide.mppY).toBeCloseTo(0.25, 6);
    expect(new Date(slide.addedAt).getTime()).not.toBeNaN();
  });

  it('writes a JPEG thumbnail that fits in 256 px and keeps the aspect ratio', async () => {
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    const onDisk = path.join(project.cacheFolder, 'thumbnails', `${slide.id}.jpg`);
    expect(fs.existsSync(onDisk)).toBe(true);
    const jpeg = await library.thumbnailJpeg(slide.id);
    expect(isJpeg(jpeg)).toBe(true);
    const { width, height, format } = await sharp(jpeg).metadata();
    // The viewer pyramid's level where the whole 700×500 slide fits one 256-px tile: 1/4.
    expect({ width, height, format }).toEqual({ width: 175, height: 125, format: 'jpeg' });
    expect(jpeg.equals(fs.readFileSync(onDisk))).toBe(true);
  });

  it('treats a file reached through a symbolic link as the slide already added', async () => {
    const scans = path.join(dir, 'scans');
    fs.mkdirSync(scans);
    const file = await copyInto(pyramid.path, scans, 'slide.tif');
    const real = fs.realpathSync(file);
    const fileLink = path.join(dir, 'shortcut.tif');
    fs.symlinkSync(file, fileLink);
    const folderLink = path.join(dir, 'scans-link');
    fs.symlinkSync(scans, folderLink);

    expect((await addOne(file)).path).toBe(real);
    expect(await library.add([fileLink])).toMatchObject({ added: [], alreadyPresent: [real], failed: [] });
    expect(await library.add([folderLink])).toMatchObject({ added: [], alreadyPresent: [real], failed: [] });
    expect(await library.add([path.join(folderLink, 'slide.tif')])).toMatchObject({ added: [], alreadyPresent: [real], failed: [] });
    expect(library.list().map((slide) => slide.path)).toEqual([real]);
  });

  it('stores the real path of a slide added through a link, so the file itself is then already present', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const real = fs.realpathSync(file);
    const link = path.join(dir, 'shortcut.tif');
    fs.symlinkSync(file, link);
    const slide = await addOne(link);
    expect(slide).toMatchObject({ path: real, name: 'slide.tif', status: 'ok' });
    expect(await library.add([file])).toMatchObject({ added: [], alreadyPresent: [real], failed: [] });
    // The link going away does not make the slide missing: it never depended on it.
    fs.rmSync(link);
    expect(library.get(slide.id).status).toBe('ok');
  });

  it('adds a file and a link to it chosen together (or in one folder) as one slide', async () => {
    const scans = path.join(dir, 'scans');
    fs.mkdirSync(scans);
    const file = await copyInto(pyramid.path, scans, 'a.tif');
    fs.symlinkSync(file, path.join(scans, 'b-link.tif'));
    const together = await library.add([path.join(scans, 'b-link.tif'), file]);
    expect(together.failed).toEqual([]);
    expect(together.added.map((slide) => slide.path)).toEqual([fs.realpathSync(file)]);
    expect(together.alreadyPresent).toEqual([]);
    expect(await library.add([scans])).toMatchObject({ added: [], alreadyPresent: [fs.realpathSync(file)], failed: [] });
    expect(library.list()).toHaveLength(1);
  });
});

describe('tags', () => {
  it('sets, trims and de-duplicates tags (the last value of a key wins)', async () => {
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    const tagged = library.setTags(slide.id, [
      { key: ' tumour ', value: ' lymphoma ' },
      { key: 'species', value: 'dog' },
      { key: 'tumour', value: 'melanoma' },
    ]);
    expect(tagged.tags).toEqual([
      { key: 'species', value: 'dog' },
      { key: 'tumour', value: 'melanoma' },
    ]);
  });

  it('replaces the whole set, and an empty list clears it', async () => {
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    library.setTags(slide.id, [{ key: 'tumour', value: 'lymphoma' }]);
    expect(library.setTags(slide.id, [{ key: 'scanner', value: 'Aperio GT450' }]).tags).toEqual([
      { key: 'scanner', value: 'Aperio GT450' },
    ]);
    expect(library.setTags(slide.id, []).tags).toEqual([]);
  });

  it('keeps tags when the project is closed and opened again', async () => {
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    library.setTags(slide.id, [{ key: 'site', value: 'Vienna' }]);
    await library.close();
    project.close();

    project = ProjectDatabase.open(projectFolder);
    library = openLibrary();
    expect(library.get(slide.id).tags).toEqual([{ key: 'site', value: 'Vienna' }]);
  });

  it('refuses tags for a slide that is not in the project', () => {
    expect(() => library.setTags(404, [{ key: 'a', value: 'b' }])).toThrow(SlideNotFoundError);
  });
});

describe('moved files and relinking', () => {
  it('shows a renamed file as missing, naming it', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const slide = await addOne(file);
    fs.renameSync(file, path.join(dir, 'renamed.tif'));
    const missing = library.get(slide.id);
    expect(missing.status).toBe('missing');
    expect(missing.problem).toBe(`${file}: file not found (moved or renamed?)`);
    expect(library.list()[0]!.status).toBe('missing');
    await expect(library.readTile(slide.id, 10, 0, 0)).rejects.toThrow(SlideError);
  });

  it('relinks to the renamed file: status ok, new path, new tile version', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const slide = await addOne(file);
    const renamed = path.join(dir, 'renamed.tif');
    fs.renameSync(file, renamed);
    const relinked = await library.relink(slide.id, renamed);
    expect(relinked).toMatchObject({ status: 'ok', problem: null, path: renamed, name: 'renamed.tif', tileVersion: version(2) });
    expect(isJpeg((await library.readTile(slide.id, 10, 0, 0)).data)).toBe(true);
  });

  it('refuses to relink to a different file, naming it, and leaves the slide unchanged', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const slide = await addOne(file);
    fs.renameSync(file, path.join(dir, 'renamed.tif'));
    const wrong = await copyInto(otherPyramid.path, dir, 'another-case.tif');

    const error = await library.relink(slide.id, wrong).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RelinkMismatchError);
    expect((error as RelinkMismatchError).file).toBe(wrong);
    expect((error as Error).message).toBe(
      `${wrong}: its content differs from the slide "slide.tif" that was added; choose the original file`,
    );
    expect(library.get(slide.id)).toMatchObject({ path: file, name: 'slide.tif', status: 'missing', tileVersion: version(1) });
  });

  it('refuses to relink to a path that does not exist', async () => {
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    const nowhere = path.join(dir, 'nowhere.tif');
    await expect(library.relink(slide.id, nowhere)).rejects.toMatchObject({ filePath: nowhere, kind: 'missing' });
    expect(library.get(slide.id).tileVersion).toBe(version(1));
  });

  it('shows a slide whose file became unreadable as an error naming the file', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const slide = await addOne(file);
    // Same size, so it is the reader (not the size check) that finds the damage.
    fs.writeFileSync(file, Buffer.alloc(slide.fileSizeBytes));
    expect(library.get(slide.id)).toMatchObject({ status: 'ok', problem: null });
    await expect(library.readTile(slide.id, 10, 0, 0)).rejects.toThrow(`${file}: not a TIFF file (bad byte-order mark)`);
    expect(library.get(slide.id)).toMatchObject({ status: 'error', problem: `${file}: not a TIFF file (bad byte-order mark)` });
  });

  it('shows a slide whose file changed size since it was added as an error, and refuses its tiles', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const slide = await addOne(file);
    const size = slide.fileSizeBytes;
    // Still a readable TIFF: only the size says that this is no longer the file that was added.
    fs.appendFileSync(file, Buffer.alloc(100));
    const problem = `${file}: the file changed since it was added (${size + 100} bytes, was ${size}); relink to the original file`;
    expect(library.get(slide.id)).toMatchObject({ status: 'error', problem, tileVersion: version(1) });
    expect(library.list()[0]).toMatchObject({ id: slide.id, status: 'error', problem });

    const error = await library.readTile(slide.id, 10, 0, 0).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SlideError);
    expect(error).toMatchObject({ filePath: file, message: problem });
    expect((error as SlideError).kind).not.toBe('missing');
    await expect(library.tileSource(slide.id)).rejects.toThrow(SlideError);
    await expect(library.readRegion(slide.id, 0, 0, 0, 16, 16)).rejects.toThrow(problem);
    expect(tileCache.stats().entries).toBe(0);

    fs.writeFileSync(file, Buffer.alloc(0));
    const emptied = `${file}: the file changed since it was added (0 bytes, was ${size}); relink to the original file`;
    expect(library.get(slide.id)).toMatchObject({ status: 'error', problem: emptied });
    await expect(library.readTile(slide.id, 10, 0, 0)).rejects.toThrow(emptied);
  });

  it('relinks a changed slide to the original file, but not to the changed one', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const slide = await addOne(file);
    const original = await copyInto(file, dir, 'original-backup.tif');
    fs.appendFileSync(file, Buffer.alloc(100));
    expect(library.get(slide.id).status).toBe('error');

    await expect(library.relink(slide.id, file)).rejects.toThrow(RelinkMismatchError);
    expect(library.get(slide.id)).toMatchObject({ path: file, status: 'error', tileVersion: version(1) });

    const relinked = await library.relink(slide.id, original);
    expect(relinked).toMatchObject({ path: original, name: 'original-backup.tif', status: 'ok', problem: null, tileVersion: version(2) });
    expect(isJpeg((await library.readTile(slide.id, 10, 0, 0)).data)).toBe(true);
  });

  it('refuses to relink to a file that is already another slide of the project, even through a link', async () => {
    const first = await copyInto(pyramid.path, dir, 'first.tif');
    const second = await copyInto(pyramid.path, dir, 'second.tif');
    const { added, failed } = await library.add([first, second]);
    expect(failed).toEqual([]);
    const [a, b] = added as [SlideSummary, SlideSummary];
    fs.renameSync(first, path.join(dir, 'first-moved.tif'));

    // Same content as "first.tif" was, so only the path conflict stops it.
    const error = await library.relink(a.id, second).catch((caught: unknown) => caught);
    // Refused as a wrong choice of file (shown as an invalid request, not as an unreadable slide).
    expect(error).toBeInstanceOf(RelinkMismatchError);
    expect(error).toMatchObject({ file: second, message: `${second}: this file is already the project's slide "second.tif"` });
    const link = path.join(dir, 'second-link.tif');
    fs.symlinkSync(second, link);
    await expect(library.relink(a.id, link)).rejects.toThrow(`${link}: this file is already the project's slide "second.tif"`);

    expect(library.get(a.id)).toMatchObject({ path: first, status: 'missing', tileVersion: version(1) });
    expect(library.get(b.id)).toMatchObject({ path: second, status: 'ok', tileVersion: version(1) });

    // A removed slide no longer holds its file.
    await library.remove(b.id);
    expect(await library.relink(a.id, second)).toMatchObject({ path: second, name: 'second.tif', status: 'ok', tileVersion: version(2) });
  });

  it('relinks a slide to its own file again (not a conflict with itself)', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const slide = await addOne(file);
    expect(await library.relink(slide.id, file)).toMatchObject({ path: file, status: 'ok', tileVersion: version(2) });
  });

  it('relinks through a symbolic link to the real path', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const slide = await addOne(file);
    fs.mkdirSync(path.join(dir, 'archive'));
    const moved = path.join(dir, 'archive', 'case-2019.tif');
    fs.renameSync(file, moved);
    const link = path.join(dir, 'shortcut.tif');
    fs.symlinkSync(moved, link);

    const relinked = await library.relink(slide.id, link);
    expect(relinked).toMatchObject({ path: fs.realpathSync(moved), name: 'case-2019.tif', status: 'ok', tileVersion: version(2) });
    fs.rmSync(link);
    expect(library.get(slide.id).status).toBe('ok');
    expect(isJpeg((await library.readTile(slide.id, 10, 0, 0)).data)).toBe(true);
  });
});

describe('choosing the reader', () => {
  it.skipIf(!openslide.available)('switches to OpenSlide and back, with a new tile version and no stale tiles', async () => {
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    expect((await library.readTile(slide.id, 10, 0, 0)).source).toBe('stored');
    expect((await library.readTile(slide.id, 10, 0, 0)).source).toBe('cache');
    expect(tileCache.stats().entries).toBe(1);

    const viaOpenSlide = await library.setReader(slide.id, 'openslide');
    expect(viaOpenSlide).toMatchObject({ reader: 'openslide', readerChoice: 'openslide', tileVersion: version(2), status: 'ok' });
    expect(tileCache.stats().entries).toBe(0);
    // OpenSlide decodes every region, so the tile is rendered, never the cached stored bytes.
    expect((await library.readTile(slide.id, 10, 0, 0)).source).toBe('rendered');
    expect((await library.tileSource(slide.id)).reader).toBe('openslide');

    const automatic = await library.setReader(slide.id, 'auto');
    expect(automatic).toMatchObject({ reader: 'tiff', readerChoice: 'auto', tileVersion: version(3) });
    expect((await library.readTile(slide.id, 10, 0, 0)).source).toBe('stored');
  });

  it('switches to the image reader and back', async () => {
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    await library.readTile(slide.id, 10, 0, 0);
    const asImage = await library.setReader(slide.id, 'image');
    expect(asImage).toMatchObject({ reader: 'image', readerChoice: 'image', tileVersion: version(2) });
    expect(asImage.levels).toHaveLength(1);
    expect(tileCache.stats().entries).toBe(0);
    expect((await library.readTile(slide.id, 10, 0, 0)).source).toBe('rendered');

    const back = await library.setReader(slide.id, 'auto');
    expect(back).toMatchObject({ reader: 'tiff', readerChoice: 'auto', tileVersion: version(3) });
    expect(back.levels).toHaveLength(3);
  });

  it('refuses a reader that cannot open the file and leaves the slide as it was', async () => {
    const slide = await addOne(await copyInto(png.path, dir, 'crop.png'));
    await expect(library.setReader(slide.id, 'tiff')).rejects.toThrow(/crop\.png: not a TIFF file/);
    expect(library.get(slide.id)).toMatchObject({ reader: 'image', readerChoice: 'auto', tileVersion: version(1), status: 'ok' });
  });
});

describe('removing slides', () => {
  it('is soft: the row stays with deleted_at, the list no longer shows it', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const slide = await addOne(file);
    await library.remove(slide.id);
    expect(library.list()).toEqual([]);
    expect(() => library.get(slide.id)).toThrow(SlideNotFoundError);
    const row = project.db.prepare('SELECT path, deleted_at FROM slides WHERE id = ?').get(slide.id) as {
      path: string;
      deleted_at: string | null;
    };
    expect(row.path).toBe(file);
    expect(new Date(row.deleted_at ?? '').getTime()).not.toBeNaN();
    expect(fs.existsSync(file)).toBe(true);
  });

  it('lets a removed file be added again as a new slide', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const first = await addOne(file);
    await library.remove(first.id);
    const again = await addOne(file);
    expect(again.id).not.toBe(first.id);
    expect(library.list().map((slide) => slide.id)).toEqual([again.id]);
  });

  it('refuses to remove a slide that is not in the project', async () => {
    await expect(library.remove(999)).rejects.toThrow(SlideNotFoundError);
  });
});

describe('tiles', () => {
  it('describes the pyramid for the viewer', async () => {
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    expect(await library.tileSource(slide.id)).toMatchObject({
      slideId: slide.id,
      width: 700,
      height: 500,
      tileSize: 256,
      minLevel: 0,
      maxLevel: 10,
      reader: 'tiff',
      tileVersion: version(1),
    });
  });

  it('returns JPEG bytes for every level', async () => {
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    for (const level of [10, 9, 8, 4, 0]) {
      const tile = await library.readTile(slide.id, level, 0, 0);
      expect(isJpeg(tile.data), `level ${level}`).toBe(true);
    }
    const edge = await library.readTile(slide.id, 10, 2, 1);
    expect(await sharp(edge.data).metadata()).toMatchObject({ width: 700 - 512, height: 500 - 256 });
  });

  it('refuses addresses outside the pyramid', async () => {
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    for (const [level, column, row] of [
      [11, 0, 0],
      [10, 3, 0],
      [10, 0, 2],
      [-1, 0, 0],
      [10, -1, 0],
      [10, 0.5, 0],
    ] as const) {
      await expect(library.readTile(slide.id, level, column, row), `${level}/${column}_${row}`).rejects.toThrow(TileOutOfRangeError);
    }
  });

  it('refuses tiles of a slide that is not in the project', async () => {
    await expect(library.readTile(7, 0, 0, 0)).rejects.toThrow(SlideNotFoundError);
  });

  it('serves the thumbnail again after the cached file is deleted', async () => {
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    fs.rmSync(path.join(project.cacheFolder, 'thumbnails', `${slide.id}.jpg`));
    expect(isJpeg(await library.thumbnailJpeg(slide.id))).toBe(true);
  });
});

describe('tile versions', () => {
  it('carry a short hex key of the project, made once and kept when the project is opened again', async () => {
    const key = project.projectKey;
    expect(key).toMatch(/^[0-9a-f]{8}$/);
    expect(project.setting('projectKey')).toBe(key);
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    expect(slide.tileVersion).toBe(`${key}.1`);
    expect(library.currentTileVersion(slide.id)).toBe(`${key}.1`);
    expect((await library.tileSource(slide.id)).tileVersion).toBe(`${key}.1`);

    await library.close();
    project.close();
    project = ProjectDatabase.open(projectFolder);
    library = openLibrary();
    expect(project.projectKey).toBe(key);
    expect(library.get(slide.id).tileVersion).toBe(`${key}.1`);
    expect(library.currentTileVersion(slide.id)).toBe(`${key}.1`);
  });

  it('differ between two projects for their slide 1, so one project\'s cached tiles are never shown for the other', async () => {
    const otherProject = ProjectDatabase.create(path.join(dir, 'other-project'), 'q');
    const otherLibrary = new SlideLibrary(
      new SlideCatalog(otherProject.db),
      path.join(otherProject.cacheFolder, 'thumbnails'),
      new TileCache(64 * 1024 * 1024),
      otherProject.projectKey,
    );
    try {
      const mine = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
      const theirs = (await otherLibrary.add([await copyInto(otherPyramid.path, dir, 'other.tif')])).added[0]!;
      expect([mine.id, theirs.id]).toEqual([1, 1]);
      expect(otherProject.projectKey).toMatch(/^[0-9a-f]{8}$/);
      expect(otherProject.projectKey).not.toBe(project.projectKey);
      expect(theirs.tileVersion).toBe(`${otherProject.projectKey}.1`);
      expect(theirs.tileVersion).not.toBe(mine.tileVersion);
      expect(otherLibrary.currentTileVersion(1)).toBe(theirs.tileVersion);
      expect(library.currentTileVersion(1)).toBe(mine.tileVersion);
      expect((await otherLibrary.tileSource(1)).tileVersion).toBe(theirs.tileVersion);
    } finally {
      await otherLibrary.close();
      otherProject.close();
    }
  });

  it('tells the current version without opening the file, and follows relinks and reader switches', async () => {
    const file = await copyInto(pyramid.path, dir, 'slide.tif');
    const slide = await addOne(file);
    const renamed = path.join(dir, 'renamed.tif');
    fs.renameSync(file, renamed);
    // Missing file: still answered, from the project alone.
    expect(library.currentTileVersion(slide.id)).toBe(version(1));
    await library.relink(slide.id, renamed);
    expect(library.currentTileVersion(slide.id)).toBe(version(2));
    await library.setReader(slide.id, 'image');
    expect(library.currentTileVersion(slide.id)).toBe(version(3));
    expect(library.get(slide.id).tileVersion).toBe(version(3));
  });

  it('refuses the version of a slide that is not in the project', async () => {
    expect(() => library.currentTileVersion(42)).toThrow(SlideNotFoundError);
    const slide = await addOne(await copyInto(pyramid.path, dir, 'slide.tif'));
    await library.remove(slide.id);
    expect(() => library.currentTileVersion(slide.id)).toThrow(SlideNotFoundError);
  });
});

describe('thumbnails of large plain images', () => {
  let large: SyntheticSlide;
  beforeAll(async () => {
    large = await writeSyntheticImage(sources, { width: 6000, height: 4500, format: 'png' });
  }, 120_000);

  it('makes a JPEG thumbnail of at most 256 px for a 6000×4500 PNG, from the level that fits one tile', async () => {
    const slide = await addOne(await copyInto(large.path, dir, 'large.png'));
    expect(slide).toMatchObject({ reader: 'image', width: 6000, height: 4500, status: 'ok', levels: [{ width: 6000, height: 4500 }] });
    const onDisk = path.join(project.cacheFolder, 'thumbnails', `${slide.id}.jpg`);
    expect(fs.existsSync(onDisk)).toBe(true);

    const jpeg = await library.thumbnailJpeg(slide.id);
    expect(isJpeg(jpeg)).toBe(true);
    const { width = 0, height = 0, format } = await sharp(jpeg).metadata();
    expect(format).toBe('jpeg');
    expect(Math.max(width, height)).toBeLessThanOrEqual(256);
    // The finest level that fits one tile: half of it would not need to be.
    expect(Math.max(width, height)).toBeGreaterThan(128);
    expect(width / height).toBeCloseTo(6000 / 4500, 1);

    // It shows the image: its average colour is the image's.
    const [thumbnailStats, imageStats] = await Promise.all([sharp(jpeg).stats(), sharp(large.path).stats()]);
    for (let channel = 0; channel < 3; channel++) {
      expect(Math.abs(thumbnailStats.channels[channel]!.mean - imageStats.channels[channel]!.mean), `channel ${channel}`).toBeLessThan(8);
    }

    // Made again the same way when the cached file is gone.
    fs.rmSync(onDisk);
    const again = await library.thumbnailJpeg(slide.id);
    expect(await sharp(again).metadata()).toMatchObject({ format: 'jpeg', width, height });
    expect(fs.existsSync(onDisk)).toBe(true);
  }, 60_000);
});
