import fs from 'node:fs';
import path from 'node:path';
import { recentProjectSchema, type Language, type RecentProject, type ViewerRenderer } from '../../contract/schemas';

interface AppSettingsFile {
  language: Language;
  viewerRenderer: ViewerRenderer;
  annotatorName: string | null;
  recentProjects: RecentProject[];
}

const MAX_RECENT = 12;

/**
 * Per-user settings that live outside any project: the UI language and recently opened
 * projects. A damaged file is replaced by defaults rather than stopping the app.
 */
export class AppSettings {
  private state: AppSettingsFile;

  constructor(private readonly file: string) {
    this.state = AppSettings.read(file);
  }

  private static read(file: string): AppSettingsFile {
    const defaults: AppSettingsFile = { language: 'en', viewerRenderer: 'auto', annotatorName: null, recentProjects: [] };
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<AppSettingsFile>;
      return {
        language: parsed.language === 'ja' ? 'ja' : 'en',
        viewerRenderer: parsed.viewerRenderer === 'webgl' || parsed.viewerRenderer === 'canvas' ? parsed.viewerRenderer : 'auto',
        annotatorName: typeof parsed.annotatorName === 'string' && parsed.annotatorName.trim() ? parsed.annotatorName.trim() : null,
        // Entries that do not fit the schema are dropped one by one: a damaged entry must not stop the app.
        recentProjects: Array.isArray(parsed.recentProjects)
          ? parsed.recentProjects.flatMap((entry: unknown) => {
              const checked = recentProjectSchema.safeParse(entry);
              return checked.success ? [checked.data] : [];
            }).slice(0, MAX_RECENT)
          : [],
      };
    } catch {
      return defaults;
    }
  }

  private write(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(this.state, null, 2));
    fs.renameSync(temporary, this.file);
  }

  get language(): Language {
    return this.state.language;
  }

  setLanguage(language: Language): void {
    this.state.language = language;
    this.write();
  }

  get viewerRenderer(): ViewerRenderer {
    return this.state.viewerRenderer;
  }

  setViewerRenderer(renderer: ViewerRenderer): void {
    this.state.viewerRenderer = renderer;
    this.write();
  }

  get annotatorName(): string | null {
    return this.state.annotatorName;
  }

  setAnnotatorName(name: string): void {
    this.state.annotatorName = name.trim();
    this.write();
  }

  get recentProjects(): RecentProject[] {
    return [...this.state.recentProjects];
  }

  rememberProject(folder: string, name: string): void {
    const others = this.state.recentProjects.filter((project) => project.folder !== folder);
    this.state.recentProjects = [{ folder, name, openedAt: new Date().toISOString() }, ...others].slice(0, MAX_RECENT);
    this.write();
  }

  forgetProject(folder: string): void {
    this.state.recentProjects = this.state.recentProjects.filter((project) => project.folder !== folder);
    this.write();
  }
}
