import { type Decimal, formatDecimal, storedDecimal, ZERO } from "../decimal.js";
import type { DriftAction, PositionDriftAlert } from "./driftAlert.js";
import type { ExplainedPositions } from "./explainedPositions.js";
import type { InFlight } from "./inFlight.js";
import { type PositionBook, type PositionSlot, slotKey, slotOfKey } from "./slot.js";

/** How a value that is not a decimal is named in the error. */
const DRIFT = "drift check:";

/** How drift is judged. */
export interface DriftSettings {
  /**
   * How long a difference that orders in flight (sent with no result yet,
   * an open `UNKNOWN`, a working order) could explain must last before it
   * is alerted: their fills may show at the venue before IntentGate
   * writes them.
   */
  readonly settleMs: number;
  /** What drift in this book and account does to the trading state. */
  readonly actionFor: (book: PositionBook, account: string) => DriftAction;
}

/** One reading of positions: one account of a live venue, or every account of the paper ledger. */
export interface PositionReading {
  readonly book: PositionBook;
  /** The account read; absent for a reading of every account (the paper ledger). */
  readonly account?: string;
  /** Non-zero positions, `qty` signed decimal text. */
  readonly positions: readonly { readonly account: string; readonly symbol: string; readonly qty: string }[];
}

/** What one {@link DriftCheck.check} found. */
export interface DriftFindings {
  /** Differences seen twice in a row (or past `settleMs` on a busy slot): each alerted once. */
  readonly alerts: PositionDriftAlert[];
  /** Per slot read: the position no decision explains (`actual − explained − first reading`), for the drift gauge. */
  readonly unexplained: readonly { readonly slot: PositionSlot; readonly qty: string }[];
}

interface Pending {
  readonly drift: string;
  readonly since: number;
}

/** What {@link DriftCheck.snapshot} returns: plain JSON. */
export interface DriftSnapshot {
  readonly v: 1;
  /** Per slot: its position at the first reading of its scope, less what was explained then. */
  readonly base: Readonly<Record<string, string>>;
  /** Per slot: drift already alerted (so it is alerted once). */
  readonly accepted: Readonly<Record<string, string>>;
  readonly pending: Readonly<Record<string, Pending>>;
  /** Scopes (`[book, account | "*"]` as JSON) whose first reading was taken. */
  readonly scopes: readonly string[];
}

/**
 * Compares position readings with what IntentGate explains (issue 12,
 * layer 3). A slot is expected to hold `base + explained + accepted`:
 * `base` is what it held at the scope's first reading (positions that
 * predate the watcher), `explained` comes from results and order events,
 * `accepted` is drift already alerted. A difference becomes one
 * `position_drift` alert when two readings in a row show the same
 * difference that nothing in flight explains, or, when orders in flight
 * could explain it (`InFlight`), once it has lasted `settleMs` and the
 * last two readings agree. Once alerted, the difference is accepted, so each
 * unexplained change is alerted once. Pure: no I/O.
 */
export class DriftCheck {
  readonly #settings: DriftSettings;
  readonly #base = new Map<string, Decimal>();
  readonly #accepted = new Map<string, Decimal>();
  readonly #pending = new Map<string, Pending>();
  readonly #scopes = new Set<string>();

  constructor(settings: DriftSettings, snapshot?: unknown) {
    this.#settings = settings;
    if (snapshot === undefined) return;
    const s = snapshot as Partial<DriftSnapshot> | null;
    if (s?.v !== 1 || !s.base || !s.accepted || !s.pending || !Array.isArray(s.scopes))
      throw new Error("drift check: not a snapshot");
    for (const [k, v] of Object.entries(s.base)) this.#base.set(k, storedDecimal(v, DRIFT));
    for (const [k, v] of Object.entries(s.accepted)) this.#accepted.set(k, storedDecimal(v, DRIFT));
    for (const [k, p] of Object.entries(s.pending)) {
      storedDecimal(p.drift, DRIFT);
      this.#pending.set(k, p);
    }
    for (const sc of s.scopes) this.#scopes.add(sc);
  }

