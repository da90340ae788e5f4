/**
 * `npm run bench -- --url URL [...]`: runs the suite against one registry, or two side by side
 * (`--compare URL2`, or `--start-reference` for a fresh docker-registry), prints a Markdown table on
 * stdout (progress goes to stderr) and optionally writes JSON. Registries are measured one after the
 * other, never at once: the machine's cores are shared by the registry and this process.
 */
import { writeFile } from 'node:fs/promises';
import { cpus, hostname, loadavg, release, totalmem } from 'node:os';
import { parseBenchOptions, USAGE, type BenchOptions } from './bench-options.js';
import { startReferenceRegistry, type ReferenceRegistry } from './reference-registry.js';
import { renderResults } from './results-table.js';
import { runSuite, type BenchTarget, type SuiteResult } from './suite.js';
import { ratio, verdict } from './targets.js';

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

function machine(): Record<string, string | number> {
  return {
    hostname: hostname(),
    kernel: release(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

function comparison(results: readonly SuiteResult[]): unknown[] {
  const [first, second] = results;
  if (!first || !second) return [];
  return first.metrics.map((metric) => {
    const achieved = ratio(
      metric,
      second.metrics.find((other) => other.id === metric.id),
    );
    return { id: metric.id, ratio: achieved, ...verdict(metric.id, achieved) };
  });
}

async function targetsOf(
  options: BenchOptions,
): Promise<{ targets: BenchTarget[]; reference?: ReferenceRegistry }> {
  const targets: BenchTarget[] = [];
  if (options.primary) targets.push(options.primary);
  if (options.compare) targets.push(options.compare);
  if (!options.startReference) return { targets };
  log('starting docker-registry');
  const reference = await startReferenceRegistry({
    ...(options.referenceBinary ? { binary: options.referenceBinary } : {}),
    ...(options.referenceDirectory ? { parentDirectory: options.referenceDirectory } : {}),
  });
  log(`docker-registry at ${reference.url}, pid ${reference.pid}, storage ${reference.rootDirectory}`);
  targets.push({
    url: reference.url,
    label: options.referenceLabel,
    credentials: undefined,
    pid: reference.pid,
  });
  return { targets, reference };
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  const { targets, reference } = await targetsOf(options);
  const interrupted = (): void => {
    log('interrupted');
    void (reference?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  const results: SuiteResult[] = [];
  try {
    for (const target of targets) {
      results.push(
        await runSuite(target, {
          profile: options.profile,
          repoPrefix: options.repoPrefix,
          scenarios: options.scenarios,
          insecure: options.insecure,
          log,
        }),
      );
    }
  } finally {
    if (reference) {
      log('stopping docker-registry');
      await reference.stop();
    }
  }

  const host = machine();
  process.stdout.write(
    `\nmachine: ${host.cpus} × ${host.cpuModel}, ${host.memoryGiB} GiB, Linux ${host.kernel}, node ${host.node}\n`,
  );
  process.stdout.write(`${renderResults(results)}\n`);
  if (options.jsonPath) {
    const report = {
      generatedAt: new Date().toISOString(),
      machine: host,
      profile: options.profile,
      results,
      comparison: comparison(results),
    };
    await writeFile(options.jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${options.jsonPath}`);
  }
  if (results.some((result) => result.metrics.some((metric) => metric.error !== undefined)))
    process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
