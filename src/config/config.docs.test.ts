import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { externalUrl, isEmbedded } from './config.derived.js';
import { envName } from './config.env.js';
import { configFromDocument, loadConfig } from './config.loader.js';
import { allKeys } from './config.shape.js';
import { UNBUILT_FEATURE_KEYS } from './config.warnings.js';

/**
 * docs/config.md and deploy/*.yml are part of the configuration's contract: the docs must describe
 * every key truthfully (env name, default, whether Berth acts on it) and the example files must load.
 */

const DOCS = fileURLToPath(new URL('../../docs/config.md', import.meta.url));
const EMBEDDED = fileURLToPath(new URL('../../deploy/berth.embedded.yml', import.meta.url));
const HARBOR_EXAMPLE = fileURLToPath(new URL('../../deploy/harbor.example.yml', import.meta.url));

interface Row {
  type: string;
  defaultValue: string;
  env: string;
  berth: string;
}

let rows: Map<string, Row>;
beforeAll(async () => {
  rows = new Map();
  for (const line of (await readFile(DOCS, 'utf8')).split('\n')) {
    const match = /^\|\s*`([^`]+)`\s*\|(.*)\|$/.exec(line);
    if (!match) continue;
    // Cells split on unescaped pipes; `a \| b` is one cell.
    const cells = (match[2] ?? '').split(/(?<!\\)\|/).map((cell) => cell.trim());
    const [type = '', defaultValue = '', env = '', berth = ''] = cells;
    rows.set(match[1] ?? '', { type, defaultValue, env, berth });
  }
});

const unbuilt = (path: string): boolean =>
  UNBUILT_FEATURE_KEYS.some((key) => path === key || path.startsWith(`${key}.`));

function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const segment of path) node = (node as Record<string, unknown> | undefined)?.[segment];
  return node;
}

describe('docs/config.md', () => {
  it('has a row for every key and no row for a key that does not exist', () => {
    const paths = allKeys().map((key) => key.path.join('.'));
    expect(paths.filter((path) => !rows.has(path))).toEqual([]);
    expect([...rows.keys()].filter((path) => !paths.includes(path))).toEqual([]);
  });

  it('gives each key its environment variable', () => {
    for (const key of allKeys()) {
      const row = rows.get(key.path.join('.'));
      const expected =
        key.kind === 'section'
          ? '—'
          : key.kind === 'mapping'
            ? `\`${envName(key.path)}__<`
            : `\`${envName(key.path)}\``;
      expect(row?.env.startsWith(expected), `${key.path.join('.')}: ${row?.env}`).toBe(true);
    }
  });

  it('says "not yet" exactly for the keys UNBUILT_FEATURE_KEYS covers', () => {
    for (const key of allKeys()) {
      const path = key.path.join('.');
      expect(rows.get(path)?.berth, path).toBe(unbuilt(path) ? 'not yet' : 'yes');
    }
  });

  it('states the defaults the schema applies', () => {
    const { config } = configFromDocument({}, { env: {} });
    for (const key of allKeys()) {
      const value = valueAt(config, key.path);
      if (value === undefined || key.kind === 'section' || key.kind === 'mapping') continue;
      const shown = Array.isArray(value)
        ? `\`[${value.join(', ')}]\``
        : `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
      expect(rows.get(key.path.join('.'))?.defaultValue, key.path.join('.')).toBe(shown);
    }
  });
});

describe('deploy/ example files', () => {
  it('berth.embedded.yml is a laptop configuration without warnings', async () => {
    const { config, warnings } = await loadConfig({ file: EMBEDDED, env: {} });
    expect(config.hostname).toBe('127.0.0.1');
    expect(config.http.port).toBe(5000);
    expect(config.data_volume).toBe('./data');
    expect(config.https).toBeUndefined();
    expect(isEmbedded(config)).toBe(true);
    expect(config.external_redis).toBeUndefined();
    expect(externalUrl(config)).toBe('http://127.0.0.1:5000');
    expect(warnings).toEqual([]);
  });

  it('harbor.example.yml loads', async () => {
    const { config } = await loadConfig({ file: HARBOR_EXAMPLE, env: {} });
    expect(isEmbedded(config)).toBe(false);
  });
});
