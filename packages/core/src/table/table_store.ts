/**
 * One table's storage: its arena of row versions, its primary index, its
 * secondary indexes and its codec, with the version-chain rules:
 *
 *   primary index ─► newest version ─older─► older version ─older─► 0
 *
 * A reader at snapshot s walks from the newest version to the first with
 * versionId <= s; if that one is a delete marker, the row does not exist at s.
 * A version is "retired" once no snapshot can reach it: it is unlinked, its
 * secondary index entries are removed and its bytes are counted as dead.
 */
import { assert } from '../assert.js';
import { MAX_KEY_BYTES, VERSION_HEADER_BYTES } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { HashIndex } from '../index/hash_index.js';
import { OrderedIndex } from '../index/ordered_index.js';
import { PrimaryIndex } from '../index/primary_index.js';
import { hashBytes, makeRowCodec, type KeyCodec, type RowCodec } from '../schema/codec.js';
import type { Index, Row, TableSchema } from '../schema/types.js';
import { Arena, offsetOf, segmentOf } from './arena.js';
import type { DeferredEntries } from './index_deferred.js';

/** A secondary index with its key codec. */
export interface SecondaryIndex {
  readonly def: Index;
  readonly keyCodec: KeyCodec;
  readonly hash: HashIndex | null;
  readonly ordered: OrderedIndex | null;
  /**
   * Being built (table/index_build.ts): commits add their versions and
   * check it if unique, but reads do not use it, and it may lack versions
   * committed before the build began (so removing one it lacks is no error).
   */
  readonly building: boolean;
  /**
   * Set while a deferred build computes the entries (index_build.ts):
   * commits record the versions they add and retire here, and leave the
   * index alone.
   */
  deferred: DeferredEntries | null;
}

function emptyIndex(def: Index, keyCodec: KeyCodec, building: boolean): SecondaryIndex {
  return {
    def,
    keyCodec,
    hash: def.kind === 'hash' ? new HashIndex() : null,
    ordered: def.kind === 'ordered' ? new OrderedIndex() : null,
    building,
    deferred: null,
  };
}

export class TableStore {
  /** The current schema and its codec; a schema change replaces both (applySchema). */
  schema: TableSchema;
  codec: RowCodec;
  arena: Arena;
  primary: PrimaryIndex;
  /** The schema's indexes, in its order, then any being built. */
  secondary: readonly SecondaryIndex[];
  /** Set once the table is dropped: its memory is released and nothing may use it. */
  dropped = false;
  /** Scratch for encoding one key at a time (lookups never nest). */
  readonly keyBuf = new Uint8Array(MAX_KEY_BYTES);
  readonly keyView = new DataView(this.keyBuf.buffer);
  /** Rows live at the newest commit. */
  liveRows = 0;
  /** Whether the table's changes go to the log (false for schemaOnly tables). */
  readonly logged: boolean;

  constructor(
    readonly id: number,
    schema: TableSchema,
  ) {
    this.schema = schema;
    this.codec = makeRowCodec(schema);
    this.logged = schema.durability !== 'schemaOnly';
    this.arena = new Arena(schema.name);
    this.primary = new PrimaryIndex(this.arena);
    this.secondary = schema.indexes.map((def, i) => emptyIndex(def, this.codec.indexKeys[i]!, false));
  }

  /**
   * Moves the table to `next`, a later version of its schema: a new codec,
   * and its indexes, each keeping its entries (one being built is complete
   * now). Returns the indexes `next` adds that were not being built: empty,
   * for the caller to fill (replay builds them at once).
   */
  applySchema(next: TableSchema): SecondaryIndex[] {
    const codec = makeRowCodec(next);
    const added: SecondaryIndex[] = [];
    this.secondary = next.indexes.map((def, i) => {
      const old = this.secondary.find((s) => s.def.name === def.name);
      if (old !== undefined) return { ...old, def, keyCodec: codec.indexKeys[i]!, building: false };
      const ix = emptyIndex(def, codec.indexKeys[i]!, false);
      added.push(ix);
      return ix;
    });
    this.schema = next;
    this.codec = codec;
    return added;
  }

