import { DomainError } from '../errors.js';

/**
 * Harbor's project metadata (swagger `ProjectMetadata`, src/pkg/project/models/pro_meta.go): a map of
 * string values. `public` drives visibility; the others are settings read by scanning, signing and
 * retention. Values are validated here so that a stored map only ever holds what Harbor would store.
 */
export const BOOLEAN_METADATA = [
  'public',
  'enable_content_trust',
  'enable_content_trust_cosign',
  'prevent_vul',
  'auto_scan',
  'auto_sbom_generation',
  'reuse_sys_cve_allowlist',
] as const;

export const SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;

/**
 * Settings of proxy-cache projects. Harbor drops them from the request of a project that is no proxy
 * cache (every Berth project: proxy caching is not implemented), after checking the numeric ones.
 */
const PROXY_CACHE_METADATA = [
  'proxy_speed_kb',
  'max_upstream_conn',
  'proxy_cache_local_on_not_found',
  'proxy_referrer_api',
  'proxy_cache_filter_pattern',
  'proxy_cache_filter_kind',
] as const;

const RETENTION_ID = 'retention_id';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

function invalid(message: string): DomainError {
  return new DomainError('request.invalid', message);
}

/** Go's strconv.ParseBool, which Harbor's metadata API uses: 1 t T TRUE true True, 0 f F FALSE false False. */
function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** Harbor's vuln.ParseSeverityVersion3 on lower-cased input: `negligible` is `none`, `unknown` is refused. */
function normalizeSeverity(value: string): string {
  const lower = value.toLowerCase();
  const severity = lower === 'negligible' ? 'none' : lower;
  if (!isOneOf(SEVERITIES, severity)) {
    throw invalid(`invalid value of severity: "${value.slice(0, 50)}" (${SEVERITIES.join(', ')})`);
  }
  return severity;
}

function shown(value: string): string {
  return JSON.stringify(value.slice(0, 50));
}

/**
 * The `metadata` of a ProjectReq (project create and update), as Harbor applies it: keys of the model
 * only (others are ignored, as Harbor's typed model drops them), empty values are "not given", booleans
 * exactly "true" or "false", severity one of none, low, medium, high, critical. `retention_id` belongs to
 * the retention policy: it may only be repeated as it is (`currentRetentionId`), never set here.
 */
export function projectRequestMetadata(
  input: Record<string, unknown> | undefined,
  options: { currentRetentionId?: string | undefined } = {},
): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, raw] of Object.entries(input ?? {})) {
    if (raw === null || raw === undefined) continue;
    if (typeof raw !== 'string') throw invalid(`metadata.${key.slice(0, 50)} must be a string`);
    if (raw === '') continue;
    if (isOneOf(BOOLEAN_METADATA, key)) {
      if (raw !== 'true' && raw !== 'false') {
        throw invalid(`metadata.${key} should only be 'true' or 'false', but got: ${shown(raw)}`);
      }
      metadata[key] = raw;
    } else if (key === 'severity') {
      metadata[key] = normalizeSeverity(raw);
    } else if (key === RETENTION_ID) {
      if (raw !== options.currentRetentionId) {
        throw invalid(
          "the retention_id in the request's payload should be omitted, or be the one the project has",
        );
      }
    } else if (isOneOf(PROXY_CACHE_METADATA, key)) {
      if ((key === 'proxy_speed_kb' || key === 'max_upstream_conn') && !isInt32(raw)) {
        throw invalid(`metadata.${key} should be an int32, but got: ${shown(raw)}`);
      }
    }
  }
  return metadata;
}

function isInt32(value: string): boolean {
  if (!/^[+-]?\d{1,10}$/.test(value)) return false;
  const number = Number(value);
  return number >= INT32_MIN && number <= INT32_MAX;
}

/** The keys the metadata API (`/projects/{p}/metadatas/`) may add, change or read one at a time. */
const API_METADATA: readonly string[] = [...BOOLEAN_METADATA, 'severity'];

/**
 * One entry of the metadata API, as Harbor validates it (handler/project_metadata.go): exactly one pair,
 * a known key, a boolean in any form Go's ParseBool reads (stored as "true"/"false"), or a severity.
 */
export function metadataApiEntry(body: Record<string, unknown>): [string, string] {
  const entries = Object.entries(body);
  if (entries.length !== 1) throw invalid('only allow one key/value pair');
  const [key, raw] = entries[0] as [string, unknown];
  return [key, metadataApiValue(key, raw)];
}

export function metadataApiValue(key: string, raw: unknown): string {
  if (!API_METADATA.includes(key)) throw invalid(`invalid key: ${shown(key)}`);
  if (typeof raw !== 'string') throw invalid(`the value of ${key} must be a string`);
  if (key === 'severity') return normalizeSeverity(raw);
  const parsed = parseGoBool(raw);
  if (parsed === undefined) throw invalid(`invalid value of ${key}: ${shown(raw)}`);
  return String(parsed);
}