  /**
   * Judges one reading against `explained`; `inFlight` says how far each
   * slot may be moving right now.
   */
  check(
    reading: PositionReading,
    explained: ExplainedPositions,
    inFlight: InFlight,
    now: number,
  ): DriftFindings {
    const actual = new Map<string, Decimal>();
    for (const p of reading.positions) {
      if (reading.account !== undefined && p.account !== reading.account) continue;
      actual.set(
        slotKey({ book: reading.book, account: p.account, symbol: p.symbol }),
        storedDecimal(p.qty, DRIFT),
      );
    }
    const inScope = (key: string) => {
      const s = slotOfKey(key);
      return (
        s !== undefined &&
        s.book === reading.book &&
        (reading.account === undefined || s.account === reading.account)
      );
    };
    const keys = new Set(actual.keys());
    for (const source of [
      explained.slotKeys(),
      this.#base.keys(),
      this.#accepted.keys(),
      this.#pending.keys(),
    ])
      for (const k of source) if (inScope(k)) keys.add(k);

    const scope = JSON.stringify([reading.book, reading.account ?? "*"]);
    const first = !this.#scopes.has(scope);
    this.#scopes.add(scope);
    const alerts: PositionDriftAlert[] = [];
    const unexplained: { slot: PositionSlot; qty: string }[] = [];
    for (const key of [...keys].sort()) {
      const slot = slotOfKey(key) as PositionSlot;
      const act = actual.get(key) ?? ZERO;
      const exp = explained.qty(slot);
      if (first) set(this.#base, key, (act - exp) as Decimal);
      const base = this.#base.get(key) ?? ZERO;
      unexplained.push({ slot, qty: formatDecimal((act - exp - base) as Decimal) });
      const expected = (exp + base + (this.#accepted.get(key) ?? ZERO)) as Decimal;
      const drift = (act - expected) as Decimal;
      if (drift === 0n) {
        this.#pending.delete(key);
        continue;
      }
      const driftText = formatDecimal(drift);
      const before = this.#pending.get(key);
      const again = before !== undefined && before.drift === driftText;
      const since = before?.since ?? now;
      const settled = inFlight.explains(key, drift) ? now - since >= this.#settings.settleMs : true;
      if (again && settled) {
        this.#pending.delete(key);
        set(this.#accepted, key, ((this.#accepted.get(key) ?? ZERO) + drift) as Decimal);
        alerts.push(this.#alert(slot, expected, act, drift, now));
      } else {
        this.#pending.set(key, { drift: driftText, since });
      }
    }
    return { alerts, unexplained };
  }

  snapshot(): DriftSnapshot {
    const text = (m: Map<string, Decimal>) =>
      Object.fromEntries([...m].map(([k, v]) => [k, formatDecimal(v)]));
    return {
      v: 1,
      base: text(this.#base),
      accepted: text(this.#accepted),
      pending: Object.fromEntries(this.#pending),
      scopes: [...this.#scopes],
    };
  }

  #alert(
    slot: PositionSlot,
    expected: Decimal,
    actual: Decimal,
    drift: Decimal,
    now: number,
  ): PositionDriftAlert {
    const action = this.#settings.actionFor(slot.book, slot.account);
    return {
      v: 1,
      kind: "position_drift",
      severity: "critical",
      timestamp: now,
      dedup_key: `position_drift:${slot.book}:${slot.account}:${slot.symbol}:${formatDecimal(actual)}`,
      venue: slot.book,
      account: slot.account,
      symbol: slot.symbol,
      expected: formatDecimal(expected),
      actual: formatDecimal(actual),
      drift: formatDecimal(drift),
      action,
    };
  }
}

function set(m: Map<string, Decimal>, key: string, v: Decimal): void {
  if (v === 0n) m.delete(key);
  else m.set(key, v);
}