  /**
   * The table was dropped: nothing may use it again (`dropped`), and its
   * rows' memory is let go (queued garbage and open iterators check the flag).
   */
  drop(): void {
    this.dropped = true;
    this.liveRows = 0;
    this.secondary = [];
    this.arena = new Arena(this.name);
    this.primary = new PrimaryIndex(this.arena);
  }

  /** Starts maintaining an index of `next` (the schema with it) that reads do not use yet; returns it. */
  beginIndex(next: TableSchema, name: string): SecondaryIndex {
    const at = next.indexes.findIndex((ix) => ix.name === name);
    const ix = emptyIndex(next.indexes[at]!, makeRowCodec(next).indexKeys[at]!, true);
    this.secondary = [...this.secondary, ix];
    return ix;
  }

  /** Stops maintaining an index that was being built (its build failed). */
  abandonIndex(ix: SecondaryIndex): void {
    this.secondary = this.secondary.filter((s) => s !== ix);
  }

  /** Adds one version to one index (a build, or a commit through indexVersion). */
  indexVersionIn(ix: SecondaryIndex, ptr: number): void {
    const values = this.read(ptr, ix.def.columns);
    if (ix.hash !== null) ix.hash.add(this.secondaryHash(ix, values), ptr);
    else ix.ordered!.add(ix.keyCodec.valuesFromRow(values), this.arena.versionId(ptr), ptr);
  }

  get name(): string {
    return this.schema.name;
  }

  /** Column positions for a projection; UNKNOWN_COLUMN names the first unknown one. */
  columnPositions(names: readonly string[] | undefined): readonly number[] | undefined {
    if (names === undefined) return undefined;
    if (!Array.isArray(names))
      throw new TidemarkError(ErrorCode.UNKNOWN_COLUMN, 'columns must be an array of column names');
    return names.map((name) => {
      const column = this.schema.columnsByName.get(name);
      if (column === undefined)
        throw new TidemarkError(ErrorCode.UNKNOWN_COLUMN, `"${this.name}" has no column "${name}"`);
      return column.index;
    });
  }

  /** A secondary index by name; UNKNOWN_INDEX if there is none. */
  index(name: string): SecondaryIndex {
    const ix = this.secondary.find((s) => s.def.name === name && !s.building);
    if (ix === undefined) throw new TidemarkError(ErrorCode.UNKNOWN_INDEX, `"${this.name}" has no index "${name}"`);
    return ix;
  }

  /** Encodes `key` into keyBuf; returns its length. Throws SCHEMA_VIOLATION on a bad key. */
  encodeKey(key: unknown): number {
    const length = this.codec.key.measure(key);
    this.codec.key.encodeMeasured(this.keyBuf, this.keyView, 0);
    return length;
  }

  /** Newest version for the key in keyBuf[0, length), or 0. */
  headOfEncodedKey(length: number): number {
    return this.primary.find(hashBytes(this.keyBuf, 0, length), this.keyBuf, 0, length);
  }

  /** Hash of the primary key of the version at ptr. */
  hashAt(ptr: number): number {
    const seg = segmentOf(ptr);
    const at = offsetOf(ptr) + VERSION_HEADER_BYTES;
    const u8 = this.arena.u8s[seg]!;
    return hashBytes(u8, at, this.codec.keyLength(u8, this.arena.dvs[seg]!, at));
  }

  /** Length of the primary key at the start of the version's payload. */
  keyLengthAt(ptr: number): number {
    const seg = segmentOf(ptr);
    return this.codec.keyLength(this.arena.u8s[seg]!, this.arena.dvs[seg]!, offsetOf(ptr) + VERSION_HEADER_BYTES);
  }

  /** The version of the chain starting at `head` that snapshot `snapshot` sees, or 0 if the row is absent there. */
  visible(head: number, snapshot: number): number {
    const arena = this.arena;
    let p = head;
    while (p !== 0 && arena.versionId(p) > snapshot) p = arena.older(p);
    return p !== 0 && !arena.isDeleted(p) ? p : 0;
  }

