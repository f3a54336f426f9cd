import { writeSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import {
  AUDIT_VERSION,
  type AuditEntry,
  type AuditRecord,
  canonicalAuditText,
  GENESIS_HASH,
  hashCanonicalText,
  lineOfCanonicalText,
  parseAuditLine,
} from "./auditRecord.js";

/** Where the plane writes its audit lines. */
export interface AuditSink {
  /** Appends one line for `entry`; resolves with the full record once it is written (and synced, per policy). */
  append(entry: AuditEntry): Promise<AuditRecord>;
  /** Waits for pending appends and releases the file. */
  close(): Promise<void>;
}

export type AuditLogErrorCode = "unreadable" | "corrupt_tail" | "write_failed" | "closed";

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
  /** See {@link AuditSyncPolicy}; default {@link DEFAULT_AUDIT_SYNC}. */
  readonly sync?: AuditSyncPolicy | "always" | undefined;
}

/**
 * Opens (creating, mode 0600) the append-only JSONL audit log at `path`
 * (O_APPEND) and continues its hash chain from the last line. A file whose
 * last line is torn (no final line break) or is not a valid line with a
 * matching hash is refused with {@link AuditLogError} `corrupt_tail`: run
 * `intentgate audit verify` and repair by hand. Each append writes its whole
 * line with one synchronous `write(2)` before it resolves, so lines are in
 * chain order and a returned record is in the file; durability per
 * {@link AuditSyncPolicy}. After a failed write or sync every later append is
 * refused (`write_failed`), since the file's tail is then unknown. One writer
 * per file: two processes appending to one file would fork the chain.
 */
export async function openAuditLog(path: string, opts: AuditLogOptions = {}): Promise<AuditSink> {
  const sync = opts.sync === "always" ? "line" : (opts.sync ?? DEFAULT_AUDIT_SYNC);
  if (sync !== "line" && sync !== "group" && sync !== "never") {
    throw new TypeError(`audit log ${path}: unknown sync policy`);
  }
  let fh: FileHandle;
  try {
    fh = await open(path, "a+", 0o600);
  } catch (err) {
    throw new AuditLogError("unreadable", `audit log ${path}: cannot open (${errCode(err)})`);
  }
  try {
    const tail = await readLastLine(fh, path);
    let seq = 0;
    let prevHash = GENESIS_HASH;
    if (tail !== undefined) {
      const parsed = parseAuditLine(tail);
      if (!parsed.ok) {
        throw new AuditLogError(
          "corrupt_tail",
          `audit log ${path}: the last line is not a valid audit line (${parsed.problem}); run "intentgate audit verify ${path}"`,
        );
      }
      seq = parsed.record.seq;
      prevHash = parsed.record.hash;
    }
    return new AuditLog(fh, path, seq, prevHash, sync);
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

/** Least time between the starts of two background syncs under policy `group`. */
const GROUP_SYNC_INTERVAL_MS = 2;

/** An append waiting for a sync that covers its line (policy `line`). */
interface SyncWaiter {
  readonly upTo: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

class AuditLog implements AuditSink {
  readonly #fh: FileHandle;
  readonly #path: string;
  readonly #sync: AuditSyncPolicy;
  #seq: number;
  #prevHash: string;
  /** Lines written by this writer, and how many of them a completed sync covers. */
  #written = 0;
  #synced = 0;
  #syncing: Promise<void> | undefined;
  #waiters: SyncWaiter[] = [];
  #lastSyncAt = Number.NEGATIVE_INFINITY;
  #syncTimer: NodeJS.Timeout | undefined;
  #failed = false;
  #closed = false;

  constructor(fh: FileHandle, path: string, seq: number, prevHash: string, sync: AuditSyncPolicy) {
    this.#fh = fh;
    this.#path = path;
    this.#seq = seq;
    this.#prevHash = prevHash;
    this.#sync = sync;
  }

  append(entry: AuditEntry): Promise<AuditRecord> {
    if (this.#closed) return Promise.reject(new AuditLogError("closed", `audit log ${this.#path}: closed`));
    let record: AuditRecord;
    try {
      record = this.#write(entry);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#sync === "never") return Promise.resolve(record);
    this.#startSync();
    if (this.#sync === "group") return Promise.resolve(record);
    const upTo = this.#written;
    return new Promise<AuditRecord>((resolve, reject) => {
      this.#waiters.push({ upTo, resolve: () => resolve(record), reject });
    });
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
      target_keys: [...entry.target_keys],
      guard_context_keys: [...entry.guard_context_keys],
      decision: entry.decision,
      reason: entry.reason,
      prev_hash: this.#prevHash,
    } as const;
    const canonical = canonicalAuditText(unsigned);
    const hash = hashCanonicalText(canonical);
    const record: AuditRecord = { ...unsigned, hash };
    try {
      writeAll(this.#fh.fd, Buffer.from(`${lineOfCanonicalText(canonical, hash)}\n`, "utf8"));
    } catch (err) {
      this.#fail();
      throw new AuditLogError("write_failed", `audit log ${this.#path}: write failed (${errCode(err)})`);
    }
    this.#seq = record.seq;
    this.#prevHash = hash;
    this.#written++;
    return record;
  }

  /**
   * Starts an `fdatasync` covering every line written so far, unless one
   * runs (the one running starts the next when it ends). Policy `group`
   * starts syncs at most every {@link GROUP_SYNC_INTERVAL_MS}: under load one
   * sync covers two milliseconds of lines instead of one or two lines.
   */
  #startSync(): void {
    if (this.#syncing !== undefined || this.#failed || this.#written === this.#synced) return;
    if (this.#sync === "group" && !this.#closed) {
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
    await this.#fh.close();
  }
}

/** Writes every byte of `bytes` at the end of the file (O_APPEND), looping over short writes. */
function writeAll(fd: number, bytes: Buffer): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** The last line (without its break) of the file, `undefined` when empty; a missing final break is `corrupt_tail`. */
async function readLastLine(fh: FileHandle, path: string): Promise<string | undefined> {
  const { size } = await fh.stat();
  if (size === 0) return undefined;
  const last = Buffer.alloc(1);
  await fh.read(last, 0, 1, size - 1);
  if (last[0] !== 0x0a) {
    throw new AuditLogError(
      "corrupt_tail",
      `audit log ${path}: the last line is torn (no final line break); run "intentgate audit verify ${path}"`,
    );
  }
  // Read backwards from the final break until the break before the last line.
  const end = size - 1;
  let chunk = 4096;
  for (;;) {
    const start = Math.max(0, end - chunk);
    const buf = Buffer.alloc(end - start);
    await fh.read(buf, 0, buf.length, start);
    const nl = buf.lastIndexOf(0x0a);
    if (nl >= 0) return buf.subarray(nl + 1).toString("utf8");
    if (start === 0) return buf.toString("utf8");
    chunk *= 2;
  }
}

function errCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "error";
}
