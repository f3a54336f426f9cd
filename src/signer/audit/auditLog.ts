import { writeSync } from "node:fs";
import { type FileHandle, lstat, open } from "node:fs/promises";
import type { SecretBytes } from "../../core/auth/secretBytes.js";
import { type AuditLock, AuditLockError, lockAuditLog } from "./auditLock.js";
import {
  AUDIT_VERSION,
  type AuditEntry,
  type AuditRecord,
  canonicalAuditText,
  GENESIS_MAC,
  lineOfCanonicalText,
  macOfCanonicalText,
} from "./auditRecord.js";
import { AuditChainVerifier } from "./verifyAudit.js";

/** Where the plane writes its audit lines. */
export interface AuditSink {
  /**
   * Appends one line for `entry`; resolves with the full record once it is
   * written (and synced, per policy). `durable: true` waits for a sync
   * covering the line under `group` too (as `line` does): for a grant whose
   * record other limits rely on after a restart (the rolling windows).
   */
  append(entry: AuditEntry, opts?: { readonly durable?: boolean }): Promise<AuditRecord>;
  /** Waits for pending appends and releases the file. */
  close(): Promise<void>;
}

export type AuditLogErrorCode =
  | "unreadable"
  | "corrupt_tail"
  | "corrupt"
  | "permissions"
  | "locked"
  | "write_failed"
  | "closed";

