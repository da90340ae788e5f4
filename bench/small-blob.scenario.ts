/** Many small blobs (4 KiB by default) pushed with POST + PUT, `smallConcurrency` in flight. */
import { bufferBlob, keystreamBuffer } from './blob-content.js';
import { failed, measured, partialNote, perSecond, type Metric, type MetricShape } from './metric.js';
import { repositoryFor, type ScenarioContext } from './scenario-context.js';
import { runPool } from './work-pool.js';

export async function runSmallBlobs(context: ScenarioContext, metrics: Metric[]): Promise<void> {
  const { client, profile } = context;
  const repository = repositoryFor(context, 'small');
  const shape: MetricShape = {
    id: 'push.small',
    label: `small-blob push ${profile.smallBlobs} × ${profile.smallBlobBytes >> 10} KiB, ${profile.smallConcurrency} in flight`,
    unit: 'blobs/s',
    better: 'higher',
  };
  context.log(`small-blob push to ${repository}`);
  // Generated up front (8 MiB for 2,000 × 4 KiB) so the clock measures the registry, not AES.
  const blobs = Array.from({ length: profile.smallBlobs }, (_, i) =>
    bufferBlob(keystreamBuffer(`${context.runId}/small-${i}`, profile.smallBlobBytes)),
  );
  const outcome = await runPool({
    count: blobs.length,
    concurrency: profile.smallConcurrency,
    maxMs: profile.phaseMaxMs,
    task: async (i) => {
      const blob = blobs[i];
      if (blob) await client.pushBlob(repository, blob);
    },
  });
  if (outcome.error) {
    metrics.push(failed(shape, outcome.error));
    return;
  }
  metrics.push(
    measured(
      shape,
      perSecond(outcome.done, outcome.elapsedMs),
      partialNote(outcome.done, profile.smallBlobs, outcome.timedOut),
    ),
  );
}
