/**
 * The shared-memory layout of a ring, declared once so that the producer and
 * the consumer cannot disagree about it. The log ring runs from the main
 * thread to the log writer; a recovery ring runs from a recovery task (a
 * worker) to the main thread.
 *
 * One SharedArrayBuffer holds a control block and a data region:
 *
 *   byte 0    4    8         12         16   20   24       28       32 ... 64              64 + capacity
 *   +----+----+----------+----------+----+----+--------+--------+--------+-------------------+
 *   |HEAD|TAIL| DATA_SEQ |SPACE_SEQ |SLP |WANT| CLOSED |CANCELED| (zero) |   data region     |
 *   +----+----+----------+----------+----+----+--------+--------+--------+-------------------+
 *    Int32 slots (SLP = CONSUMER_SLEEPING, WANT = PRODUCER_WANTS_SPACE)
 *
 * The data region, as the cursors see it (offset = cursor & (capacity - 1)):
 *
 *   0                                                                    capacity
 *   +------------+---------------------+--------------+-----------------+-----+
 *   | rec n+1 .. |        free         | rec k .. n-1 | rec n           |WRAP |
 *   +------------+---------------------+--------------+-----------------+-----+
 *                ^ HEAD                ^ TAIL
 *
 *   record: [u32 length][length bytes][0-3 bytes of padding]
 *   WRAP:   [u32 0xFFFFFFFF] — the rest of the region up to `capacity` is unused;
 *           the next record starts at offset 0.
 *
 * Invariants:
 * - HEAD and TAIL are byte counts since the ring was created, kept modulo 2^32
 *   (stored as int32, read with `>>> 0`). Only the producer writes HEAD and only
 *   the consumer writes TAIL.
 * - 0 <= (HEAD - TAIL) mod 2^32 <= capacity. HEAD - TAIL == capacity is a full
 *   ring, HEAD == TAIL an empty one: the cursors, not their offsets, tell them apart.
 * - capacity is a power of two in [RING_MIN_CAPACITY_BYTES, RING_MAX_CAPACITY_BYTES],
 *   so offsets are a mask of the cursor and 2^32 is a multiple of capacity.
 * - Every record and every WRAP marker starts on a 4-byte boundary, so a length
 *   word is one aligned Uint32Array element and never straddles the end.
 * - A record never wraps. It is at most capacity / 2 bytes with its header, so
 *   in an empty ring it fits at any offset, after a WRAP marker if need be.
 * - Bytes between TAIL and HEAD belong to the consumer; all others to the producer.
 */
import { assert } from '../assert.js';

/** Bytes of the control block at the start of the SharedArrayBuffer (one cache line). */
export const CONTROL_BYTES = 64;

/** Bytes published by the producer (uint32, wraps modulo 2^32). Written only by the producer. */
export const SLOT_HEAD = 0;
/** Bytes released by the consumer (uint32, wraps modulo 2^32). Written only by the consumer. */
export const SLOT_TAIL = 1;
/** Bumped by the producer to wake a sleeping consumer; the consumer Atomics.wait()s on it. */
export const SLOT_DATA_SEQ = 2;
/** Bumped by the consumer to wake a producer that wants space; the producer waits on it (Atomics.waitAsync or Atomics.wait). */
export const SLOT_SPACE_SEQ = 3;
/** 1 while the consumer is about to block or blocked on DATA_SEQ. */
export const SLOT_CONSUMER_SLEEPING = 4;
/** 1 while the producer waits for the consumer to release space. */
export const SLOT_PRODUCER_WANTS_SPACE = 5;
/** 1 once the producer closed the ring; nothing is published after it. */
export const SLOT_CLOSED = 6;
/** 1 once the consumer gave up on the ring (a failed recovery): a producer waiting for space stops. Written only by the consumer. */
export const SLOT_CANCELED = 7;
/** Slots in use; the rest of the control block is reserved (zero). */
export const CONTROL_SLOTS = 8;

/** Smallest data region. */
export const RING_MIN_CAPACITY_BYTES = 64 * 1024;
/** Largest data region: keeps HEAD - TAIL well inside uint32 and the buffer allocatable. */
export const RING_MAX_CAPACITY_BYTES = 1024 * 1024 * 1024;

/** Bytes of the length word in front of every record. */
export const RECORD_HEADER_BYTES = 4;
/** Records and markers start on this boundary. */
export const RECORD_ALIGN_BYTES = 4;
/** A length word with this value marks the end of the used region; the next record is at offset 0. */
export const WRAP_MARKER = 0xffffffff;

/** Bytes a record of `length` payload bytes takes in the data region, header and padding included. */
export function recordBytes(length: number): number {
  return RECORD_HEADER_BYTES + ((length + RECORD_ALIGN_BYTES - 1) & ~(RECORD_ALIGN_BYTES - 1));
}

/**
 * The largest payload a ring of `capacity` bytes accepts. With its header and
 * padding such a record takes at most capacity / 2 - 4 bytes, so when it does
 * not fit before the end (offset > capacity / 2) the WRAP marker and the record
 * still fit an empty ring: a producer waiting for space always gets it.
 */
export function maxRecordBytes(capacity: number): number {
  return capacity / 2 - 8;
}

/** Whether `capacity` is a valid data-region size. */
export function isValidCapacity(capacity: number): boolean {
  return (
    Number.isInteger(capacity) &&
    capacity >= RING_MIN_CAPACITY_BYTES &&
    capacity <= RING_MAX_CAPACITY_BYTES &&
    (capacity & (capacity - 1)) === 0
  );
}

assert(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT <= CONTROL_BYTES, 'control slots overflow the control block');
assert(CONTROL_BYTES % RECORD_ALIGN_BYTES === 0, 'the data region must start aligned');
assert(RECORD_HEADER_BYTES === Uint32Array.BYTES_PER_ELEMENT, 'a length word is one Uint32Array element');
assert(isValidCapacity(RING_MIN_CAPACITY_BYTES) && isValidCapacity(RING_MAX_CAPACITY_BYTES), 'capacity bounds');
assert(RING_MAX_CAPACITY_BYTES <= 2 ** 30, 'HEAD - TAIL must stay far from 2^31 so int32 storage is safe');
assert(
  recordBytes(maxRecordBytes(RING_MIN_CAPACITY_BYTES)) <= RING_MIN_CAPACITY_BYTES / 2,
  'a record fits any offset of an empty ring',
);
assert(maxRecordBytes(RING_MIN_CAPACITY_BYTES) < WRAP_MARKER, 'a length is never the WRAP marker');
