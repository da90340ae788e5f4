import { isIP } from 'node:net';
import * as z from 'zod';
import { isDuration, isSize } from './config.units.js';

/**
 * The field builders the schema is made of. Each one carries its own messages so that a refusal reads
 * in the file's terms (`expected integer, got string`), not zod's. Values are never echoed for free-form
 * strings: a wrong-typed key may hold a password.
 */

/** The YAML name of a value's type, for messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (value instanceof Date) return 'timestamp';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'non-integer number';
  if (typeof value === 'object') return 'mapping';
  return typeof value;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : describeValue(value);
}

interface RawIssue {
  code?: string | undefined;
  input?: unknown;
}

function typeError(expected: string) {
  return (issue: RawIssue): string | undefined => {
    // A union of scalar types (a credential, `_version`) fails as a whole: still a type mismatch.
    if (issue.code !== 'invalid_type' && issue.code !== 'invalid_union') return undefined;
    return issue.input === undefined ? 'required' : `expected ${expected}, got ${describeValue(issue.input)}`;
  };
}

export function integer(range: { min?: number; max?: number } = {}) {
  let schema = z.int({ error: typeError('integer') });
  if (range.min !== undefined) schema = schema.min(range.min, `must be >= ${range.min}`);
  if (range.max !== undefined) schema = schema.max(range.max, `must be <= ${range.max}`);
  return schema;
}

export function port() {
  return integer({ min: 1, max: 65535 });
}

export function fraction() {
  return z
    .number({ error: typeError('number') })
    .min(0, 'must be between 0 and 1')
    .max(1, 'must be between 0 and 1');
}

export function flag() {
  return z.boolean({ error: typeError('boolean (true or false)') });
}

export function text() {
  return z.string({ error: typeError('string') });
}

export function nonEmptyText() {
  return text().min(1, 'must not be empty');
}

/**
 * A password, user or database name. YAML reads `password: 12345678` as a number; Harbor's templates
 * turn it back into text and use it, so Berth takes it as the same text rather than refusing it.
 */
export function credential(options: { nonEmpty?: boolean } = {}) {
  const asText = z.union([z.string(), z.number()], { error: typeError('string') }).transform(String);
  return options.nonEmpty === true ? asText.pipe(z.string().min(1, 'must not be empty')) : asText;
}

export function choice<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue: RawIssue) =>
      issue.input === undefined
        ? 'required'
        : `expected one of ${values.join(', ')}, got ${show(issue.input)}`,
  });
}

/** A Go duration (`30m`, `5m0s`, `168h`) or 0; kept as written, converted with parseDurationMs. */
export function duration() {
  return z.custom<string | number>(isDuration, {
    error: (issue: RawIssue) =>
      issue.input === undefined
        ? 'required'
        : `expected a Go duration such as 30m, 5m0s or 168h, got ${show(issue.input)}`,
  });
}

/** A logrotate size (`200M`, `100k`, `1048576`); kept as written, converted with parseSizeBytes. */
export function size() {
  return z.custom<string | number>(isSize, {
    error: (issue: RawIssue) =>
      issue.input === undefined
        ? 'required'
        : `expected a size such as 200M, 100k or 1G, got ${show(issue.input)}`,
  });
}

export function list<T extends z.ZodType>(element: T) {
  return z.array(element, { error: typeError('list') });
}

/** A section: a mapping whose keys are all known. Unknown keys are refused, as zot does. */
export function section<T extends z.ZodRawShape>(shape: T) {
  return z.strictObject(shape, { error: typeError('mapping') });
}

/** A mapping handed on as-is (a storage driver's parameters, trace attributes). */
export function freeMapping() {
  return z.record(z.string(), z.unknown(), { error: typeError('mapping') });
}

const DNS_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function isHostname(value: string): boolean {
  const bracketed = /^\[(.*)\]$/.exec(value);
  if (bracketed) return isIP(bracketed[1] ?? '') === 6;
  return isIP(value) !== 0 || DNS_NAME.test(value);
}

/** A DNS name or an IP address, as harbor.yml's hostname: no scheme, port or path. */
export function hostname() {
  return text().refine(isHostname, 'expected a host name or IP address, without scheme, port or path');
}

/** Harbor's `_version` migrator marker: `2.11.0` is a string, but `2.11` reads as a number. */
export function versionMarker() {
  return z.union([z.string(), z.number()], { error: typeError('string') });
}
