/** Command-line options of `npm run bench -- ...`, parsed and validated into one object. */
import { parseArgs } from 'node:util';
import { FULL_PROFILE, QUICK_PROFILE, type BenchProfile } from './bench-profile.js';
import type { Credentials } from './registry-auth.js';
import { SCENARIOS, type BenchTarget, type ScenarioName } from './suite.js';

export const USAGE = `Usage: npm run bench -- --url URL [options]

Measures an OCI distribution registry through its HTTP API only.

  --url URL               registry to measure (e.g. http://127.0.0.1:5000)
  --user NAME --password PW   credentials (Basic, or Bearer tokens via the registry's token realm)
  --pid N                 registry process id: sample its RSS from /proc/N/status
  --label NAME            column name (default: host:port, or "berth" with --start-reference)
  --compare URL2          run the same suite against URL2 and print both columns with ratios
  --compare-user/--compare-password/--compare-pid/--compare-label   the same, for URL2
  --start-reference       start /usr/bin/docker-registry on a free loopback port as the comparison
                          (alone, without --url, measures only the reference registry)
  --reference-binary PATH --reference-dir DIR   its binary, and the parent of its temp storage
  --repo-prefix P         repository prefix, <project>/<name> (default library/bench)
  --scenarios LIST        comma-separated subset of ${SCENARIOS.join(',')} (default: all)
  --quick                 smoke-run sizes (32 MiB blobs, 200 small blobs, 100 tags/repositories)
  --json FILE             also write the results as JSON
  --insecure              accept a self-signed TLS certificate
  --help
`;

export interface BenchOptions {
  readonly primary: BenchTarget | undefined;
  readonly compare: BenchTarget | undefined;
  readonly startReference: boolean;
  readonly referenceBinary: string | undefined;
  readonly referenceDirectory: string | undefined;
  readonly referenceLabel: string;
  readonly repoPrefix: string;
  readonly scenarios: ReadonlySet<ScenarioName>;
  readonly profile: BenchProfile;
  readonly jsonPath: string | undefined;
  readonly insecure: boolean;
  readonly help: boolean;
}

function hostLabel(url: string): string {
  return new URL(url).host;
}

function pidOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const pid = Number(value);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${flag} must be a process id, got ${value}`);
  return pid;
}

function credentialsOption(
  user: string | undefined,
  password: string | undefined,
  flag: string,
): Credentials | undefined {
  if (user === undefined && password === undefined) return undefined;
  if (user === undefined || password === undefined) throw new Error(`${flag}: give both user and password`);
  return { user, password };
}

function urlOption(value: string, flag: string): string {
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`${flag} must be http(s), got ${value}`);
  return url.origin;
}

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      url: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      pid: { type: 'string' },
      label: { type: 'string' },
      compare: { type: 'string' },
      'compare-user': { type: 'string' },
      'compare-password': { type: 'string' },
      'compare-pid': { type: 'string' },
      'compare-label': { type: 'string' },
      'start-reference': { type: 'boolean', default: false },
      'reference-binary': { type: 'string' },
      'reference-dir': { type: 'string' },
      'repo-prefix': { type: 'string', default: 'library/bench' },
      scenarios: { type: 'string' },
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });

  const startReference = values['start-reference'];
  if (!values.help && values.url === undefined && !startReference) throw new Error('--url is required');
  if (startReference && values.compare !== undefined)
    throw new Error('--start-reference and --compare exclude each other');

  const repoPrefix = values['repo-prefix'];
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)+$/.test(repoPrefix)) {
    throw new Error(`--repo-prefix must be a <project>/<name> repository name, got ${repoPrefix}`);
  }

  const scenarios = new Set<ScenarioName>();
  for (const name of (values.scenarios ?? SCENARIOS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const known = SCENARIOS.find((scenario) => scenario === name);
    if (!known) throw new Error(`unknown scenario ${name}; known: ${SCENARIOS.join(', ')}`);
    scenarios.add(known);
  }

  const primary: BenchTarget | undefined =
    values.url === undefined
      ? undefined
      : {
          url: urlOption(values.url, '--url'),
          label: values.label ?? (startReference ? 'berth' : hostLabel(values.url)),
          credentials: credentialsOption(values.user, values.password, '--user/--password'),
          pid: pidOption(values.pid, '--pid'),
        };
  const compare: BenchTarget | undefined =
    values.compare === undefined
      ? undefined
      : {
          url: urlOption(values.compare, '--compare'),
          label: values['compare-label'] ?? hostLabel(values.compare),
          credentials: credentialsOption(
            values['compare-user'],
            values['compare-password'],
            '--compare-user/--compare-password',
          ),
          pid: pidOption(values['compare-pid'], '--compare-pid'),
        };
  if (primary && compare && primary.label === compare.label)
    throw new Error('give the two registries distinct labels');

  return {
    primary,
    compare,
    startReference,
    referenceBinary: values['reference-binary'],
    referenceDirectory: values['reference-dir'],
    referenceLabel: 'docker-registry',
    repoPrefix,
    scenarios,
    profile: values.quick ? QUICK_PROFILE : FULL_PROFILE,
    jsonPath: values.json,
    insecure: values.insecure,
    help: values.help,
  };
}
