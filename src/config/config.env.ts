import type { ConfigIssue } from './config.error.js';
import { berthConfigSchema } from './config.schema.js';
import {
  elementKind,
  findKey,
  isMapping,
  kindOf,
  sectionKeys,
  type ConfigSchema,
  type KeyKind,
} from './config.shape.js';

/**
 * The environment overlay: `BERTH_<KEY>` with `__` between nesting levels overrides the file, so a
 * container or systemd unit can change one key (`BERTH_HTTP__PORT=5001`) or keep a secret out of the
 * file (`BERTH_EXTERNAL_DATABASE__HARBOR__PASSWORD`). Text is coerced to the key's type here, so the
 * schema sees the same values a file would give it. Every BERTH_ name must be a key: a typo that
 * silently did nothing would be worse than a refusal.
 */

export const ENV_PREFIX = 'BERTH_';

/** BERTH_ names that are not configuration keys (the config file's own location). */
export const RESERVED_ENV_NAMES: readonly string[] = ['BERTH_CONFIG'];

/** The environment variable for a key path: `['external_database', 'harbor', 'host']` → BERTH_EXTERNAL_DATABASE__HARBOR__HOST. */
export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map((segment) => segment.toUpperCase()).join('__');
}

export interface EnvOverlay {
  /** The document with every override applied; the input is not changed. */
  document: Record<string, unknown>;
  /** Env vars that name no key or hold a value of the wrong kind; the path is the variable's name. */
  issues: ConfigIssue[];
  /** Key path (`http.port`) → the variable that set it, so later refusals can name the variable. */
  origins: Map<string, string>;
}

type Coerced = { ok: true; value: unknown } | { ok: false; message: string };

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function coerce(text: string, kind: KeyKind, element: KeyKind | undefined): Coerced {
  switch (kind) {
    case 'integer':
      return /^[-+]?\d+$/.test(text.trim())
        ? { ok: true, value: Number(text.trim()) }
        : { ok: false, message: `expected integer, got ${JSON.stringify(text)}` };
    case 'number': {
      const value = Number(text.trim());
      return text.trim() !== '' && Number.isFinite(value)
        ? { ok: true, value }
        : { ok: false, message: `expected number, got ${JSON.stringify(text)}` };
    }
    case 'boolean': {
      const word = text.trim().toLowerCase();
      if (TRUE.has(word)) return { ok: true, value: true };
      if (FALSE.has(word)) return { ok: true, value: false };
      return { ok: false, message: `expected boolean (true or false), got ${JSON.stringify(text)}` };
    }
    case 'list': {
      const items = text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      const values: unknown[] = [];
      for (const item of items) {
        const one = coerce(item, element ?? 'string', undefined);
        if (!one.ok) return one;
        values.push(one.value);
      }
      return { ok: true, value: values };
    }
    case 'string':
      return { ok: true, value: text };
    case 'section':
    case 'mapping':
      return { ok: false, message: 'names a section, not a key; set its keys instead' };
  }
}

/** A driver parameter under a free mapping (`storage_service.s3.*`): read it as YAML would. */
function inferScalar(text: string): unknown {
  if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  if (/^-?\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  return text;
}

type Resolved =
  | { found: true; path: string[]; kind: KeyKind; element: KeyKind | undefined; free: boolean }
  | { found: false };

/** Finds the key an env name points at; inside a free mapping (`storage_service.s3`) any key goes. */
function resolve(segments: readonly string[]): Resolved {
  let schema: ConfigSchema = berthConfigSchema;
  const path: string[] = [];
  for (const [index, segment] of segments.entries()) {
    if (segment === '') return { found: false };
    const keys = sectionKeys(schema);
    if (keys === undefined) {
      if (kindOf(schema) !== 'mapping') return { found: false };
      const rest = segments.slice(index).map((s) => s.toLowerCase());
      return { found: true, path: [...path, ...rest], kind: 'string', element: undefined, free: true };
    }
    const key = findKey(keys, segment);
    const child = key === undefined ? undefined : keys[key];
    if (key === undefined || child === undefined) return { found: false };
    path.push(key);
    schema = child;
  }
  return { found: true, path, kind: kindOf(schema), element: elementKind(schema), free: false };
}

function setPath(document: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = document;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (isMapping(next)) {
      node = next;
    } else {
      const created: Record<string, unknown> = {};
      node[segment] = created;
      node = created;
    }
  }
  const last = path.at(-1);
  if (last !== undefined) node[last] = value;
}

/** Applies every BERTH_ variable in `env` on top of `document` (defaults < file < env). */
export function overlayEnv(document: Record<string, unknown>, env: NodeJS.ProcessEnv): EnvOverlay {
  const result = structuredClone(document);
  const issues: ConfigIssue[] = [];
  const origins = new Map<string, string>();
  const names = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !RESERVED_ENV_NAMES.includes(name))
    .sort();
  for (const name of names) {
    const text = env[name];
    if (text === undefined) continue;
    const target = resolve(name.slice(ENV_PREFIX.length).split('__'));
    if (!target.found) {
      issues.push({ path: name, message: 'unknown configuration key (BERTH_<KEY> with __ between levels)' });
      continue;
    }
    const coerced = target.free
      ? { ok: true as const, value: inferScalar(text) }
      : coerce(text, target.kind, target.element);
    if (!coerced.ok) {
      issues.push({ path: name, message: coerced.message });
      continue;
    }
    setPath(result, target.path, coerced.value);
    origins.set(target.path.join('.'), name);
  }
  return { document: result, issues, origins };
}
