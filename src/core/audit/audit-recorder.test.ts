import { describe, expect, it } from 'vitest';
import type { NewAuditLog } from '../../ports/audit-log-store.js';
import { AuditRecorder, type AuditEvent, type AuditLookups } from './audit-recorder.js';

/** The recorder against an in-memory store that can be made to fail, with counted lookups. */
function harness(options: { batchSize?: number; capacity?: number } = {}) {
  const written: NewAuditLog[][] = [];
  const errors: unknown[] = [];
  const dropped: number[] = [];
  const lookups = { projects: 0, users: 0 };
  let failing = false;
  let release: (() => void) | undefined;
  const store = {
    async appendAuditLogs(entries: readonly NewAuditLog[]): Promise<void> {
      if (release === undefined && failing) throw new Error('database down');
      if (release !== undefined) await new Promise<void>((resolve) => (release = resolve));
      written.push([...entries]);
    },
  };
  const projects: Record<string, number> = { library: 7 };
  const directory: AuditLookups = {
    findProjectByName(name) {
      lookups.projects += 1;
      const projectId = projects[name];
      return Promise.resolve(projectId === undefined ? undefined : { projectId });
    },
    findUserById(userId) {
      lookups.users += 1;
      return Promise.resolve(userId === 3 ? { username: 'carol' } : undefined);
    },
  };
  const recorder = new AuditRecorder({
    store,
    lookups: directory,
    intervalMs: 0,
    ...options,
    onError: (error) => errors.push(error),
    onDropped: (count) => dropped.push(count),
  });
  return {
    recorder,
    written,
    errors,
    dropped,
    lookups,
    fail: (value: boolean) => (failing = value),
    /** Makes the next write wait until `resume()` is called. */
    hold: () => (release = () => undefined),
    resume: () => {
      const go = release;
      release = undefined;
      go?.();
    },
  };
}

function event(resource: string, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    operation: 'pull',
    resourceType: 'artifact',
    resource,
    username: 'admin',
    opTime: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const resources = (batches: NewAuditLog[][]) => batches.flat().map((entry) => entry.resource);

describe('AuditRecorder', () => {
  it('buffers without writing until flushed, then writes in order in batches', async () => {
    const { recorder, written } = harness({ batchSize: 2 });
    recorder.record(event('a'));
    expect(recorder.pending).toBe(1);
    expect(written).toEqual([]);
    recorder.record(event('b'));
    recorder.record(event('c'));
    await recorder.flush();
    expect(written.map((batch) => batch.length).reduce((sum, n) => sum + n, 0)).toBe(3);
    expect(written.every((batch) => batch.length <= 2)).toBe(true);
    expect(resources(written)).toEqual(['a', 'b', 'c']);
    expect(recorder.pending).toBe(0);
  });

  it('resolves project names and member user ids once per batch', async () => {
    const { recorder, written, lookups } = harness();
    recorder.record(event('x', { project: { name: 'library' } }));
    recorder.record(event('y', { project: { name: 'library' } }));
    recorder.record(event('z', { project: { name: 'gone' } }));
    recorder.record(event('w', { project: { id: 12 } }));
    recorder.record(event('', { resourceUserId: 3, resourceType: 'member' }));
    recorder.record(event('', { resourceUserId: 99, resourceType: 'member' }));
    recorder.record(event('none'));
    await recorder.flush();
    expect(written.flat().map((entry) => [entry.resource, entry.projectId])).toEqual([
      ['x', 7],
      ['y', 7],
      ['z', 0],
      ['w', 12],
      ['carol', 0],
      ['user 99', 0],
      ['none', 0],
    ]);
    expect(lookups).toEqual({ projects: 2, users: 2 });
  });

  it('keeps a failed batch, in order, for the next write', async () => {
    const { recorder, written, errors, fail } = harness();
    recorder.record(event('first'));
    fail(true);
    await recorder.flush();
    expect(errors).toHaveLength(1);
    expect(recorder.pending).toBe(1);
    recorder.record(event('second'));
    fail(false);
    await recorder.flush();
    expect(resources(written)).toEqual(['first', 'second']);
  });

  it('drops and counts what exceeds its capacity instead of growing', async () => {
    const { recorder, written, dropped } = harness({ capacity: 2, batchSize: 100 });
    for (const resource of ['a', 'b', 'c', 'd']) recorder.record(event(resource));
    expect(recorder.pending).toBe(2);
    await recorder.flush();
    expect(resources(written)).toEqual(['a', 'b']);
    expect(dropped).toEqual([2]);
  });

  it('writes as soon as a batch is full', async () => {
    const { recorder, written } = harness({ batchSize: 2 });
    recorder.record(event('a'));
    expect(written).toEqual([]);
    recorder.record(event('b'));
    // No flush() here: the second event filled a batch, which started a write on its own.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(resources(written)).toEqual(['a', 'b']);
  });

  it('never overlaps writes: a flush during a write waits and then writes what came meanwhile', async () => {
    const { recorder, written, hold, resume } = harness();
    recorder.record(event('a'));
    hold();
    const first = recorder.flush();
    await Promise.resolve();
    recorder.record(event('b'));
    const second = recorder.flush();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(written).toEqual([]);
    resume();
    await Promise.all([first, second]);
    expect(written.map((batch) => batch.map((entry) => entry.resource))).toEqual([['a'], ['b']]);
  });

  it('writes the rest on close and records nothing after', async () => {
    const { recorder, written } = harness();
    recorder.record(event('last'));
    await recorder.close();
    recorder.record(event('late'));
    await recorder.flush();
    expect(resources(written)).toEqual(['last']);
  });
});
