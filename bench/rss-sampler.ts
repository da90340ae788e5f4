/**
 * Samples a registry process's resident set from /proc/<pid>/status (Linux only).
 *
 * VmRSS is sampled every `intervalMs` into a running maximum that can be reset per phase ("peak during
 * the 256 MiB push"); VmHWM is the kernel's own high-water mark since the process started, and catches
 * spikes shorter than the sampling interval.
 */
import { readFileSync } from 'node:fs';

export interface MemoryReading {
  readonly rssMiB: number;
  readonly hwmMiB: number;
}

function field(status: string, name: string): number | undefined {
  const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return match?.[1] ? Number(match[1]) / 1024 : undefined;
}

export class RssSampler {
  #timer: NodeJS.Timeout | undefined;
  #windowPeakMiB = 0;
  #overallPeakMiB = 0;

  constructor(
    readonly pid: number,
    private readonly intervalMs = 50,
  ) {}

  /** Throws when the process cannot be read, so a wrong --pid is reported before the run. */
  read(): MemoryReading {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const rssMiB = field(status, 'VmRSS');
    if (rssMiB === undefined) throw new Error(`/proc/${this.pid}/status has no VmRSS`);
    return { rssMiB, hwmMiB: field(status, 'VmHWM') ?? rssMiB };
  }

  start(): void {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Starts a new phase; returns the current reading. */
  beginWindow(): MemoryReading {
    const reading = this.read();
    this.#windowPeakMiB = reading.rssMiB;
    return reading;
  }

  /** Highest sampled VmRSS since beginWindow(), including a final sample now. */
  windowPeakMiB(): number {
    this.#sample();
    return this.#windowPeakMiB;
  }

  overallPeakMiB(): number {
    this.#sample();
    return this.#overallPeakMiB;
  }

  #sample(): void {
    try {
      const { rssMiB } = this.read();
      this.#windowPeakMiB = Math.max(this.#windowPeakMiB, rssMiB);
      this.#overallPeakMiB = Math.max(this.#overallPeakMiB, rssMiB);
    } catch {
      // The process may have exited mid-run; the run itself will report the failures.
    }
  }
}
