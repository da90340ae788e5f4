/**
 * Manifest writes and reads by tag. Pushes are distinct OCI image manifests (by annotation) over one
 * config and layer already in the repository; reads rotate over the pushed tags with an OCI Accept
 * header, through the raw keep-alive GET load so the client is not the bottleneck, and each answer must
 * be exactly the pushed manifest's length.
 */
import { runGetLoad } from './get-load.js';
import { imageFixture, imageManifest, type ImageFixture } from './image-fixture.js';
import { failed, measured, partialNote, perSecond, type Metric, type MetricShape } from './metric.js';
import { MANIFEST_ACCEPT } from './registry-client.js';
import { repositoryFor, type ScenarioContext } from './scenario-context.js';
import { runPool } from './work-pool.js';

/** Tags read by the GET phase: enough to defeat a single-entry cache, few enough to be pushed quickly. */
const GET_TAG_SPREAD = 256;

function pushShape(context: ScenarioContext): MetricShape {
  const { manifestPushes, manifestPushConcurrency } = context.profile;
  return {
    id: 'manifest.push',
    label: `manifest push ${manifestPushes} by tag, ${manifestPushConcurrency} in flight`,
    unit: 'manifests/s',
    better: 'higher',
  };
}

function getShape(context: ScenarioContext): MetricShape {
  return {
    id: 'manifest.get',
    label: `manifest GET by tag, ${context.profile.manifestGetConcurrency} in flight`,
    unit: 'req/s',
    better: 'higher',
  };
}

interface PushedManifest {
  readonly tag: string;
  readonly size: number;
}

export async function pushFixtureBlobs(
  context: ScenarioContext,
  repository: string,
  fixture: ImageFixture,
): Promise<void> {
  await context.client.pushBlob(repository, fixture.config);
  await context.client.pushBlob(repository, fixture.layer);
}

async function pushManifests(
  context: ScenarioContext,
  repository: string,
  fixture: ImageFixture,
  metrics: Metric[],
): Promise<PushedManifest[]> {
  const { client, profile } = context;
  const shape = pushShape(context);
  const bodies = Array.from({ length: profile.manifestPushes }, (_, i) =>
    imageManifest(fixture, { 'org.opencontainers.image.description': `bench ${context.runId} #${i}` }),
  );
  const outcome = await runPool({
    count: bodies.length,
    concurrency: profile.manifestPushConcurrency,
    maxMs: profile.phaseMaxMs,
    task: async (i) => {
      const body = bodies[i];
      if (body) await client.putManifest(repository, `push-${i}`, body);
    },
  });
  if (outcome.error) {
    metrics.push(failed(shape, outcome.error));
    return [];
  }
  const note = partialNote(outcome.done, profile.manifestPushes, outcome.timedOut);
  metrics.push(measured(shape, perSecond(outcome.done, outcome.elapsedMs), note));
  // Pool tasks start in index order, so the first `done` indexes are the pushed ones.
  return bodies.slice(0, outcome.done).map((body, i) => ({ tag: `push-${i}`, size: body.length }));
}

async function getManifests(
  context: ScenarioContext,
  repository: string,
  manifests: readonly PushedManifest[],
  metrics: Metric[],
): Promise<void> {
  const { client, profile } = context;
  const shape = getShape(context);
  const targets = manifests.slice(0, GET_TAG_SPREAD);
  // Warm any cache first, as on a long-running registry.
  for (const manifest of targets) await client.getManifest(repository, manifest.tag);
  const outcome = await runGetLoad({
    base: client.transport.base,
    paths: targets.map((manifest) => `/v2/${repository}/manifests/${manifest.tag}`),
    headers: { accept: MANIFEST_ACCEPT, ...(await client.authorization(repository)) },
    connections: profile.manifestGetConcurrency,
    count: profile.manifestGets,
    maxMs: profile.manifestGetMaxMs,
    insecure: client.transport.insecure,
    expectedBytes: (i) => targets[i]?.size,
  });
  if (outcome.error) {
    metrics.push(failed(shape, outcome.error));
    return;
  }
  const seconds = (outcome.elapsedMs / 1000).toFixed(1);
  metrics.push(
    measured(shape, perSecond(outcome.done, outcome.elapsedMs), `${outcome.done} GETs in ${seconds} s`),
  );
}

export async function runManifests(context: ScenarioContext, metrics: Metric[]): Promise<void> {
  const repository = repositoryFor(context, 'manifests');
  const fixture = imageFixture();
  context.log(`manifest push to ${repository}`);
  try {
    await pushFixtureBlobs(context, repository, fixture);
  } catch (cause) {
    metrics.push(failed(pushShape(context), cause), failed(getShape(context), cause));
    return;
  }
  let pushed = await pushManifests(context, repository, fixture, metrics);
  context.log('manifest GET');
  try {
    if (pushed.length === 0) {
      const body = imageManifest(fixture, {});
      await context.client.putManifest(repository, 'get', body);
      pushed = [{ tag: 'get', size: body.length }];
    }
    await getManifests(context, repository, pushed, metrics);
  } catch (cause) {
    metrics.push(failed(getShape(context), cause));
  }
}
