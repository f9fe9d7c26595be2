/**
 * A ring: variable-length records passed from one producer to one consumer
 * through one SharedArrayBuffer laid out as in layout.ts. The log ring runs
 * from the main thread (which never blocks: waitForSpace is a promise) to the
 * log writer (which may block in waitForData). A recovery ring runs the other
 * way: a recovery task blocks in waitForSpaceSync, the main thread reads.
 *
 * Wake-ups. Each side has a sequence slot it sleeps on and a flag that says it
 * sleeps, so the other side signals only when someone listens (one notify per
 * publish or release, none when the peer is busy). Every control-slot access is
 * an Atomics operation, and Atomics operations are sequentially consistent, so
 * of "I store my cursor, then load your flag" and "I store my flag, then load
 * your cursor" at least one side sees the other's store: no wake-up is lost.
 *
 *   consumer, waitForData                  producer, publish
 *   c1 seq = load(DATA_SEQ)                p1 store(HEAD, reserved)
 *   c2 store(CONSUMER_SLEEPING, 1)         p2 if CAS(CONSUMER_SLEEPING, 1 -> 0):
 *   c3 if load(HEAD) moved: done           p3     add(DATA_SEQ, 1)
 *   c4 Atomics.wait(DATA_SEQ, seq)         p4     notify(DATA_SEQ)
 *   c5 store(CONSUMER_SLEEPING, 0)
 *
 * If c3 misses p1, then p2 comes after c2 and sees the flag, and p3 comes after
 * c1, so c4 either finds DATA_SEQ changed or is woken by p4. Space works the
 * same way with the roles swapped:
 *
 *   producer, waitForSpace                 consumer, release
 *   s1 seq = load(SPACE_SEQ)               r1 store(TAIL, read)
 *   s2 store(PRODUCER_WANTS_SPACE, 1)      r2 if load(PRODUCER_WANTS_SPACE) == 1:
 *   s3 if fits(length) (loads TAIL): done  r3     store(PRODUCER_WANTS_SPACE, 0)
 *   s4 await Atomics.waitAsync(SPACE_SEQ)  r4     add(SPACE_SEQ, 1); notify(SPACE_SEQ)
 *
 * The producer never clears its own flag: with two waiters, clearing could hide
 * the other's request. A flag left set costs the consumer one spare notify.
 *
 * Payload bytes are plain (non-atomic) reads and writes: the producer writes
 * them before the Atomics.store of HEAD that publishes them, and the consumer
 * reads them after the Atomics.load of HEAD, which orders them (likewise TAIL
 * for handing bytes back).
 */
import { assert } from '../assert.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import {
  CONTROL_BYTES,
  RECORD_HEADER_BYTES,
  RING_MAX_CAPACITY_BYTES,
  RING_MIN_CAPACITY_BYTES,
  SLOT_CANCELED,
  SLOT_CLOSED,
  SLOT_CONSUMER_SLEEPING,
  SLOT_DATA_SEQ,
  SLOT_HEAD,
  SLOT_PRODUCER_WANTS_SPACE,
  SLOT_SPACE_SEQ,
  SLOT_TAIL,
  WRAP_MARKER,
  isValidCapacity,
  maxRecordBytes,
  recordBytes,
} from './layout.js';

/** Atomics.waitAsync is in Node 20 but not in the ES2022 lib this project compiles against. */
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
export const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * A zeroed ring of `capacityBytes` data bytes. The capacity usually comes from
 * an option, so a bad one is an operating error that names `optionName`.
 */
export function createRingBuffer(capacityBytes: number, optionName = 'capacityBytes'): SharedArrayBuffer {
  if (!isValidCapacity(capacityBytes)) {
    throw new TidemarkError(
      ErrorCode.INVALID_OPTION,
      `${optionName} must be a power of two from ${RING_MIN_CAPACITY_BYTES} to ${RING_MAX_CAPACITY_BYTES} bytes, got ${String(capacityBytes)}`,
    );
  }
  return new SharedArrayBuffer(CONTROL_BYTES + capacityBytes);
}

/**
 * The two places in each handshake where the other thread may act: before the
 * sleeper raises its flag, and after its re-check, just before it sleeps.
 * There the windows are nanoseconds wide, so tests pass `onRaceWindow` to
 * stall in them; a handshake that can lose a wake-up then fails every run
 * instead of once in a million. Production code passes nothing.
 */
