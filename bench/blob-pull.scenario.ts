/**
 * Blob pulls: the big blob over one stream, then `pullStreams` concurrent streams over the parallel
 * blobs. Bodies are counted and discarded; a short or long body fails the measurement.
 */
import { generatedBlob, type BlobContent } from './blob-content.js';
import type { PushedBlobs } from './blob-push.scenario.js';
import { failed, measured, mibPerSecond, type Metric, type MetricShape } from './metric.js';
import { repositoryFor, type ScenarioContext } from './scenario-context.js';

/** When pulls run without the push scenario, push their blobs first (untimed). */
async function ensurePushed(context: ScenarioContext, pushed: PushedBlobs | undefined): Promise<PushedBlobs> {
  if (pushed?.big && pushed.parallel.length > 0) return pushed;
  const repository = repositoryFor(context, 'blobs');
  const { profile, client } = context;
  context.log('pushing blobs for the pull scenario (untimed)');
  const big = await generatedBlob(`${context.runId}/pull-big`, profile.bigBlobBytes);
  await client.pushBlob(repository, big);
  const parallel: BlobContent[] = [];
  for (let i = 0; i < profile.parallelBlobs; i++) {
    const blob = await generatedBlob(`${context.runId}/pull-parallel-${i}`, profile.parallelBlobBytes);
    await client.pushBlob(repository, blob);
    parallel.push(blob);
  }
  return { repository, big, parallel };
}

export async function runBlobPull(
  context: ScenarioContext,
  pushed: PushedBlobs | undefined,
  metrics: Metric[],
): Promise<void> {
  const { client, profile } = context;
  const single: MetricShape = { id: 'pull.single', label: 'pull, 1 stream', unit: 'MiB/s', better: 'higher' };
  const parallel: MetricShape = {
    id: 'pull.parallel',
    label: `pull, ${profile.pullStreams} streams`,
    unit: 'MiB/s',
    better: 'higher',
  };
  let blobs: PushedBlobs;
  try {
    blobs = await ensurePushed(context, pushed);
  } catch (cause) {
    metrics.push(failed(single, cause), failed(parallel, cause));
    return;
  }

  const big = blobs.big;
  try {
    if (!big) throw new Error('no blob to pull');
    context.log(`pull ${big.digest.slice(0, 19)}… over 1 stream`);
    const started = performance.now();
    await client.pullBlob(blobs.repository, big.digest, big.size);
    metrics.push(
      measured(
        { ...single, label: `${single.label} (${big.size >> 20} MiB)` },
        mibPerSecond(big.size, performance.now() - started),
      ),
    );
  } catch (cause) {
    metrics.push(failed(single, cause));
  }

  try {
    const streams = Array.from(
      { length: profile.pullStreams },
      (_, i) => blobs.parallel[i % blobs.parallel.length],
    );
    const total = streams.reduce((sum, blob) => sum + (blob?.size ?? 0), 0);
    context.log(`pull over ${profile.pullStreams} streams (${total >> 20} MiB)`);
    const started = performance.now();
    await Promise.all(
      streams.map((blob) => {
        if (!blob) throw new Error('no blob to pull');
        return client.pullBlob(blobs.repository, blob.digest, blob.size);
      }),
    );
    metrics.push(
      measured(
        { ...parallel, label: `${parallel.label} (${total >> 20} MiB)` },
        mibPerSecond(total, performance.now() - started),
      ),
    );
  } catch (cause) {
    metrics.push(failed(parallel, cause));
  }
}
