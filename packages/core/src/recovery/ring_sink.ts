/**
 * A recovery task's end of its ring: each sealed batch becomes one ring
 * record, and the shared doorbell is rung so the main thread (which waits on
 * the doorbell of all rings at once) wakes. When the ring is full the task
 * blocks until the main thread has linked what it holds, or until the main
 * thread cancels the ring (another task failed): then it stops with CANCELED.
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import { RingProducer } from '../ring/ring.js';
import type { BatchSink } from './batch.js';

/** Thrown inside a task whose ring the main thread canceled; its code crosses the thread boundary as CANCELED. */
export class RecoveryCanceled extends TidemarkError {
  constructor() {
    super(ErrorCode.CANCELED, 'recovery canceled');
  }
}

export class RingBatchSink implements BatchSink {
  private readonly producer: RingProducer;
  private readonly bell: Int32Array;

  constructor(ring: SharedArrayBuffer, bell: SharedArrayBuffer) {
    this.producer = new RingProducer(ring);
    this.bell = new Int32Array(bell);
  }

  put(bytes: Uint8Array, length: number): void {
    const producer = this.producer;
    let at = producer.reserve(length);
    if (at < 0) {
      if (producer.waitForSpaceSync(length) === 'canceled') throw new RecoveryCanceled();
      at = producer.reserve(length);
    }
    producer.bytes.set(bytes.subarray(0, length), at);
    producer.publish();
    ring(this.bell);
  }

  /** Closes the ring: everything is published. */
  close(): void {
    this.producer.close();
    ring(this.bell);
  }
}

/** Wakes the main thread if it waits on the doorbell. */
export function ring(bell: Int32Array): void {
  Atomics.add(bell, 0, 1);
  Atomics.notify(bell, 0);
}
