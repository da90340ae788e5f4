import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { isDomainError } from '../../core/errors.js';
import { readPaging, readQ, readSort, setPageHeaders } from './api-query.js';

describe('readQ', () => {
  const q = (text: string, allowed = ['name', 'size', 'tags', 'op_time']) =>
    readQ(new URLSearchParams({ q: text }), allowed);

  it('reads every term kind of Harbor grammar', () => {
    const terms = q('name=~nginx,size=[10~100],tags={a b},op_time=[2020-01-01 00:00:00~]');
    expect(terms.get('name')).toEqual({ kind: 'fuzzy', value: 'nginx' });
    expect(terms.get('size')).toEqual({ kind: 'range', min: '10', max: '100' });
    expect(terms.get('tags')).toEqual({ kind: 'or', values: ['a', 'b'] });
    expect(terms.get('op_time')).toEqual({ kind: 'range', min: '2020-01-01 00:00:00' });
    expect(q('name="a,b"').get('name')).toEqual({ kind: 'exact', value: 'a,b' });
    expect(q('tags=(x "y z")').get('tags')).toEqual({ kind: 'and', values: ['x', 'y z'] });
  });

  it('refuses unknown keys and malformed terms', () => {
    for (const text of ['owner=me', 'name', '=x', 'size=[10]']) {
      let error: unknown;
      try {
        q(text);
      } catch (caught) {
        error = caught;
      }
      expect(isDomainError(error, 'request.invalid'), text).toBe(true);
    }
  });
});

describe('paging', () => {
  it('reads page and page_size, sets X-Total-Count and Link keeping the other parameters', async () => {
    const app = Fastify();
    app.get('/list', (request, reply) => {
      const listing = readPaging(request);
      setPageHeaders(reply, listing, 25);
      reply.send({ page: listing.page, size: listing.pageSize, sort: readSort(listing.query, ['name']) });
    });
    const middle = await app.inject({ url: '/list?page=2&page_size=10&q=name%3D~a&sort=-name' });
    expect(middle.json()).toEqual({ page: 2, size: 10, sort: [{ field: 'name', descending: true }] });
    expect(middle.headers['x-total-count']).toBe('25');
    expect(middle.headers.link).toBe(
      '</list?page=1&page_size=10&q=name%3D%7Ea&sort=-name>; rel="prev" , </list?page=3&page_size=10&q=name%3D%7Ea&sort=-name>; rel="next"',
    );
    const last = await app.inject({ url: '/list?page=3' });
    expect(last.headers.link).toBe('</list?page=2&page_size=10>; rel="prev"');
    expect((await app.inject({ url: '/list?page_size=101' })).statusCode).toBe(500);
    await app.close();
  });
});
