import { statfs } from 'node:fs/promises';
import type { VolumeCapacity, VolumeProbe } from '../../core/overview/system-info.js';

/**
 * The capacity of the filesystem under a directory, as Harbor measures its registry storage
 * (statfs: blocks × block size in all, available blocks × block size free).
 */
export class StatfsVolumeProbe implements VolumeProbe {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  async capacity(): Promise<VolumeCapacity> {
    const stats = await statfs(this.#path);
    return { total: stats.blocks * stats.bsize, free: stats.bavail * stats.bsize };
  }
}
