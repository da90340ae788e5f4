import { readFileSync } from 'node:fs';

/**
 * Berth's version, from package.json: two directories up from this module both in src/app (tsx, tests) and
 * in dist/app (the build), where package.json is at the root next to both.
 */
export const BERTH_VERSION = readVersion();

function readVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  if (typeof manifest.version !== 'string') throw new Error('package.json has no version');
  return manifest.version;
}
