declare const __MITOBENCH_VERSION__: string | undefined;

/** Injected at build time by electron.vite.config.ts; "dev" when run from sources. */
export function appVersion(): string {
  return typeof __MITOBENCH_VERSION__ === 'string' ? __MITOBENCH_VERSION__ : 'dev';
}
