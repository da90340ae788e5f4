import * as z from 'zod';
import { berthConfigSchema } from './config.schema.js';

/**
 * The schema read as a tree of keys. The environment overlay, the null pass and the docs test all need
 * to know which keys exist and what kind of value each holds; reading it from the schema keeps one
 * source of truth.
 */

/** What a key holds, as far as text from the environment must be coerced. */
export type KeyKind = 'section' | 'mapping' | 'list' | 'integer' | 'number' | 'boolean' | 'string';

export interface KeyInfo {
  /** Path from the root, as spelled in harbor.yml (`external_redis`, `tlsOptions`, `rootCA`). */
  path: readonly string[];
  kind: KeyKind;
  /** For a list, the kind of its elements. */
  element: KeyKind | undefined;
}

/** Any node of the schema tree. */
export type ConfigSchema = z.core.$ZodType;
type Schema = ConfigSchema;

/** Peels optional/default/prefault/nullable wrappers down to the schema that gives a value its shape. */
function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodNullable
    ) {
      current = current.unwrap();
    } else {
      return current;
    }
  }
}

export function kindOf(schema: Schema): KeyKind {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) return 'section';
  if (inner instanceof z.ZodRecord) return 'mapping';
  if (inner instanceof z.ZodArray) return 'list';
  if (inner instanceof z.ZodNumber) return inner.isInt ? 'integer' : 'number';
  if (inner instanceof z.ZodBoolean) return 'boolean';
  // Strings, enums, durations, sizes and the `_version` union: text from the environment stays text.
  return 'string';
}

/** The keys of a section, or undefined when the schema is not one. */
export function sectionKeys(schema: Schema): Readonly<Record<string, Schema>> | undefined {
  const inner = unwrap(schema);
  return inner instanceof z.ZodObject ? inner.shape : undefined;
}

/** For a list, the kind of its elements; otherwise undefined. */
export function elementKind(schema: Schema): KeyKind | undefined {
  const inner = unwrap(schema);
  return inner instanceof z.ZodArray ? kindOf(inner.element) : undefined;
}

/**
 * The key of `keys` that `segment` names, ignoring case: environment names are upper case, and a few
 * Harbor keys are camelCase (`tlsOptions.rootCA`).
 */
export function findKey(keys: Readonly<Record<string, Schema>>, segment: string): string | undefined {
  const wanted = segment.toLowerCase();
  return Object.keys(keys).find((key) => key.toLowerCase() === wanted);
}

/** Every key in the schema, sections included, depth first in schema order. */
export function allKeys(root: Schema = berthConfigSchema): KeyInfo[] {
  const found: KeyInfo[] = [];
  const walk = (schema: Schema, path: readonly string[]): void => {
    const keys = sectionKeys(schema);
    if (keys === undefined) return;
    for (const [key, child] of Object.entries(keys)) {
      const childPath = [...path, key];
      found.push({ path: childPath, kind: kindOf(child), element: elementKind(child) });
      walk(child, childPath);
    }
  };
  walk(root, []);
  return found;
}

/**
 * A copy of `document` without the known keys whose value is null. YAML reads `http_proxy:` with no
 * value as null, and Harbor's prepare script treats that as unset (`.get(key) or default`), so Berth
 * does too: the key falls back to its default. Unknown keys are kept, null or not, so they are still
 * refused by name.
 */
export function dropNulls(document: unknown, schema: Schema = berthConfigSchema): unknown {
  const keys = sectionKeys(schema);
  if (keys === undefined || !isMapping(document)) return document;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(document)) {
    const child = keys[key];
    if (child === undefined) result[key] = value;
    else if (value !== null) result[key] = dropNulls(value, child);
  }
  return result;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
