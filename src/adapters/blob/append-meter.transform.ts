import type { Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DomainError } from '../../core/errors.js';

export interface AppendMeterOptions {
  /** Fed every byte that passes, when the caller can continue an incremental hash. */
  hash?: Hash | undefined;
  expectedLength?: number | undefined;
  maxLength?: number | undefined;
}

/**
 * Sits between the request body and the file: counts and hashes bytes as they pass, and fails the pipeline
 * the moment a length rule is broken, so an oversized body is cut off instead of written to the end.
 */
export class AppendMeter extends Transform {
  bytes = 0;
  private readonly hash: Hash | undefined;
  private readonly expectedLength: number | undefined;
  private readonly maxLength: number | undefined;

  constructor(options: AppendMeterOptions) {
    super();
    this.hash = options.hash;
    this.expectedLength = options.expectedLength;
    this.maxLength = options.maxLength;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.maxLength !== undefined && this.bytes > this.maxLength) {
      callback(new DomainError('size.invalid', `chunk exceeds the limit of ${this.maxLength} bytes`));
      return;
    }
    if (this.expectedLength !== undefined && this.bytes > this.expectedLength) {
      callback(
        new DomainError('size.invalid', `chunk is longer than the announced ${this.expectedLength} bytes`),
      );
      return;
    }
    this.hash?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.expectedLength !== undefined && this.bytes !== this.expectedLength) {
      callback(
        new DomainError(
          'size.invalid',
          `chunk has ${this.bytes} bytes but ${this.expectedLength} were announced`,
        ),
      );
      return;
    }
    callback();
  }
}
