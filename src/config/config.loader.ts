import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { isEmbedded, externalUrl, storageDriver } from './config.derived.js';
import { overlayEnv } from './config.env.js';
import { ConfigError, issuesFromZod, type ConfigIssue } from './config.error.js';
import { berthConfigSchema, type BerthConfig } from './config.schema.js';
import { describeValue } from './config.fields.js';
import { dropNulls, isMapping } from './config.shape.js';
import { unbuiltFeatureMessage, unbuiltFeatureWarnings } from './config.warnings.js';

/**
 * Loading: defaults < file < environment, validated in one pass so every problem is reported together.
 * Nothing here starts anything or touches the data volume; `app/` decides what the config means.
 */

export interface LoadOptions {
  /** A harbor.yml-style file; without one, defaults and the environment apply. */
  file?: string | undefined;
  /** BERTH_* overrides; process.env when omitted. */
  env?: NodeJS.ProcessEnv | undefined;
}

export interface LoadedConfig {
  config: BerthConfig;
  /** Lines to log once at startup (at most one today: the unbuilt keys that are set). */
  warnings: string[];
  /** Key paths of UNBUILT_FEATURE_KEYS the file or environment sets. */
  unbuiltKeys: string[];
  /** The file it came from, as given; undefined when defaults and environment only. */
  source: string | undefined;
}

/**
 * Reads harbor.yml text. YAML 1.1, as Harbor's prepare script (PyYAML) reads it, so a value means the
 * same to Berth as to Harbor: `yes` is a boolean, `2.11.0` a string. Duplicate keys are refused.
 */
export function parseConfigText(text: string, source: string | undefined): Record<string, unknown> {
  const document = YAML.parseDocument(text, { version: '1.1', uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) {
    const issues = document.errors.map((error) => ({
      path: '',
      message: `YAML: ${firstLine(error.message)}`,
    }));
    throw new ConfigError(issues, source);
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError([{ path: '', message: `YAML: ${firstLine(String(error))}` }], source);
  }
  if (value === null || value === undefined) return {};
  if (!isMapping(value)) {
    throw new ConfigError(
      [{ path: '', message: `the file must be a mapping of harbor.yml keys, got ${describeValue(value)}` }],
      source,
    );
  }
  return value;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

/**
 * Validates a document (what a file said, parsed) with the environment on top, and applies defaults.
 * Tests and tools that build a configuration in code use this directly.
 */
export function configFromDocument(
  document: Readonly<Record<string, unknown>>,
  options: { env?: NodeJS.ProcessEnv | undefined; source?: string | undefined } = {},
): LoadedConfig {
  const source = options.source;
  const withoutNulls = dropNulls(document);
  const base = isMapping(withoutNulls) ? withoutNulls : {};
  const overlay = overlayEnv(base, options.env ?? process.env);
  const parsed = berthConfigSchema.safeParse(overlay.document, { reportInput: true });
  const issues: ConfigIssue[] = [...overlay.issues];
  if (!parsed.success) {
    issues.push(...issuesFromZod(parsed.error.issues).map((issue) => nameOrigin(issue, overlay.origins)));
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues, source);
  const unbuiltKeys = unbuiltFeatureWarnings(overlay.document);
  const warnings = unbuiltKeys.length > 0 ? [unbuiltFeatureMessage(unbuiltKeys)] : [];
  return { config: parsed.data, warnings, unbuiltKeys, source };
}

/** Names the environment variable behind a refused value, since the file does not hold it. */
function nameOrigin(issue: ConfigIssue, origins: ReadonlyMap<string, string>): ConfigIssue {
  for (const [path, name] of origins) {
    if (issue.path === path || issue.path.startsWith(`${path}.`) || issue.path.startsWith(`${path}[`)) {
      return { path: issue.path, message: `${issue.message} (from ${name})` };
    }
  }
  return issue;
}

/** Loads the configuration: Harbor's defaults, then the file if any, then BERTH_* variables. */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const { file } = options;
  let document: Record<string, unknown> = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
      throw new ConfigError([{ path: '', message: `cannot read the file (${reason})` }], file);
    }
    document = parseConfigText(text, file);
  }
  return configFromDocument(document, { env: options.env, source: file });
}

/** `berth config check FILE`: whether the file loads, and what it amounts to, as text to print. */
export async function checkConfigFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ ok: boolean; text: string }> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig({ file, env });
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, text: error.message };
    throw error;
  }
  const { config } = loaded;
  const lines = [
    `${file}: OK`,
    `  mode:         ${isEmbedded(config) ? 'embedded (SQLite on the data volume)' : 'HA (external PostgreSQL)'}`,
    `  external URL: ${externalUrl(config)}`,
    `  data volume:  ${config.data_volume}`,
    `  storage:      ${storageDriver(config)}`,
    ...loaded.warnings.map((warning) => `warning: ${warning}`),
  ];
  return { ok: true, text: lines.join('\n') };
}
