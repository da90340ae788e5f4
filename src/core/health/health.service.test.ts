import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.js';
import { HealthService } from './health.service.js';

describe('HealthService', () => {
  it('is healthy when every check passes, with core first', async () => {
    const health = new HealthService({
      checks: [
        { name: 'database', check: () => Promise.resolve() },
        { name: 'storage', check: () => Promise.resolve() },
      ],
    });
    expect(await health.health()).toEqual({
      status: 'healthy',
      components: [
        { name: 'core', status: 'healthy' },
        { name: 'database', status: 'healthy' },
        { name: 'storage', status: 'healthy' },
      ],
    });
  });

  it('gives short, address-free reasons for failures and logs the whole error', async () => {
    const logged: string[] = [];
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432'), { code: 'ECONNREFUSED' });
    const health = new HealthService({
      checks: [
        { name: 'database', check: () => Promise.reject(refused) },
        {
          name: 'redis',
          check: () => Promise.reject(new DomainError('unavailable', 'redis does not answer')),
        },
        { name: 'storage', check: () => Promise.reject(new Error('/data/registry: secret path')) },
        { name: 'jobservice', check: () => new Promise<void>(() => undefined) },
      ],
      timeoutMs: 50,
      onFailure: (name, error) => logged.push(`${name}: ${(error as Error).message}`),
    });
    const result = await health.health();
    expect(result.status).toBe('unhealthy');
    expect(result.components).toEqual([
      { name: 'core', status: 'healthy' },
      { name: 'database', status: 'unhealthy', error: 'ECONNREFUSED' },
      { name: 'redis', status: 'unhealthy', error: 'redis does not answer' },
      { name: 'storage', status: 'unhealthy', error: 'check failed' },
      { name: 'jobservice', status: 'unhealthy', error: 'no answer within 50 ms' },
    ]);
    expect(logged).toContain('database: connect ECONNREFUSED 10.1.2.3:5432');
    expect(JSON.stringify(result)).not.toContain('10.1.2.3');
  });

  it('runs the checks at most once per cacheMs, sharing a run in flight', async () => {
    let now = 0;
    let runs = 0;
    const health = new HealthService({
      checks: [{ name: 'database', check: () => Promise.resolve(void (runs += 1)) }],
      cacheMs: 1_000,
      now: () => now,
    });
    await Promise.all([health.health(), health.health(), health.health()]);
    now = 999;
    await health.health();
    expect(runs).toBe(1);
    now = 1_000;
    await health.health();
    expect(runs).toBe(2);
  });

  it('reports core unhealthy once draining, at once despite the cache', async () => {
    const health = new HealthService({ checks: [{ name: 'database', check: () => Promise.resolve() }] });
    await health.health();
    expect(health.draining).toBe(false);
    health.drain();
    expect(health.draining).toBe(true);
    const result = await health.health();
    expect(result.status).toBe('unhealthy');
    expect(result.components[0]).toEqual({
      name: 'core',
      status: 'unhealthy',
      error: 'shutting down: draining in-flight requests',
    });
  });
});