export type RaceWindow = 'before-flag' | 'before-sleep';

export interface RingEndOptions {
  onRaceWindow?: (window: RaceWindow) => void;
}

/** The views both ends build over one ring buffer. */
class RingViews {
  readonly capacity: number;
  readonly maxRecordBytes: number;
  /** The data region, for payload bytes. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  protected readonly control: Int32Array;
  /** The data region as length words (records are 4-byte aligned). */
  protected readonly words: Uint32Array;
  protected readonly mask: number;
  protected readonly race: ((window: RaceWindow) => void) | undefined;

  constructor(sab: SharedArrayBuffer, options: RingEndOptions) {
    assert(sab instanceof SharedArrayBuffer, 'a ring lives in a SharedArrayBuffer');
    const capacity = sab.byteLength - CONTROL_BYTES;
    assert(isValidCapacity(capacity), `not a ring buffer: ${sab.byteLength} bytes`);
    this.capacity = capacity;
    this.maxRecordBytes = maxRecordBytes(capacity);
    this.mask = capacity - 1;
    this.control = new Int32Array(sab, 0, CONTROL_BYTES / 4);
    this.bytes = new Uint8Array(sab, CONTROL_BYTES, capacity);
    this.view = new DataView(sab, CONTROL_BYTES, capacity);
    this.words = new Uint32Array(sab, CONTROL_BYTES, capacity / 4);
    this.race = options.onRaceWindow;
  }

  get closed(): boolean {
    return Atomics.load(this.control, SLOT_CLOSED) === 1;
  }
}

/** The producing end. reserve() never blocks; waitForSpace (a promise) or waitForSpaceSync (a worker) waits for room. */
/** Polls of a spinning wait between two looks at the clock. */
const SPIN_LOOKS = 64;

export class RingProducer extends RingViews {
  /** End of the last reserved record (uint32); HEAD trails it until publish(). */
  #reserved: number;
  #published: number;
  /** TAIL as last loaded; reloaded only when the ring looks full, to spare the consumer's cache line. */
  #tail: number;
  /** Only the producer writes CLOSED, so it keeps its own copy off the shared cache line. */
  #closed: boolean;

  constructor(sab: SharedArrayBuffer, options: RingEndOptions = {}) {
    super(sab, options);
    this.#closed = this.closed;
    this.#reserved = this.#published = Atomics.load(this.control, SLOT_HEAD) >>> 0;
    this.#tail = Atomics.load(this.control, SLOT_TAIL) >>> 0;
  }

