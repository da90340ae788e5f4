/**
 * Listing latency: `GET /v2/<name>/tags/list` on a repository with `tags` tags (all pages, following
 * Link), and one page of `GET /v2/_catalog?n=1000` with `catalogRepositories` bench repositories.
 * Setup is idempotent and incremental: only missing tags and repositories are created, so repeated runs
 * against the same registry skip it.
 */
import { imageFixture, imageManifest } from './image-fixture.js';
import { summarize } from './latency-stats.js';
import { pushFixtureBlobs } from './manifest.scenario.js';
import { failed, measured, partialNote, type Metric, type MetricShape } from './metric.js';
import { repositoryFor, type ScenarioContext } from './scenario-context.js';
import { runPool } from './work-pool.js';

const CATALOG_PAGE = 1000;
const WARMUP_REQUESTS = 3;

function latencyShapes(id: string, label: string): [MetricShape, MetricShape] {
  return [
    { id: `${id}.p50`, label: `${label} p50`, unit: 'ms', better: 'lower' },
    { id: `${id}.p99`, label: `${label} p99`, unit: 'ms', better: 'lower' },
  ];
}

/** Sequential samples of one request, bounded by count and time. */
async function sampleLatency(
  context: ScenarioContext,
  samples: number,
  request: () => Promise<unknown>,
): Promise<number[]> {
  for (let i = 0; i < WARMUP_REQUESTS; i++) await request();
  const durations: number[] = [];
  const outcome = await runPool({
    count: samples,
    concurrency: 1,
    maxMs: context.profile.latencyMaxMs,
    task: async () => {
      const started = performance.now();
      await request();
      durations.push(performance.now() - started);
    },
  });
  if (outcome.error) throw outcome.error;
  return durations;
}

function pad(i: number): string {
  return String(i).padStart(4, '0');
}

async function setUp(
  context: ScenarioContext,
  what: string,
  missing: readonly number[],
  create: (i: number) => Promise<void>,
): Promise<void> {
  if (missing.length === 0) return;
  context.log(`creating ${missing.length} ${what} (untimed)`);
  const outcome = await runPool({
    count: missing.length,
    concurrency: context.profile.setupConcurrency,
    maxMs: context.profile.phaseMaxMs,
    task: (i) => create(missing[i] ?? 0),
  });
  if (outcome.error) throw outcome.error;
  if (outcome.done < missing.length)
    throw new Error(`created only ${outcome.done} of ${missing.length} ${what} in time`);
}

async function runTagsList(context: ScenarioContext, source: string, metrics: Metric[]): Promise<void> {
  const { client, profile } = context;
  const [p50, p99] = latencyShapes('tags.list', `tags list, ${profile.tags} tags`);
  try {
    const fixture = imageFixture();
    await pushFixtureBlobs(context, source, fixture);
    const existing = new Set((await client.listTags(source)).tags);
    const missing = Array.from({ length: profile.tags }, (_, i) => i).filter(
      (i) => !existing.has(`t-${pad(i)}`),
    );
    const manifest = imageManifest(fixture, { 'org.opencontainers.image.description': 'bench tags' });
    await setUp(context, 'tags', missing, (i) => client.putManifest(source, `t-${pad(i)}`, manifest));

    context.log(`tags list on ${source}`);
    let listed = { tags: [] as string[], pages: 0 };
    const durations = await sampleLatency(context, profile.tagsSamples, async () => {
      listed = await client.listTags(source);
    });
    if (listed.tags.length < profile.tags)
      throw new Error(`listed ${listed.tags.length} tags, expected ≥ ${profile.tags}`);
    const summary = summarize(durations);
    const pages = listed.pages > 1 ? `, ${listed.pages} pages` : '';
    const note = partialNote(summary.samples, profile.tagsSamples, true) ?? `${summary.samples} samples`;
    metrics.push(measured(p50, summary.p50, `${listed.tags.length} tags${pages}, ${note}`));
    metrics.push(measured(p99, summary.p99));
  } catch (cause) {
    metrics.push(failed(p50, cause), failed(p99, cause));
  }
}

async function runCatalog(context: ScenarioContext, source: string, metrics: Metric[]): Promise<void> {
  const { client, profile } = context;
  const [p50, p99] = latencyShapes(
    'catalog',
    `catalog ?n=${CATALOG_PAGE}, ${profile.catalogRepositories} repositories`,
  );
  try {
    const prefix = repositoryFor(context, 'catalog-');
    const existing = new Set<string>();
    let next: string | undefined = `/v2/_catalog?n=${CATALOG_PAGE}`;
    for (let page = 0; next !== undefined && page < 100; page++) {
      const listed: { repositories: string[]; next: string | undefined } = await client.catalogPage(next);
      for (const name of listed.repositories) if (name.startsWith(prefix)) existing.add(name);
      next = listed.next;
    }
    const missing = Array.from({ length: profile.catalogRepositories }, (_, i) => i).filter(
      (i) => !existing.has(`${prefix}${pad(i)}`),
    );
    const fixture = imageFixture();
    const manifest = imageManifest(fixture, {});
    await pushFixtureBlobs(context, source, fixture);
    await setUp(context, 'repositories', missing, async (i) => {
      const repository = `${prefix}${pad(i)}`;
      // A cross-repository mount from the tags repository; registries that refuse it get an upload.
      await client.pushBlob(repository, fixture.config, source);
      await client.pushBlob(repository, fixture.layer, source);
      await client.putManifest(repository, 'latest', manifest);
    });

    context.log('catalog');
    let returned = 0;
    const durations = await sampleLatency(context, profile.catalogSamples, async () => {
      returned = (await client.catalogPage(`/v2/_catalog?n=${CATALOG_PAGE}`)).repositories.length;
    });
    const summary = summarize(durations);
    const note = partialNote(summary.samples, profile.catalogSamples, true) ?? `${summary.samples} samples`;
    metrics.push(measured(p50, summary.p50, `${returned} names in the page, ${note}`));
    metrics.push(measured(p99, summary.p99));
  } catch (cause) {
    metrics.push(failed(p50, cause), failed(p99, cause));
  }
}

export async function runListings(
  context: ScenarioContext,
  metrics: Metric[],
  only: ReadonlySet<string>,
): Promise<void> {
  const source = repositoryFor(context, 'tags');
  if (only.has('tags')) await runTagsList(context, source, metrics);
  if (only.has('catalog')) await runCatalog(context, source, metrics);
}
