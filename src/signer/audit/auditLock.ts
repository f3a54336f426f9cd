import { chmod, open } from "node:fs/promises";

/** Why the audit log's lock could not be taken. */
export class AuditLockError extends Error {
  override readonly name = "AuditLockError";
  constructor(
    message: string,
    /** True when another holder has the lock (else the lock file could not be made or opened). */
    readonly held: boolean,
  ) {
    super(message);
  }
}

/** A held lock; {@link release} gives it back (the kernel does too when the process dies). */
export interface AuditLock {
  readonly path: string;
  release(): void;
}

/**
 * Takes the exclusive lock of one audit log (signing-plane-v1 §6: one signer
 * process at a time holds the log): an SQLite file `<audit>.lock` (mode
 * 0600) held in exclusive locking mode. SQLite's locks are POSIX record
 * locks on the file, so the kernel releases them when the process dies (no
 * stale lock after a crash), a second process is refused at once, and a
 * second lock in the same process is refused too. Throws
 * {@link AuditLockError} when another holder has it.
 */
export async function lockAuditLog(auditPath: string): Promise<AuditLock> {
  const path = `${auditPath}.lock`;
  try {
    const fh = await open(path, "a", 0o600);
    await fh.close();
    await chmod(path, 0o600);
  } catch (err) {
    throw new AuditLockError(
      `audit log ${auditPath}: cannot create its lock file ${path} (${codeOf(err)})`,
      false,
    );
  }
  const { default: Database } = await import("better-sqlite3");
  let db: InstanceType<typeof Database> | undefined;
  try {
    db = new Database(path, { timeout: 0 });
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("COMMIT");
  } catch (err) {
    db?.close();
    const busy = codeOf(err) === "SQLITE_BUSY" || codeOf(err) === "SQLITE_LOCKED";
    throw new AuditLockError(
      busy
        ? `audit log ${auditPath} is held by another signer process (lock ${path}): one signer per audit log; stop the other one or give this one its own audit.path`
        : `audit log ${auditPath}: cannot lock ${path} (${codeOf(err)})`,
      busy,
    );
  }
  let held: InstanceType<typeof Database> | undefined = db;
  return {
    path,
    release() {
      held?.close();
      held = undefined;
    },
  };
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "error";
}
