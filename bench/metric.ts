/** One measured figure of a suite run, as printed in the table and written to --json. */
export type MetricUnit = 'MiB/s' | 'blobs/s' | 'manifests/s' | 'req/s' | 'ms' | 'MiB';

export interface Metric {
  /** Stable across profiles and runs: the key for comparisons, targets and JSON consumers. */
  readonly id: string;
  readonly label: string;
  readonly unit: MetricUnit;
  readonly better: 'higher' | 'lower';
  /** null when the measurement failed or did not run to a usable figure. */
  readonly value: number | null;
  readonly note?: string;
  readonly error?: string;
}

export type MetricShape = Omit<Metric, 'value' | 'note' | 'error'>;

export function measured(shape: MetricShape, value: number, note?: string): Metric {
  return note === undefined ? { ...shape, value } : { ...shape, value, note };
}

export function failed(shape: MetricShape, cause: unknown): Metric {
  return { ...shape, value: null, error: cause instanceof Error ? cause.message : String(cause) };
}

export const MIB = 1024 * 1024;

export function mibPerSecond(bytes: number, elapsedMs: number): number {
  return bytes / MIB / (elapsedMs / 1000);
}

export function perSecond(count: number, elapsedMs: number): number {
  return count / (elapsedMs / 1000);
}

/** Describes an incomplete pool run, so a time-bounded figure is never mistaken for the full count. */
export function partialNote(done: number, count: number, timedOut: boolean): string | undefined {
  if (done >= count) return undefined;
  return `${done}/${count} done${timedOut ? ' (time bound)' : ''}`;
}
