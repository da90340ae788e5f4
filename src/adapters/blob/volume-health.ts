import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DomainError } from '../../core/errors.js';

/**
 * The health check of the data volume: writes a few random bytes to `<data_volume>/health/`, reads them
 * back and removes the file, which is what pushes and pulls need of it (a full, read-only or hung NFS
 * volume fails here). The file is named per host and process, so instances sharing the volume never touch
 * each other's; a crash between write and remove leaves at most that one small file, rewritten by the
 * next check of the same name.
 */
export class VolumeHealthCheck {
  readonly name = 'storage';
  readonly #dir: string;
  readonly #file: string;

  constructor(dataVolume: string) {
    this.#dir = join(dataVolume, 'health');
    this.#file = join(this.#dir, `probe-${hostname()}-${process.pid}`);
  }

  async check(): Promise<void> {
    // Every time (one cheap call a second at most): an operator may have removed the directory.
    await mkdir(this.#dir, { recursive: true });
    const written = randomBytes(32);
    try {
      await writeFile(this.#file, written);
      const read = await readFile(this.#file);
      if (!read.equals(written)) {
        throw new DomainError('unavailable', 'the data volume returned other bytes than were written');
      }
    } finally {
      await rm(this.#file, { force: true }).catch(() => undefined);
    }
  }
}
