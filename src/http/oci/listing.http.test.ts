import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, pushImage, startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import { MediaType } from '../../core/oci/media-types.js';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
  const image = await pushImage(app, 'library/paged', 'a');
  for (const tag of ['B', 'a-b', 'a.b', 'a_b', 'z', '0']) {
    await app.berth.server.inject({
      method: 'PUT',
      url: `/v2/library/paged/manifests/${tag}`,
      headers: { authorization: ADMIN_AUTH, 'content-type': MediaType.ociManifest },
      payload: image.bytes,
    });
  }
  await pushImage(app, 'library/second', 'v1');
});
afterAll(async () => {
  await app.close();
});

function get(url: string) {
  return app.berth.server.inject({ method: 'GET', url, headers: { authorization: ADMIN_AUTH } });
}

describe('tag and catalog listings', () => {
  it('lists tags in byte order', async () => {
    expect((await get('/v2/library/paged/tags/list')).json()).toEqual({
      name: 'library/paged',
      tags: ['0', 'B', 'a', 'a-b', 'a.b', 'a_b', 'z'],
    });
  });

  it('paginates with n and last, with a Link to the next page only while more follow', async () => {
    const first = await get('/v2/library/paged/tags/list?n=3');
    expect(first.json().tags).toEqual(['0', 'B', 'a']);
    expect(first.headers.link).toBe('</v2/library/paged/tags/list?last=a&n=3>; rel="next"');
    const second = await get('/v2/library/paged/tags/list?n=3&last=a');
    expect(second.json().tags).toEqual(['a-b', 'a.b', 'a_b']);
    const third = await get('/v2/library/paged/tags/list?n=3&last=a_b');
    expect(third.json().tags).toEqual(['z']);
    expect(third.headers.link).toBeUndefined();
    const zero = await get('/v2/library/paged/tags/list?n=0');
    expect(zero.json().tags).toEqual([]);
    expect(zero.headers.link).toBeUndefined();
    const lastOnly = await get('/v2/library/paged/tags/list?last=a_b');
    expect(lastOnly.json().tags).toEqual(['z']);
    expect((await get('/v2/library/paged/tags/list?n=-1')).statusCode).toBe(400);
  });

  it('lists the catalog with pagination', async () => {
    expect((await get('/v2/_catalog')).json()).toEqual({ repositories: ['library/paged', 'library/second'] });
    const page = await get('/v2/_catalog?n=1');
    expect(page.json()).toEqual({ repositories: ['library/paged'] });
    expect(page.headers.link).toBe('</v2/_catalog?last=library%2Fpaged&n=1>; rel="next"');
  });
});
