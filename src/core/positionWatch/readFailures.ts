import type { VenueUnreadableAlert } from "./driftAlert.js";
import type { PositionBook } from "./slot.js";

interface ScopeHealth {
  /** Last successful read, ms; null when none yet. */
  readonly lastRead: number | null;
  /** When the current run of failures was last alerted; null while reads succeed. */
  readonly alertedAt: number | null;
}

/**
 * Which venue accounts the watcher cannot read, so it says so instead of
 * staying silent (issue 12): the first failed read after a good one (or at
 * start) raises `venue_unreadable`, repeated every `repeatMs` while reads
 * keep failing. Pure; restorable from {@link snapshot}.
 */
export class ReadFailures {
  readonly #repeatMs: number;
  readonly #scopes = new Map<string, ScopeHealth>();

  constructor(repeatMs: number, snapshot?: unknown) {
    this.#repeatMs = repeatMs;
    if (snapshot === undefined) return;
    if (typeof snapshot !== "object" || snapshot === null) throw new Error("read failures: not a snapshot");
    for (const [k, v] of Object.entries(snapshot as Record<string, ScopeHealth>)) this.#scopes.set(k, v);
  }

  /** A read succeeded. */
  succeeded(book: PositionBook, account: string, now: number): void {
    this.#scopes.set(scopeKey(book, account), { lastRead: now, alertedAt: null });
  }

  /** A read failed: the alert to raise now, if any. */
  failed(book: PositionBook, account: string, error: string, now: number): VenueUnreadableAlert | undefined {
    const key = scopeKey(book, account);
    const h = this.#scopes.get(key) ?? { lastRead: null, alertedAt: null };
    if (h.alertedAt !== null && now - h.alertedAt < this.#repeatMs) return undefined;
    this.#scopes.set(key, { ...h, alertedAt: now });
    return {
      v: 1,
      kind: "venue_unreadable",
      severity: "critical",
      timestamp: now,
      dedup_key: `venue_unreadable:${book}:${account}`,
      venue: book,
      account,
      error,
      last_read: h.lastRead,
    };
  }

  /** The last successful read of an account, ms; undefined when none. */
  lastRead(book: PositionBook, account: string): number | undefined {
    return this.#scopes.get(scopeKey(book, account))?.lastRead ?? undefined;
  }

  snapshot(): Record<string, ScopeHealth> {
    return Object.fromEntries(this.#scopes);
  }
}

const scopeKey = (book: PositionBook, account: string) => JSON.stringify([book, account]);
