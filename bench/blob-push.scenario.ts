/**
 * Large blob pushes: one monolithic blob, several monolithic blobs in parallel, one chunked blob.
 * Digests are computed before the clock starts; the timed part is POST through the closing PUT's 201.
 */
import { generatedBlob, type BlobContent } from './blob-content.js';
import { failed, measured, MIB, mibPerSecond, type Metric, type MetricShape } from './metric.js';
import { repositoryFor, type ScenarioContext } from './scenario-context.js';

export interface PushedBlobs {
  readonly repository: string;
  readonly big: BlobContent | undefined;
  readonly parallel: readonly BlobContent[];
}

function mib(bytes: number): string {
  return `${Math.round(bytes / MIB)} MiB`;
}

async function pushSingle(
  context: ScenarioContext,
  repository: string,
  metrics: Metric[],
): Promise<BlobContent | undefined> {
  const { client, profile, rss } = context;
  const shape: MetricShape = {
    id: 'push.monolithic.single',
    label: `monolithic push 1 × ${mib(profile.bigBlobBytes)}`,
    unit: 'MiB/s',
    better: 'higher',
  };
  try {
    const blob = await generatedBlob(`${context.runId}/big`, profile.bigBlobBytes);
    const before = rss?.beginWindow();
    const started = performance.now();
    await client.pushBlob(repository, blob);
    const elapsed = performance.now() - started;
    metrics.push(measured(shape, mibPerSecond(blob.size, elapsed)));
    if (rss && before) {
      const after = rss.read();
      const peak = rss.windowPeakMiB();
      const rssShape = { unit: 'MiB', better: 'lower' } as const;
      metrics.push(
        measured(
          { ...rssShape, id: 'rss.push.before', label: 'registry RSS before the big push' },
          before.rssMiB,
        ),
      );
      metrics.push(
        measured({ ...rssShape, id: 'rss.push.peak', label: 'registry RSS peak during the big push' }, peak),
      );
      metrics.push(
        measured(
          { ...rssShape, id: 'rss.push.after', label: 'registry RSS after the big push' },
          after.rssMiB,
        ),
      );
    }
    return blob;
  } catch (cause) {
    metrics.push(failed(shape, cause));
    return undefined;
  }
}

async function pushParallel(
  context: ScenarioContext,
  repository: string,
  metrics: Metric[],
): Promise<BlobContent[]> {
  const { client, profile } = context;
  const shape: MetricShape = {
    id: 'push.monolithic.parallel',
    label: `monolithic push ${profile.parallelBlobs} × ${mib(profile.parallelBlobBytes)} parallel`,
    unit: 'MiB/s',
    better: 'higher',
  };
  try {
    const blobs: BlobContent[] = [];
    for (let i = 0; i < profile.parallelBlobs; i++) {
      blobs.push(await generatedBlob(`${context.runId}/parallel-${i}`, profile.parallelBlobBytes));
    }
    const started = performance.now();
    await Promise.all(blobs.map((blob) => client.pushBlob(repository, blob)));
    const elapsed = performance.now() - started;
    metrics.push(measured(shape, mibPerSecond(profile.parallelBlobs * profile.parallelBlobBytes, elapsed)));
    return blobs;
  } catch (cause) {
    metrics.push(failed(shape, cause));
    return [];
  }
}

async function pushChunked(context: ScenarioContext, repository: string, metrics: Metric[]): Promise<void> {
  const { client, profile } = context;
  const shape: MetricShape = {
    id: 'push.chunked',
    label: `chunked push 1 × ${mib(profile.chunkedBlobBytes)} in ${mib(profile.chunkBytes)} PATCHes`,
    unit: 'MiB/s',
    better: 'higher',
  };
  try {
    const blob = await generatedBlob(`${context.runId}/chunked`, profile.chunkedBlobBytes);
    const started = performance.now();
    const patches = await client.pushBlobChunked(repository, blob, profile.chunkBytes, profile.phaseMaxMs);
    const elapsed = performance.now() - started;
    metrics.push(measured(shape, mibPerSecond(blob.size, elapsed), `${patches} PATCH`));
  } catch (cause) {
    metrics.push(failed(shape, cause));
  }
}

export async function runBlobPush(context: ScenarioContext, metrics: Metric[]): Promise<PushedBlobs> {
  const repository = repositoryFor(context, 'blobs');
  context.log(`monolithic push 1 × ${mib(context.profile.bigBlobBytes)} to ${repository}`);
  const big = await pushSingle(context, repository, metrics);
  context.log(`monolithic push ${context.profile.parallelBlobs} × ${mib(context.profile.parallelBlobBytes)}`);
  const parallel = await pushParallel(context, repository, metrics);
  context.log(`chunked push 1 × ${mib(context.profile.chunkedBlobBytes)}`);
  await pushChunked(context, repository, metrics);
  return { repository, big, parallel };
}