/** The audit log cannot be opened or written. Its message names the file, never a line's content. */
export class AuditLogError extends Error {
  override readonly name = "AuditLogError";
  constructor(
    readonly code: AuditLogErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * When an appended line is made durable (`fdatasync`):
 *
 * - `"line"`: before `append` resolves, so a returned signature always has
 *   its line on disk. Syncs are still coalesced: one `fdatasync` covers every
 *   line written before it started, so concurrent appends share it.
 * - `"group"` (default): the line is written (`write(2)`, in the kernel's
 *   page cache) before `append` resolves; `fdatasync` runs in the background,
 *   one at a time and at most one start per {@link GROUP_SYNC_INTERVAL_MS}
 *   (2 ms), each covering every line written before it started. A process
 *   crash loses nothing; a power failure (or kernel crash) loses the lines
 *   written after the start of the last sync that completed: at most the last
 *   max(2 ms, one flush) + one flush of requests (≈ 2.5 ms on the dev VM;
 *   longer only while the disk itself stalls). A failed background sync fails
 *   the log: every later append is refused.
 * - `"never"`: leave flushing to the OS (tests, throw-away runs).
 *
 * `"always"` is the former name of `"line"`.
 */
export type AuditSyncPolicy = "line" | "group" | "never";

/** The policy {@link openAuditLog} uses when none is given. */
export const DEFAULT_AUDIT_SYNC: AuditSyncPolicy = "group";

export interface AuditLogOptions {
  /** The audit key: every line carries its HMAC under it (signing-plane-v1 §6). */
  readonly key: SecretBytes | Uint8Array;
  /** See {@link AuditSyncPolicy}; default {@link DEFAULT_AUDIT_SYNC}. */
  readonly sync?: AuditSyncPolicy | "always" | undefined;
  /** Called with every line of the existing file, in order, once it verified (e.g. to rebuild rolling windows). */
  readonly onRecord?: (record: AuditRecord) => void;
}

/**
 * Opens (creating, mode 0600) the append-only JSONL audit log at `path`
 * (O_APPEND) and continues its keyed chain from the last line. Before it
 * writes anything it: refuses a file readable or writable by group or others
 * (`permissions`, naming the mode to set); takes the log's exclusive lock
 * (`locked` when another signer holds it, see `auditLock.ts`); and verifies
 * EVERY line of the file under `key` (`corrupt` naming the first bad line:
 * an edited, removed, inserted, reordered or re-chained line; `corrupt_tail`
 * for a torn last line), passing each good record to `onRecord`. Each append
 * writes its whole line with one synchronous `write(2)` before it resolves,
 * so lines are in chain order and a returned record is in the file;
 * durability per {@link AuditSyncPolicy}. After a failed write or sync every
 * later append is refused (`write_failed`), since the file's tail is then
 * unknown.
 */
export async function openAuditLog(path: string, opts: AuditLogOptions): Promise<AuditSink> {
  const sync = opts.sync === "always" ? "line" : (opts.sync ?? DEFAULT_AUDIT_SYNC);
  if (sync !== "line" && sync !== "group" && sync !== "never") {
    throw new TypeError(`audit log ${path}: unknown sync policy`);
  }
  const key = Buffer.from("expose" in opts.key ? opts.key.expose() : opts.key);
  if (key.length === 0) throw new TypeError(`audit log ${path}: empty audit key`);
  await refuseSharedFile(path);
  let lock: AuditLock;
  try {
    lock = await lockAuditLog(path);
  } catch (err) {
    throw new AuditLogError(
      err instanceof AuditLockError && err.held ? "locked" : "unreadable",
      (err as Error).message,
    );
  }
  let fh: FileHandle | undefined;
  try {
    try {
      fh = await open(path, "a+", 0o600);
    } catch (err) {
      throw new AuditLogError("unreadable", `audit log ${path}: cannot open (${errCode(err)})`);
    }
    const tail = await verifyExisting(fh, path, key, opts.onRecord);
    return new AuditLog({ fh, path, key, seq: tail.seq, prevMac: tail.mac, sync, lock });
  } catch (err) {
    await fh?.close().catch(() => undefined);
    lock.release();
    key.fill(0);
    throw err;
  }
}

/** Refuses an existing audit file that group or others may read or write. */
async function refuseSharedFile(path: string): Promise<void> {
  let mode: number;
  try {
    mode = (await lstat(path)).mode;
  } catch (err) {
    if (errCode(err) === "ENOENT") return;
    throw new AuditLogError("unreadable", `audit log ${path}: cannot inspect (${errCode(err)})`);
  }
  if ((mode & 0o077) !== 0) {
    throw new AuditLogError(
      "permissions",
      `audit log ${path} has mode 0${(mode & 0o777).toString(8)}: readable or writable by group or others; run chmod 600 ${path}`,
    );
  }
}

/** Verifies every line of the open file under `key`; returns the last line's seq and MAC. */
async function verifyExisting(
  fh: FileHandle,
  path: string,
  key: Uint8Array,
  onRecord: ((record: AuditRecord) => void) | undefined,
): Promise<{ seq: number; mac: string }> {
  const verifier = new AuditChainVerifier(key);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const hint = `run "intentgate audit verify ${path} --key-file …" and repair or rotate the file`;
  let last: AuditRecord | undefined;
  let carry = Buffer.alloc(0);
  const chunk = Buffer.alloc(1 << 20);
  let position = 0;
  for (;;) {
    const { bytesRead } = await fh.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    let buf =
      carry.length === 0
        ? chunk.subarray(0, bytesRead)
        : Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
    let nl = buf.indexOf(0x0a);
    while (nl >= 0) {
      let line: string | undefined;
      try {
        line = decoder.decode(buf.subarray(0, nl));
      } catch {
        line = undefined;
      }
      const bad = line === undefined ? verifier.pushUnreadable() : verifier.push(line);
      if (bad !== undefined && !bad.ok) {
        throw new AuditLogError(
          "corrupt",
          `audit log ${path}: line ${bad.line} does not verify (${bad.problem}): edited, removed, inserted, reordered or written under another key; ${hint}`,
        );
      }
      last = verifier.lastRecord();
      if (last !== undefined) onRecord?.(last);
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(0x0a);
    }
    carry = Buffer.from(buf);
  }
  if (carry.length > 0) {
    throw new AuditLogError(
      "corrupt_tail",
      `audit log ${path}: the last line is torn (no final line break); ${hint}`,
    );
  }
  return last === undefined ? { seq: 0, mac: GENESIS_MAC } : { seq: last.seq, mac: last.mac };
}

/** Least time between the starts of two background syncs under policy `group`. */
const GROUP_SYNC_INTERVAL_MS = 2;

/** An append waiting for a sync that covers its line (policy `line`, or a durable append). */
interface SyncWaiter {
  readonly upTo: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

class AuditLog implements AuditSink {
  readonly #fh: FileHandle;
  readonly #path: string;
  readonly #key: Buffer;
  readonly #sync: AuditSyncPolicy;
  readonly #lock: AuditLock;
  #seq: number;
  #prevMac: string;
  /** Lines written by this writer, and how many of them a completed sync covers. */
  #written = 0;
  #synced = 0;
  #syncing: Promise<void> | undefined;
  #waiters: SyncWaiter[] = [];
  #lastSyncAt = Number.NEGATIVE_INFINITY;
  #syncTimer: NodeJS.Timeout | undefined;
  #failed = false;
  #closed = false;

  /** Made by {@link openAuditLog} only: an open, locked file and the chain's last line. */
  constructor(opened: {
    readonly fh: FileHandle;
    readonly path: string;
    readonly key: Buffer;
    /** The last line's sequence number and MAC (the chain continues from them). */
    readonly seq: number;
    readonly prevMac: string;
    readonly sync: AuditSyncPolicy;
    readonly lock: AuditLock;
  }) {
    this.#fh = opened.fh;
    this.#path = opened.path;
    this.#key = opened.key;
    this.#seq = opened.seq;
    this.#prevMac = opened.prevMac;
    this.#sync = opened.sync;
    this.#lock = opened.lock;
  }

  append(entry: AuditEntry, opts?: { readonly durable?: boolean }): Promise<AuditRecord> {
    if (this.#closed) return Promise.reject(new AuditLogError("closed", `audit log ${this.#path}: closed`));
    let record: AuditRecord;
    try {
      record = this.#write(entry);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#sync === "never") return Promise.resolve(record);
    if (this.#sync === "group" && opts?.durable !== true) {
      this.#startSync();
      return Promise.resolve(record);
    }
    const upTo = this.#written;
    const synced = new Promise<AuditRecord>((resolve, reject) => {
      this.#waiters.push({ upTo, resolve: () => resolve(record), reject });
    });
    this.#startSync();
    return synced;
  }

  /** Builds the next record and writes its line synchronously (one `write(2)`, O_APPEND). */
  #write(entry: AuditEntry): AuditRecord {
    if (this.#failed) {
      throw new AuditLogError(
        "write_failed",
        `audit log ${this.#path}: an earlier write failed; refusing to append`,
      );
    }
    const unsigned = {
      v: AUDIT_VERSION,
      seq: this.#seq + 1,
      time: entry.time,
      request_id: entry.request_id,
      caller: entry.caller,
      account: entry.account,
      intent: entry.intent,
      route: entry.route,
      action: entry.action,
      target: entry.target,
      guard_context: entry.guard_context,
      key: entry.key,
      cancel_capable: entry.cancel_capable,
      notional: entry.notional,
      reference_price: entry.reference_price,
      decision: entry.decision,
      reason: entry.reason,
      prev_mac: this.#prevMac,
    } as const;
    const canonical = canonicalAuditText(unsigned);
    const mac = macOfCanonicalText(this.#key, canonical);
    const record: AuditRecord = { ...unsigned, mac };
    try {
      writeAll(this.#fh.fd, Buffer.from(`${lineOfCanonicalText(canonical, mac)}\n`, "utf8"));
    } catch (err) {
      this.#fail();
      throw new AuditLogError("write_failed", `audit log ${this.#path}: write failed (${errCode(err)})`);
    }
    this.#seq = record.seq;
    this.#prevMac = mac;
    this.#written++;
    return record;
  }

  /**
   * Starts an `fdatasync` covering every line written so far, unless one
   * runs (the one running starts the next when it ends). Policy `group`
   * starts syncs at most every {@link GROUP_SYNC_INTERVAL_MS}: under load one
   * sync covers two milliseconds of lines instead of one or two lines;
   * an append waiting for its sync (a durable one) does not wait for the
   * interval (concurrent ones still share a sync, as under `line`).
   */
  #startSync(): void {
    if (this.#syncing !== undefined || this.#failed || this.#written === this.#synced) return;
    if (this.#sync === "group" && !this.#closed && this.#waiters.length === 0) {
      const wait = this.#lastSyncAt + GROUP_SYNC_INTERVAL_MS - performance.now();
      if (wait > 0) {
        this.#syncTimer ??= setTimeout(() => {
          this.#syncTimer = undefined;
          this.#startSync();
        }, wait);
        return;
      }
    }
    clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    this.#lastSyncAt = performance.now();
    const upTo = this.#written;
    this.#syncing = this.#fh.datasync().then(
      () => {
        this.#syncing = undefined;
        this.#synced = upTo;
        this.#settleWaiters();
        if (this.#written > this.#synced) this.#startSync();
      },
      (err: unknown) => {
        this.#syncing = undefined;
        this.#fail(
          new AuditLogError("write_failed", `audit log ${this.#path}: sync failed (${errCode(err)})`),
        );
      },
    );
  }

  #settleWaiters(): void {
    if (this.#waiters.length === 0) return;
    const still: SyncWaiter[] = [];
    for (const w of this.#waiters) {
      if (w.upTo <= this.#synced) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }

  /** Refuses every later append; appends waiting for a sync fail too. */
  #fail(err?: AuditLogError): void {
    this.#failed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    const error =
      err ?? new AuditLogError("write_failed", `audit log ${this.#path}: an earlier write failed`);
    for (const w of waiters) w.reject(error);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Every line written gets its sync before the file is released (a sync in flight starts the next).
    if (this.#sync !== "never") this.#startSync();
    clearTimeout(this.#syncTimer);
    while (this.#syncing !== undefined) await this.#syncing;
    try {
      await this.#fh.close();
    } finally {
      this.#lock.release();
      this.#key.fill(0);
    }
  }
}

/** Writes every byte of `bytes` at the end of the file (O_APPEND), looping over short writes. */
function writeAll(fd: number, bytes: Buffer): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

function errCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "error";
}