  /** The newest version of the row that `ptr` belongs to. */
  headOf(ptr: number): number {
    const seg = segmentOf(ptr);
    const at = offsetOf(ptr) + VERSION_HEADER_BYTES;
    const u8 = this.arena.u8s[seg]!;
    const length = this.codec.keyLength(u8, this.arena.dvs[seg]!, at);
    return this.primary.find(hashBytes(u8, at, length), u8, at, length);
  }

  /** Decodes the row at ptr, all columns or only those listed. */
  read(ptr: number, columns?: readonly number[]): Row {
    const seg = segmentOf(ptr);
    const at = offsetOf(ptr) + VERSION_HEADER_BYTES;
    const length = this.arena.payloadLength(ptr);
    return columns === undefined
      ? this.codec.decode(this.arena.u8s[seg]!, this.arena.dvs[seg]!, at, length)
      : this.codec.decodeColumns(this.arena.u8s[seg]!, this.arena.dvs[seg]!, at, length, columns);
  }

  /** Adds a new (non-marker) version to every secondary index, or records it for one a deferred build fills. */
  indexVersion(ptr: number): void {
    for (const ix of this.secondary) {
      if (ix.deferred !== null) ix.deferred.add(ptr);
      else this.indexVersionIn(ix, ptr);
    }
  }

  /** Hash of a secondary key given as a row (or partial row) holding the index's columns. */
  secondaryHash(ix: SecondaryIndex, row: Row): number {
    const length = ix.keyCodec.measureFromRow(row);
    ix.keyCodec.encodeMeasured(this.keyBuf, this.keyView, 0);
    return hashBytes(this.keyBuf, 0, length);
  }

  /** Unlinks every version older than `ptr` and retires it. */
  retireOlder(ptr: number): void {
    const older = this.arena.older(ptr);
    if (older === 0) return;
    this.arena.setOlder(ptr, 0);
    this.retireChain(older);
  }

  /** Retires `ptr` and every version older than it. */
  retireChain(ptr: number): void {
    const arena = this.arena;
    for (let p = ptr; p !== 0; ) {
      const next = arena.older(p);
      if (!arena.isDeleted(p)) this.unindexVersion(p);
      arena.setOlder(p, 0);
      arena.retire(p);
      p = next;
    }
  }

  /** Removes a delete marker that every snapshot sees from the primary index, retiring its chain. */
  dropDeletedRow(marker: number): void {
    if (this.headOf(marker) !== marker) return; // the key was written again since: the marker is an ordinary old version
    this.primary.remove(this.hashAt(marker), marker);
    this.retireChain(marker);
  }

  /** Points every secondary index entry of the version at `ptr` at its copy at `copy` (the cleaner moved it). */
  repointSecondary(ptr: number, copy: number): void {
    if (this.secondary.length === 0) return;
    const versionId = this.arena.versionId(ptr);
    for (const ix of this.secondary) {
      // The cleaner waits while a build runs (it counts as an open iterator): no deferred index meets a move.
      assert(ix.deferred === null, 'a version moved during a deferred index build');
      const values = this.read(ptr, ix.def.columns);
      if (ix.hash !== null) ix.hash.replace(this.secondaryHash(ix, values), ptr, copy);
      else ix.ordered!.add(ix.keyCodec.valuesFromRow(values), versionId, copy);
    }
  }

  private unindexVersion(ptr: number): void {
    if (this.secondary.length === 0) return;
    for (const ix of this.secondary) {
      if (ix.deferred !== null) ix.deferred.remove(ptr);
      else this.unindexVersionIn(ix, ptr);
    }
  }

  /** Removes one version from one index (a retirement, or a deferred build taking one in). */
  unindexVersionIn(ix: SecondaryIndex, ptr: number): void {
    const values = this.read(ptr, ix.def.columns);
    if (ix.hash === null) ix.ordered!.remove(ix.keyCodec.valuesFromRow(values), this.arena.versionId(ptr));
    else if (ix.building) ix.hash.removeIfPresent(this.secondaryHash(ix, values), ptr);
    else ix.hash.remove(this.secondaryHash(ix, values), ptr);
  }
}
