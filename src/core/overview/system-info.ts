/** What GET /systeminfo reports about this instance: fixed at start, from package.json and the configuration. */
export interface SystemSettings {
  /** Berth's version, from package.json (`0.1.0`). */
  version: string;
  /** `berth.self_registration`. */
  selfRegistration: boolean;
  /** `berth.project_creation_restriction`. */
  projectCreationRestriction: 'adminonly' | 'everyone';
  /** harbor.yml's storage backend (`filesystem` unless another is configured). */
  storageProvider: string;
}

/** Bytes of the filesystem that holds the data volume (GET /systeminfo/volumes). */
export interface VolumeCapacity {
  total: number;
  /** Available to Berth: what an unprivileged process may still write. */
  free: number;
}

export interface VolumeProbe {
  capacity(): Promise<VolumeCapacity>;
}
