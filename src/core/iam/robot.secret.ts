import { pbkdf2 as pbkdf2Callback, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RobotSecret } from '../../ports/metadata-store.js';

/**
 * Robot secrets as Harbor keeps them (src/common/utils/encrypt.go, src/controller/robot): generated ones
 * are 32 characters of [A-Za-z0-9] with a lower-case letter, an upper-case letter and a digit; stored as
 * PBKDF2-HMAC-SHA256, 4096 iterations, a 16-byte key in hex, under a random per-robot salt. The secret
 * itself is never stored or logged: it is shown once, when created or refreshed.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const SECRET_LENGTH = 32;
const ITERATIONS = 4096;
const KEY_BYTES = 16;
export const MIN_SECRET_LENGTH = 8;
export const MAX_SECRET_LENGTH = 128;

/** Harbor's rule for a secret a user chooses: 8 to 128 characters with a lower, an upper and a digit. */
export function isValidSecret(secret: string): boolean {
  return (
    secret.length >= MIN_SECRET_LENGTH &&
    secret.length <= MAX_SECRET_LENGTH &&
    /[a-z]/.test(secret) &&
    /[A-Z]/.test(secret) &&
    /[0-9]/.test(secret)
  );
}

/** `length` characters of ALPHABET, uniformly: bytes past the last whole multiple of 62 are dropped. */
function randomString(length: number): string {
  const limit = 256 - (256 % ALPHABET.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += ALPHABET[byte % ALPHABET.length];
    }
  }
  return out;
}

/** A new random secret that satisfies isValidSecret (drawn again in the rare case it does not). */
export function generateSecret(): string {
  for (;;) {
    const secret = randomString(SECRET_LENGTH);
    if (isValidSecret(secret)) return secret;
  }
}

function pbkdf2(secret: string, salt: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2Callback(secret, salt, ITERATIONS, KEY_BYTES, 'sha256', (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Hashes `secret` under a new random salt. */
export async function hashSecret(secret: string): Promise<RobotSecret> {
  const salt = randomString(SECRET_LENGTH);
  return { hash: (await pbkdf2(secret, salt)).toString('hex'), salt };
}

/** Whether `secret` is the one `stored` was made from, compared in constant time. */
export async function verifySecret(secret: string, stored: RobotSecret): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'hex');
  const actual = await pbkdf2(secret, stored.salt);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Spends the time of one verification without a stored secret, so an unknown robot name answers as slowly
 * as a wrong secret does and response times do not tell which names exist.
 */
export async function verifyNothing(secret: string): Promise<false> {
  await pbkdf2(secret, randomString(SECRET_LENGTH));
  return false;
}
