import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSecret, hashSecret, isValidSecret, verifyNothing, verifySecret } from './robot.secret.js';

describe('robot secrets', () => {
  it('generates 32 letters and digits with a lower, an upper and a digit, never the same twice', () => {
    const secrets = Array.from({ length: 200 }, generateSecret);
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(isValidSecret(secret)).toBe(true);
    }
    expect(new Set(secrets).size).toBe(secrets.length);
  });

  it.each([
    ['Abcdefg1', true],
    ['Abcdef1', false],
    [`A1${'b'.repeat(126)}`, true],
    [`A1${'b'.repeat(127)}`, false],
    ['abcdefg12', false],
    ['ABCDEFG12', false],
    ['Abcdefghi', false],
  ])('takes %j as a chosen secret: %s', (secret, valid) => {
    expect(isValidSecret(secret)).toBe(valid);
  });

  it("stores Harbor's PBKDF2-HMAC-SHA256 (4096 iterations, 16 bytes, hex) under a random salt", async () => {
    const stored = await hashSecret('Secret123');
    expect(stored.hash).toBe(pbkdf2Sync('Secret123', stored.salt, 4096, 16, 'sha256').toString('hex'));
    expect(stored.salt).toMatch(/^[A-Za-z0-9]{32}$/);
    const again = await hashSecret('Secret123');
    expect(again.salt).not.toBe(stored.salt);
    expect(again.hash).not.toBe(stored.hash);
  });

  it('verifies the right secret only', async () => {
    const stored = await hashSecret('Secret123');
    expect(await verifySecret('Secret123', stored)).toBe(true);
    expect(await verifySecret('Secret124', stored)).toBe(false);
    expect(await verifySecret('', stored)).toBe(false);
    expect(await verifySecret('Secret123', { hash: 'not hex', salt: stored.salt })).toBe(false);
    expect(await verifyNothing('Secret123')).toBe(false);
  });
});
