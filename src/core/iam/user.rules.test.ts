import { describe, expect, it } from 'vitest';
import { isDomainError } from '../errors.js';
import { checkComment, checkEmail, checkPassword, checkRealname, checkUsername } from './user.rules.js';

function refused(check: () => unknown): string {
  try {
    check();
  } catch (error) {
    if (isDomainError(error, 'request.invalid')) return error.message;
    throw error;
  }
  throw new Error('expected request.invalid');
}

describe("Harbor's user rules", () => {
  it('accepts passwords of 8 to 128 characters with upper, lower and digit', () => {
    expect(checkPassword('Harbor12345')).toBe('Harbor12345');
    expect(checkPassword('Aa345678')).toBe('Aa345678');
    expect(checkPassword(`Aa1${'x'.repeat(125)}`)).toHaveLength(128);
  });

  it.each([
    ['too short', 'Aa34567'],
    ['too long', `Aa1${'x'.repeat(126)}`],
    ['no uppercase', 'harbor12345'],
    ['no lowercase', 'HARBOR12345'],
    ['no digit', 'HarborHarbor'],
    ['empty', ''],
  ])('refuses a password that is %s', (_why, password) => {
    expect(refused(() => checkPassword(password))).toMatch(/8 to 128 characters/);
  });

  it('accepts usernames of 1 to 255 characters without special characters', () => {
    expect(checkUsername('a')).toBe('a');
    expect(checkUsername('dev.user-1_x@corp')).toBe('dev.user-1_x@corp');
    expect(checkUsername('é'.repeat(255))).toHaveLength(255);
  });

  it.each([',', '"', '~', '#', '$', '%', ':', '\n', '\u0000'])('refuses %j in a username', (char) => {
    expect(refused(() => checkUsername(`a${char}b`))).toBe('username contains illegal characters');
  });

  it('refuses an empty or too long username', () => {
    expect(refused(() => checkUsername(''))).toBe('username with illegal length');
    expect(refused(() => checkUsername('x'.repeat(256)))).toBe('username with illegal length');
  });

  it('takes an empty email as none and checks the form of a given one', () => {
    expect(checkEmail('')).toBe('');
    expect(checkEmail('dev@example.com')).toBe('dev@example.com');
    expect(checkEmail('first.last@sub.example.org')).toBe('first.last@sub.example.org');
    for (const bad of ['dev', 'dev@', '@example.com', 'dev@example', 'a b@example.com', 'dev@@example.com']) {
      expect(refused(() => checkEmail(bad))).toBe('email with illegal format');
    }
    expect(refused(() => checkEmail(`${'a'.repeat(250)}@example.com`))).toBe('email with illegal format');
  });

  it('bounds the real name and the comment', () => {
    expect(checkRealname('Ada Lovelace')).toBe('Ada Lovelace');
    expect(refused(() => checkRealname('x'.repeat(256)))).toBe('realname with illegal length');
    expect(refused(() => checkRealname('a#b'))).toBe('realname contains illegal characters');
    expect(checkComment('c'.repeat(30))).toHaveLength(30);
    expect(refused(() => checkComment('c'.repeat(31)))).toBe('comment with illegal length');
  });
});