  /**
   * Reserves room for a record of `length` bytes and returns the offset in
   * `bytes` where the caller writes its payload, or -1 if the ring is full now
   * (wait with waitForSpace(length)). Nothing is visible until publish().
   */
  reserve(length: number): number {
    assert(length >>> 0 === length && length <= this.maxRecordBytes, `bad ring record length ${length}`);
    assert(!this.#closed, 'reserve after close');
    const total = recordBytes(length);
    let offset = this.#reserved & this.mask;
    const toEnd = this.capacity - offset;
    const need = total > toEnd ? toEnd + total : total;
    if (need > this.capacity - ((this.#reserved - this.#tail) >>> 0)) {
      this.#tail = Atomics.load(this.control, SLOT_TAIL) >>> 0;
      if (need > this.free()) return -1;
    }
    if (total > toEnd) {
      this.words[offset >> 2] = WRAP_MARKER;
      this.#reserved = (this.#reserved + toEnd) >>> 0;
      offset = 0;
    }
    this.words[offset >> 2] = length;
    this.#reserved = (this.#reserved + total) >>> 0;
    return offset + RECORD_HEADER_BYTES;
  }

  /** Makes every reserved record visible with one store of HEAD, and wakes the consumer if it sleeps. */
  publish(): void {
    if (this.#reserved === this.#published) return;
    this.#published = this.#reserved;
    Atomics.store(this.control, SLOT_HEAD, this.#reserved | 0);
    if (Atomics.compareExchange(this.control, SLOT_CONSUMER_SLEEPING, 1, 0) === 1) {
      Atomics.add(this.control, SLOT_DATA_SEQ, 1);
      Atomics.notify(this.control, SLOT_DATA_SEQ, 1);
    }
  }

  /** Bytes free right now, from the consumer's latest TAIL; reserved records count as used. */
  free(): number {
    this.#tail = Atomics.load(this.control, SLOT_TAIL) >>> 0;
    const used = (this.#reserved - this.#tail) >>> 0;
    assert(used <= this.capacity, `ring cursors crossed: reserved ${this.#reserved}, tail ${this.#tail}`);
    return this.capacity - used;
  }

  /** Whether reserve(length) would succeed now (a record may need the bytes up to the end as well). */
  fits(length: number): boolean {
    const toEnd = this.capacity - (this.#reserved & this.mask);
    const total = recordBytes(length);
    return (total > toEnd ? toEnd + total : total) <= this.free();
  }

  /**
   * Resolves once reserve(length) would succeed, or the ring is closed; at
   * once if it already would. Publish before waiting: the consumer frees
   * space only by reading what was published.
   */
  async waitForSpace(length: number): Promise<void> {
    assert(length >>> 0 === length && length <= this.maxRecordBytes, `bad ring record length ${length}`);
    for (;;) {
      if (this.fits(length) || this.#closed) return;
      const seq = Atomics.load(this.control, SLOT_SPACE_SEQ);
      this.race?.('before-flag');
      Atomics.store(this.control, SLOT_PRODUCER_WANTS_SPACE, 1);
      // The consumer may have released between the check above and the flag; it then saw no flag.
      if (this.fits(length)) return;
      this.race?.('before-sleep');
      const result = waitAsync(this.control, SLOT_SPACE_SEQ, seq);
      if (result.async) await result.value;
    }
  }

  /**
   * Blocks the calling thread (a worker, or the main thread at its caller's
   * explicit choice) until reserve(length) would succeed ('space'), the
   * consumer cancels the ring ('canceled'), or `timeoutMs` passes with no
   * space freed ('timed-out'). The same handshake as waitForSpace, with Atomics.wait.
   */
  waitForSpaceSync(length: number, timeoutMs = Number.POSITIVE_INFINITY): 'space' | 'canceled' | 'timed-out' {
    assert(length >>> 0 === length && length <= this.maxRecordBytes, `bad ring record length ${length}`);
    for (;;) {
      if (this.canceled) return 'canceled';
      if (this.fits(length)) return 'space';
      const seq = Atomics.load(this.control, SLOT_SPACE_SEQ);
      this.race?.('before-flag');
      Atomics.store(this.control, SLOT_PRODUCER_WANTS_SPACE, 1);
      if (this.fits(length)) return 'space';
      if (this.canceled) return 'canceled';
      this.race?.('before-sleep');
      if (Atomics.wait(this.control, SLOT_SPACE_SEQ, seq, timeoutMs) === 'timed-out') return 'timed-out';
    }
  }

  /** Whether the consumer gave up on the ring. */
  get canceled(): boolean {
    return Atomics.load(this.control, SLOT_CANCELED) === 1;
  }

  /**
   * Marks the ring closed and wakes both ends. Records reserved but not
   * published are dropped: publish first.
   */
  close(): void {
    this.#closed = true;
    Atomics.store(this.control, SLOT_CLOSED, 1);
    Atomics.add(this.control, SLOT_DATA_SEQ, 1);
    Atomics.notify(this.control, SLOT_DATA_SEQ);
    // Our own waitForSpace promises re-check and see the ring closed.
    Atomics.add(this.control, SLOT_SPACE_SEQ, 1);
    Atomics.notify(this.control, SLOT_SPACE_SEQ);
  }
}

/** Called for each record: its payload is `bytes[offset, offset + length)`, valid until release(). */
export type RecordVisitor = (bytes: Uint8Array, offset: number, length: number) => void;

/** The consuming end. read() never blocks; waitForData blocks (a worker only). */
export class RingConsumer extends RingViews {
  /** End of the last record read (uint32). */
  #read: number;
  /** TAIL as last stored. */
  #released: number;

  constructor(sab: SharedArrayBuffer, options: RingEndOptions = {}) {
    super(sab, options);
    this.#read = this.#released = Atomics.load(this.control, SLOT_TAIL) >>> 0;
  }

  /**
   * Calls `visit` for every published record not read yet, in order, up to
   * `maxRecords`; returns how many. The records stay owned by the consumer
   * until release(). If `visit` throws, that record stays unread.
   */
  read(visit: RecordVisitor, maxRecords = Infinity): number {
    const head = Atomics.load(this.control, SLOT_HEAD) >>> 0;
    assert(
      (head - this.#released) >>> 0 <= this.capacity,
      `ring cursors crossed: head ${head}, tail ${this.#released}`,
    );
    let count = 0;
    while (this.#read !== head && count < maxRecords) {
      const offset = this.#read & this.mask;
      const length = this.words[offset >> 2]!;
      if (length === WRAP_MARKER) {
        this.#read = (this.#read + this.capacity - offset) >>> 0;
        continue;
      }
      const total = recordBytes(length);
      assert(length <= this.maxRecordBytes && offset + total <= this.capacity, `corrupt ring record at ${offset}`);
      visit(this.bytes, offset + RECORD_HEADER_BYTES, length);
      this.#read = (this.#read + total) >>> 0;
      count++;
    }
    return count;
  }

  /** Hands everything read so far back to the producer with one store of TAIL; wakes it if it waits. */
  release(): void {
    if (this.#read === this.#released) return;
    this.#released = this.#read;
    Atomics.store(this.control, SLOT_TAIL, this.#read | 0);
    if (Atomics.load(this.control, SLOT_PRODUCER_WANTS_SPACE) === 1) {
      Atomics.store(this.control, SLOT_PRODUCER_WANTS_SPACE, 0);
      Atomics.add(this.control, SLOT_SPACE_SEQ, 1);
      Atomics.notify(this.control, SLOT_SPACE_SEQ);
    }
  }

  /**
   * Gives up on the ring: a producer waiting for space (now or later) stops
   * with 'canceled' instead of waiting for a consumer that will not read.
   */
  cancel(): void {
    Atomics.store(this.control, SLOT_CANCELED, 1);
    Atomics.add(this.control, SLOT_SPACE_SEQ, 1);
    Atomics.notify(this.control, SLOT_SPACE_SEQ);
  }

  /**
   * Blocks until a record not read yet is published ('data'), the ring is
   * closed with everything read ('closed'), or `timeoutMs` passes ('timeout').
   * Unread records win over closed, so a consumer drains the ring before it stops.
   * Release what was read before a long wait: a producer waiting for space
   * otherwise waits with it. With `spinMs`, it polls that long before it sleeps.
   */
  waitForData(timeoutMs: number, spinMs = 0): 'data' | 'closed' | 'timeout' {
    assert(timeoutMs >= 0, `bad timeout ${timeoutMs}`);
    let state = this.#poll();
    if (state !== null) return state;
    const deadline = performance.now() + timeoutMs;
    // Polling first, when asked: a record expected within microseconds then costs no sleep and no wake-up.
    if (spinMs > 0) {
      for (let i = 1, until = performance.now() + Math.min(spinMs, timeoutMs); ; i++) {
        state = this.#poll();
        if (state !== null) return state;
        if (i % SPIN_LOOKS === 0 && performance.now() >= until) break;
      }
    }
    for (;;) {
      const seq = Atomics.load(this.control, SLOT_DATA_SEQ);
      this.race?.('before-flag');
      Atomics.store(this.control, SLOT_CONSUMER_SLEEPING, 1);
      state = this.#poll();
      const leftMs = deadline - performance.now();
      if (state === null && leftMs > 0) {
        this.race?.('before-sleep');
        Atomics.wait(this.control, SLOT_DATA_SEQ, seq, leftMs);
        state = this.#poll();
      }
      Atomics.store(this.control, SLOT_CONSUMER_SLEEPING, 0);
      if (state !== null) return state;
      // A producer may wake us for a publish we already saw (its CAS raced our
      // previous return), so an empty wake-up before the deadline waits again.
      if (performance.now() >= deadline) return 'timeout';
    }
  }

  #poll(): 'data' | 'closed' | null {
    // CLOSED first: once it reads 1, every HEAD published before close() is visible below.
    const closed = Atomics.load(this.control, SLOT_CLOSED) === 1;
    if (Atomics.load(this.control, SLOT_HEAD) >>> 0 !== this.#read) return 'data';
    return closed ? 'closed' : null;
  }
}
