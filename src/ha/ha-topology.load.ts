import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { issuesFromZod, type ConfigIssue } from '../config/config.error.js';
import { describeValue } from '../config/config.fields.js';
import { haTopologySchema, type HaTopology } from './ha-topology.schema.js';

/** The topology cannot be used; every problem is listed, each with the key path it is about. */
export class TopologyError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], source: string | undefined) {
    const where = source === undefined ? 'invalid HA topology' : `invalid HA topology in ${source}`;
    const lines = issues.map((issue) =>
      issue.path === '' ? `  ${issue.message}` : `  ${issue.path}: ${issue.message}`,
    );
    super([`${where}:`, ...lines].join('\n'));
    this.name = 'TopologyError';
    this.issues = issues;
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

/** Parses and validates topology YAML. Duplicate keys are refused: the second would silently win. */
export function parseTopologyText(text: string, source?: string): HaTopology {
  const document = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) {
    throw new TopologyError(
      document.errors.map((error) => ({ path: '', message: `YAML: ${firstLine(error.message)}` })),
      source,
    );
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new TopologyError([{ path: '', message: `YAML: ${firstLine(String(error))}` }], source);
  }
  return topologyFromDocument(value, source);
}

/** Validates an already parsed document (tests and tools that build a topology in code). */
export function topologyFromDocument(value: unknown, source?: string): HaTopology {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TopologyError(
      [
        {
          path: '',
          message: `the file must be a mapping (vip, load_balancers, instances, ...), got ${describeValue(value)}`,
        },
      ],
      source,
    );
  }
  const parsed = haTopologySchema.safeParse(value);
  if (!parsed.success) throw new TopologyError(issuesFromZod(parsed.error.issues), source);
  return parsed.data;
}

export async function loadTopologyFile(file: string): Promise<HaTopology> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new TopologyError([{ path: '', message: `cannot read the file (${reason})` }], file);
  }
  return parseTopologyText(text, file);
}
