/** Sizes, counts and bounds of one suite run. `quick` is a smoke run: figures are not comparable to `full`. */
import { MIB } from './metric.js';

export interface BenchProfile {
  readonly name: 'full' | 'quick';
  readonly bigBlobBytes: number;
  readonly parallelBlobs: number;
  readonly parallelBlobBytes: number;
  readonly chunkedBlobBytes: number;
  readonly chunkBytes: number;
  readonly pullStreams: number;
  readonly smallBlobs: number;
  readonly smallBlobBytes: number;
  readonly smallConcurrency: number;
  readonly manifestPushes: number;
  readonly manifestPushConcurrency: number;
  readonly manifestGets: number;
  readonly manifestGetConcurrency: number;
  readonly manifestGetMaxMs: number;
  readonly tags: number;
  readonly tagsSamples: number;
  readonly catalogRepositories: number;
  readonly catalogSamples: number;
  readonly latencyMaxMs: number;
  /** Parallelism of untimed setup work (tagging, creating repositories). */
  readonly setupConcurrency: number;
  /** Bound on any one timed or setup phase made of many requests. */
  readonly phaseMaxMs: number;
}

export const FULL_PROFILE: BenchProfile = {
  name: 'full',
  bigBlobBytes: 256 * MIB,
  parallelBlobs: 4,
  parallelBlobBytes: 64 * MIB,
  chunkedBlobBytes: 256 * MIB,
  chunkBytes: 8 * MIB,
  pullStreams: 8,
  smallBlobs: 2000,
  smallBlobBytes: 4096,
  smallConcurrency: 32,
  manifestPushes: 2000,
  manifestPushConcurrency: 32,
  manifestGets: 200_000,
  manifestGetConcurrency: 64,
  manifestGetMaxMs: 10_000,
  tags: 1000,
  tagsSamples: 200,
  catalogRepositories: 1000,
  catalogSamples: 100,
  latencyMaxMs: 20_000,
  setupConcurrency: 16,
  phaseMaxMs: 180_000,
};

export const QUICK_PROFILE: BenchProfile = {
  ...FULL_PROFILE,
  name: 'quick',
  bigBlobBytes: 32 * MIB,
  parallelBlobBytes: 8 * MIB,
  chunkedBlobBytes: 32 * MIB,
  smallBlobs: 200,
  manifestPushes: 200,
  manifestGets: 5_000,
  manifestGetMaxMs: 3_000,
  tags: 100,
  tagsSamples: 30,
  catalogRepositories: 100,
  catalogSamples: 20,
  latencyMaxMs: 5_000,
  phaseMaxMs: 60_000,
};
