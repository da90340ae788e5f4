import { describe, expect, it } from 'vitest';
import { isValidProjectName, isValidRepositoryName, isValidTag, parseRepositoryName } from './names.js';

describe('repository names', () => {
  it.each(['library/nginx', 'a/b/c', 'team-1/app_x', 'p/a.b', 'p/a__b', 'p/a---b', 'x/0'])(
    'accepts %s',
    (name) => {
      expect(isValidRepositoryName(name)).toBe(true);
    },
  );

  it.each([
    '',
    'Library/nginx',
    'library/../etc',
    'library/./x',
    '/library/x',
    'library/x/',
    'library//x',
    'library/-x',
    'library/x-',
    'library/a___b',
    'library/a..b',
    `library/${'a'.repeat(250)}`,
    'library/x%2f',
  ])('refuses %j', (name) => {
    expect(isValidRepositoryName(name)).toBe(false);
  });

  it('requires a project', () => {
    expect(parseRepositoryName('library/nginx').project).toBe('library');
    expect(() => parseRepositoryName('nginx')).toThrow(/<project>\/<repository>/);
  });

  it('validates tags and project names', () => {
    expect(isValidTag('v1.0_rc-1')).toBe(true);
    expect(isValidTag('a'.repeat(128))).toBe(true);
    expect(isValidTag('a'.repeat(129))).toBe(false);
    expect(isValidTag('.hidden')).toBe(false);
    expect(isValidTag('-x')).toBe(false);
    expect(isValidProjectName('library')).toBe(true);
    expect(isValidProjectName('Library')).toBe(false);
  });
});
