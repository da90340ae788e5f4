import { createPrivateKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The RSA key that signs /service/token tokens: `<data_volume>/secret/keys/token-signing.pem` (PKCS#8,
 * mode 0600 in a 0700 directory). Created once, by whichever instance starts first; every instance sharing
 * the volume loads the same key, so a token from one is valid on all. Harbor keeps its key in
 * `<data>/secret/core/private_key.pem`; that file (PKCS#1) may be copied here to keep its tokens valid.
 *
 * Two instances starting at once on an empty volume both generate a key, but only one file ever appears:
 * each writes its own temp file and hard-links it to the final name, which fails for the later one
 * (`link` never replaces, atomically, also on NFS, where O_EXCL was historically unreliable); both then
 * read what won. A reader never sees a partial file: the name appears only once the content is synced.
 */
export const SIGNING_KEY_PATH = ['secret', 'keys', 'token-signing.pem'] as const;

/** Harbor's size; the smallest RS256 allows is 2048 (tests use it: a 4096-bit key takes seconds to make). */
export const DEFAULT_SIGNING_KEY_BITS = 4096;
const MIN_SIGNING_KEY_BITS = 2048;

export interface SigningKey {
  key: KeyObject;
  file: string;
  /** Whether this call created the file (the first start of the volume). */
  created: boolean;
}

export async function loadSigningKey(
  dataVolume: string,
  options: { bits?: number } = {},
): Promise<SigningKey> {
  const file = join(dataVolume, ...SIGNING_KEY_PATH);
  const existing = await readIfExists(file);
  if (existing !== undefined) return { key: parseSigningKey(existing, file), file, created: false };

  const dir = join(dataVolume, ...SIGNING_KEY_PATH.slice(0, -1));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pem = await generatePem(options.bits ?? DEFAULT_SIGNING_KEY_BITS);
  const temp = join(dir, `.token-signing.pem.${process.pid}.${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(pem);
    await handle.sync();
  } finally {
    await handle.close();
  }
  let created = false;
  try {
    await link(temp, file);
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  if (created) await syncDirectory(dir);
  // Whoever won, the file on the volume is the key.
  return { key: parseSigningKey(await readFile(file, 'utf8'), file), file, created };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function generatePem(bits: number): Promise<string> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      {
        modulusLength: bits,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      },
      (error, _publicKey, privateKey) => (error ? reject(error) : resolve(privateKey)),
    );
  });
}

/** An RSA private key of at least 2048 bits, in PKCS#8 or PKCS#1 PEM; anything else is a startup error. */
export function parseSigningKey(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new Error(`${file}: not a PEM private key`, { cause: error });
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < MIN_SIGNING_KEY_BITS) {
    throw new Error(`${file}: the token signing key must be RSA with at least ${MIN_SIGNING_KEY_BITS} bits`);
  }
  return key;
}

/** Makes the new directory entry durable (the file's content was synced before it was linked). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems cannot fsync a directory; the link is still in place.
  } finally {
    await handle.close();
  }
}
