import { type FileHandle, open } from "node:fs/promises";
import {
  AUDIT_VERSION,
  type AuditEntry,
  type AuditRecord,
  auditHash,
  formatAuditLine,
  GENESIS_HASH,
  parseAuditLine,
} from "./auditRecord.js";

/** Where the plane writes its audit lines. */
export interface AuditSink {
  /** Appends one line for `entry`; resolves with the full record once it is written (and synced). */
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

export interface AuditLogOptions {
  /**
   * `"always"` (default): `fdatasync` after every line, before `append`
   * resolves, so a returned signature always has its line on disk.
   * `"never"`: leave flushing to the OS (tests, throw-away runs).
   */
  readonly sync?: "always" | "never";
}

/**
 * Opens (creating, mode 0600) the append-only JSONL audit log at `path`
 * (O_APPEND) and continues its hash chain from the last line. A file whose
 * last line is torn (no final line break) or is not a valid line with a
 * matching hash is refused with {@link AuditLogError} `corrupt_tail`: run
 * `intentgate audit verify` and repair by hand. Appends are serialised; after
 * a failed write every later append is refused (`write_failed`), since the
 * file's tail is then unknown. One writer per file: two processes appending
 * to one file would fork the chain.
 */
export async function openAuditLog(path: string, opts: AuditLogOptions = {}): Promise<AuditSink> {
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
    return new AuditLog(fh, path, seq, prevHash, opts.sync ?? "always");
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

class AuditLog implements AuditSink {
  readonly #fh: FileHandle;
  readonly #path: string;
  readonly #sync: "always" | "never";
  #seq: number;
  #prevHash: string;
  #queue: Promise<unknown> = Promise.resolve();
  #failed = false;
  #closed = false;

  constructor(fh: FileHandle, path: string, seq: number, prevHash: string, sync: "always" | "never") {
    this.#fh = fh;
    this.#path = path;
    this.#seq = seq;
    this.#prevHash = prevHash;
    this.#sync = sync;
  }

  append(entry: AuditEntry): Promise<AuditRecord> {
    if (this.#closed) return Promise.reject(new AuditLogError("closed", `audit log ${this.#path}: closed`));
    const run = this.#queue.then(() => this.#write(entry));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #write(entry: AuditEntry): Promise<AuditRecord> {
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
    const record: AuditRecord = { ...unsigned, hash: auditHash(unsigned) };
    try {
      await this.#fh.appendFile(`${formatAuditLine(record)}\n`, "utf8");
      if (this.#sync === "always") await this.#fh.datasync();
    } catch (err) {
      this.#failed = true;
      throw new AuditLogError("write_failed", `audit log ${this.#path}: write failed (${errCode(err)})`);
    }
    this.#seq = record.seq;
    this.#prevHash = record.hash;
    return record;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await this.#fh.close();
  }
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
