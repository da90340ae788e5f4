import type { z } from 'zod';
import { DomainError } from '../../core/errors.js';

/** Reading a request's input: JSON bodies through their schema, numeric path ids. */

/** A JSON request body read through its schema: the first problem, with its path, is a 400. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DomainError(
      'request.invalid',
      `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** A numeric path id (`{robot_id}`, `{user_id}`, `{mid}`): 1 .. 2^31-1, else 400, so no out-of-range number reaches the database. */
export function positiveId(raw: string, name: string): number {
  const value = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= 2 ** 31 - 1)) {
    throw new DomainError('request.invalid', `${name} must be a positive integer`);
  }
  return value;
}
