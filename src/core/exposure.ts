import {
  addDecimal,
  type Decimal,
  negDecimal,
  parseDecimal,
  storedDecimal,
  subDecimal,
  ZERO,
} from "./decimal.js";
import type { Decision } from "./decision.js";
import { type PositionMode, type PositionRef, parsePositionKey, positionKey } from "./facts.js";
import { sendKey } from "./liveOrder.js";
import { isCancelRecord, parseOpenRecord } from "./openRecord.js";
import type { Side, VenueName } from "./plan.js";
import type { PlanResult } from "./result.js";
import { decodeWorkingOrder, type WorkingOrder } from "./workingOrder.js";

/**
 * What an account holds and has open, as the exposure caps read it
 * (`limits.max_position`, `limits.max_gross_notional`): every position of the
 * account in every book, and every order of it that may still fill (working
 * orders, live orders being sent, open UNKNOWNs).
 *
 * The commit re-checks a decision that read it by comparing {@link snapshot}
 * whole with what the ledger holds, and by counting the decisions of the same
 * batch committed before it that changed the account's exposure
 * ({@link touched}, see {@link exposureTouches}): both equal means the
 * decision saw exactly what is there.
 */
export interface AccountExposure {
  readonly account: string;
  /**
   * What the ledger held when the batch was read: entry id → its exact stored
   * text. Ids are `p:<positionKey>`, `w:<working order key>`,
   * `s:<sendKey>` (being sent) and `u:<sendKey>` (open UNKNOWN).
   */
  readonly snapshot: ReadonlyMap<string, string>;
  /** Positions per {@link positionKey}: the book and the signed qty (after this batch's earlier decisions). */
  readonly positions: ReadonlyMap<string, HeldPosition>;
  /** Orders that may still fill, per snapshot id (after this batch's earlier decisions). */
  readonly orders: ReadonlyMap<string, ExposureOrder>;
  /**
   * {@link orders} summed per book ({@link positionKey} of the account, the
   * order's venue, mode and symbol) and side, so a cap reads one entry per
   * book however many orders rest in it (kept with {@link orders}).
   */
  readonly pending: ReadonlyMap<string, PendingBook>;
  /**
   * The version of the books the snapshot was read from, for a ledger that
   * versions them (Redis: a new one at every write, "" for none yet), which
   * its commit compares instead of the snapshot; undefined for one that
   * compares the snapshot (SQLite).
   */
  readonly version?: string | undefined;
  /** Decisions earlier in this batch whose writes change this account's exposure. */
  readonly touched: number;
}

/** What may still fill in one book: the orders' remaining qty per side, and how many orders. */
export interface PendingBook {
  readonly ref: PositionRef;
  readonly buy: Decimal;
  readonly sell: Decimal;
  /** Orders counted (a book with an order of zero remaining still needs a price). */
  readonly count: number;
}

/** A position held, with its book. */
export interface HeldPosition {
  readonly ref: PositionRef;
  readonly qty: Decimal;
}

/** An order that may still fill, as the exposure caps count it. */
export interface ExposureOrder {
  readonly venue: VenueName;
  readonly mode: PositionMode;
  readonly symbol: string;
  readonly side: Side;
  /** What may still fill: a working order's qty less its fill; a send's or UNKNOWN's whole qty. */
  readonly remaining: Decimal;
}

/** Snapshot id prefixes, one per kind of entry (shared by both ledgers). */
export const EXPOSURE_IDS = { position: "p:", working: "w:", sending: "s:", unknown: "u:" } as const;

/**
 * Reads an account's exposure from a ledger snapshot. Throws on an entry that
 * is not what its id says (a corrupt ledger is never decided on a guess) or
 * that belongs to another account.
 */
export function exposureFromSnapshot(
  account: string,
  snapshot: ReadonlyMap<string, string>,
  version?: string,
): AccountExposure {
  const x = new ExposureBuilder(account);
  for (const [id, text] of snapshot) {
    const entry = readEntry(id, text);
    if (entry?.account !== account)
      throw new Error(`exposure of ${account}: ${id} is not one of its entries`);
    x.add(id, text, entry);
  }
  return x.build(version);
}

/** One ledger entry, read: the account it counts toward and what it holds. */
type ReadEntry =
  | { readonly account: string; readonly position: HeldPosition }
  | { readonly account: string; readonly order: ExposureOrder };

/** Collects one account's entries into an {@link AccountExposure}. */
class ExposureBuilder {
  readonly #snapshot = new Map<string, string>();
  readonly #positions = new Map<string, HeldPosition>();
  readonly #orderMaps: OrderMaps;
  constructor(readonly account: string) {
    this.#orderMaps = { account, orders: new Map(), pending: new Map() };
  }

  add(id: string, text: string, entry: ReadEntry): void {
    this.#snapshot.set(id, text);
    if ("position" in entry) this.#positions.set(id.slice(2), entry.position);
    else setOrder(this.#orderMaps, id, entry.order);
  }

  build(version?: string): AccountExposure {
    const { account } = this;
    return {
      account,
      snapshot: this.#snapshot,
      positions: this.#positions,
      orders: this.#orderMaps.orders,
      pending: this.#orderMaps.pending,
      version,
      touched: 0,
    };
  }
}

/** The maps {@link setOrder} keeps together. */
interface OrderMaps {
  readonly account: string;
  readonly orders: Map<string, ExposureOrder>;
  readonly pending: Map<string, PendingBook>;
}

/**
 * Puts `order` under `id` (undefined: removes what is there), keeping the
 * book's sums. A book's entry is replaced, never changed in place, so a
 * batch's copy of the map can share the entries it has not changed.
 */
function setOrder(x: OrderMaps, id: string, order: ExposureOrder | undefined): void {
  const was = x.orders.get(id);
  if (was !== undefined) addPending(x, was, -1);
  if (order === undefined) x.orders.delete(id);
  else {
    x.orders.set(id, order);
    addPending(x, order, 1);
  }
}

function addPending(x: OrderMaps, o: ExposureOrder, sign: 1 | -1): void {
  const ref: PositionRef = { account: x.account, symbol: o.symbol, venue: o.venue, mode: o.mode };
  const key = positionKey(ref);
  const was = x.pending.get(key);
  const count = (was?.count ?? 0) + sign;
  if (count === 0) {
    x.pending.delete(key);
    return;
  }
  const qty = sign === 1 ? o.remaining : negDecimal(o.remaining);
  const buy = was?.buy ?? ZERO;
  const sell = was?.sell ?? ZERO;
  x.pending.set(key, {
    ref: was?.ref ?? ref,
    buy: o.side === "BUY" ? addDecimal(buy, qty) : buy,
    sell: o.side === "SELL" ? addDecimal(sell, qty) : sell,
    count,
  });
}

/**
 * Reads one ledger entry by its snapshot id; undefined for one that is no
 * exposure (a cancel plan's record). Throws on text that is not what its id
 * says. An order's or record's reading is kept under its id with the text it
 * was read from ({@link READ}): resting orders are read again by every batch
 * that touches their account, and decoding them was most of what the caps
 * cost an account with many.
 */
function readEntry(id: string, text: string): ReadEntry | undefined {
  const prefix = id.slice(0, 2);
  if (prefix === EXPOSURE_IDS.position) return readPosition(id.slice(2), text);
  const known = READ.get(id);
  // the same text under the same id is the same reading (comparing the texts is cheaper than hashing them)
  if (known !== undefined && known.text === text) return known.entry ?? undefined;
  const entry = readOrderEntry(id, prefix, text);
  if (READ.size >= MAX_READ) READ.clear();
  READ.set(id, { text, entry: entry ?? null });
  return entry;
}

/**
 * Order and record readings by snapshot id, with the exact text each was
 * read from (entry null: a cancel's record, no exposure). A reading depends
 * on the id's kind and the text alone; the map is emptied whole at
 * {@link MAX_READ} ids, so many distinct orders cost memory no more than
 * that (they are decoded again, as before).
 */
const READ = new Map<string, { readonly text: string; readonly entry: ReadEntry | null }>();
const MAX_READ = 16_384;

function readPosition(key: string, text: string): ReadEntry {
  const ref = parsePositionKey(key);
  if (ref === undefined) throw new Error(`ledger position field ${key.slice(0, 80)} is not a position`);
  return { account: ref.account, position: { ref, qty: storedDecimal(text, `position ${key}`) } };
}

function readOrderEntry(id: string, prefix: string, text: string): ReadEntry | undefined {
  if (prefix === EXPOSURE_IDS.working) {
    const order = decodeWorkingOrder(text);
    return { account: order.account, order: workingExposure(order) };
  }
  if (prefix !== EXPOSURE_IDS.sending && prefix !== EXPOSURE_IDS.unknown)
    throw new Error(`unknown exposure entry ${id.slice(0, 80)}`);
  const record = parseOpenRecord(text);
  if (record === undefined) throw new Error(`ledger record ${id.slice(0, 80)} is not an open record`);
  if (isCancelRecord(record)) return undefined;
  const { venue, symbol, account } = record.ref;
  return { account, order: liveOrderExposure(record.result, venue, symbol, id) };
}

/**
 * A live order being sent or open UNKNOWN, as the exposure caps count it: its
 * whole qty on its side (the result it was decided with names both). Throws,
 * naming `what`, when the result names neither.
 */
function liveOrderExposure(
  result: Pick<PlanResult, "side" | "qty">,
  venue: VenueName,
  symbol: string,
  what: string,
): ExposureOrder {
  const { side, qty } = result;
  const remaining = qty === null ? undefined : parseDecimal(qty);
  if ((side !== "BUY" && side !== "SELL") || remaining === undefined)
    throw new Error(`live order ${what.slice(0, 80)} names no side and qty`);
  return { venue, mode: "live", symbol, side, remaining };
}

/** A working order as the exposure caps count it: what is left of it. */
function workingExposure(order: WorkingOrder): ExposureOrder {
  const qty = storedDecimal(order.qty, `working order ${order.key} qty`);
  const filled = storedDecimal(order.fill_qty, `working order ${order.key} fill_qty`);
  return {
    venue: order.venue,
    mode: order.mode,
    symbol: order.symbol,
    side: order.side,
    remaining: subDecimal(qty, filled),
  };
}

/**
 * The accounts whose exposure a decision's writes change: the position it
 * sets, the order it opens (resting, or sent live), the orders it closes
 * (named by their events). The commit counts them per account, as the
 * batch's overlay did, so a decision decided after an earlier one of its
 * batch commits only when that one did.
 */
export function exposureTouches(d: Decision): string[] {
  // each account once, in the order found (a decision names one or two: a short list beats a Set)
  const out: string[] = [];
  const e = d.effects;
  if (e.setPosition) addOnce(out, e.setPosition.account);
  if (e.openOrder) addOnce(out, e.openOrder.account);
  if (e.orderEvents) for (const ev of e.orderEvents) addOnce(out, ev.account);
  const record = d.sendRecord;
  if (record && !isCancelRecord(record)) addOnce(out, record.ref.account);
  else if (d.live) addOnce(out, d.live.order.account);
  return out;
}

function addOnce(list: string[], item: string): void {
  if (!list.includes(item)) list.push(item);
}

/** An account's exposure a batch's overlay keeps up to date as it decides. */
export interface BatchExposure extends AccountExposure {
  readonly positions: Map<string, HeldPosition>;
  readonly orders: Map<string, ExposureOrder>;
  readonly pending: Map<string, PendingBook>;
  touched: number;
}

/** A private copy of `x` for one batch's overlay (the snapshot is shared: it is what was read). */
export const batchExposure = (x: AccountExposure): BatchExposure => ({
  ...x,
  positions: new Map(x.positions),
  orders: new Map(x.orders),
  pending: new Map(x.pending),
});

/**
 * Applies `d`'s writes to `x`, as its commit makes them, for a decision that
 * touches the account ({@link exposureTouches}).
 */
export function applyToExposure(x: BatchExposure, d: Decision): void {
  const { positions } = x;
  const e = d.effects;
  if (e.setPosition && e.setPosition.account === x.account) {
    const { account, symbol, venue, mode, value } = e.setPosition;
    const key = positionKey(e.setPosition);
    if (value === "0") positions.delete(key);
    else
      positions.set(key, {
        ref: { account, symbol, venue, mode },
        qty: storedDecimal(value, () => `position ${key}`),
      });
  }
  if (e.openOrder && e.openOrder.account === x.account)
    setOrder(x, EXPOSURE_IDS.working + e.openOrder.key, workingExposure(e.openOrder));
  for (const key of e.closeOrders ?? []) setOrder(x, EXPOSURE_IDS.working + key, undefined);
  const live = d.live;
  if (live && live.order.account === x.account) {
    const id = EXPOSURE_IDS.sending + sendKey({ lane: d.lane, streamId: d.streamId });
    setOrder(x, id, liveOrderExposure(d.result, live.venue, live.order.symbol, id));
  }
  x.touched++;
}

/**
 * The exposure of each of `accounts` from every ledger entry that may be
 * exposure (`[id, text]`, ids as in {@link AccountExposure.snapshot}), each
 * entry read once; an account with none gets an empty one. Throws on an
 * entry that is not what its id says, whoever's it is.
 */
export function exposureSnapshots(
  accounts: readonly string[],
  entries: Iterable<readonly [string, string]>,
): Map<string, AccountExposure> {
  const builders = new Map(accounts.map((a) => [a, new ExposureBuilder(a)]));
  for (const [id, text] of entries) {
    const entry = readEntry(id, text);
    if (entry !== undefined) builders.get(entry.account)?.add(id, text, entry);
  }
  return new Map([...builders].map(([a, b]) => [a, b.build()]));
}

/** Whether a snapshot read now equals the one a decision read (same ids, same texts). */
function sameSnapshot(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, text] of a) if (b.get(id) !== text) return false;
  return true;
}

/**
 * The commit-side half of `checks.exposure`, for one atomic commit of a
 * batch (the embedded ledger uses it; lua/commit.lua does the same): each
 * account's snapshot is compared with the ledger once, before the first
 * decision writes, and the decisions committed since are counted per
 * account. A decision's check holds when both match what it was decided on.
 */
export class ExposureCommit {
  readonly #held = new Map<string, boolean>();
  readonly #touched = new Map<string, number>();

  /**
   * @param decisions the batch, before any of it is written
   * @param read the ledger's exposure entries of an account now (`[snapshot id, text]`)
   */
  constructor(
    decisions: readonly Decision[],
    read: (account: string) => Iterable<readonly [string, string]>,
  ) {
    for (const d of decisions) {
      const x = d.checks.exposure;
      if (x === undefined || this.#held.has(x.account)) continue;
      this.#held.set(x.account, sameSnapshot(new Map(read(x.account)), x.snapshot));
    }
  }

  /** Whether a decision's exposure check holds now. */
  holds(x: NonNullable<Decision["checks"]["exposure"]>): boolean {
    return this.#held.get(x.account) === true && (this.#touched.get(x.account) ?? 0) === x.touched;
  }

  /** Counts a committed decision's writes toward the accounts they touch. */
  committed(d: Decision): void {
    for (const a of exposureTouches(d)) this.#touched.set(a, (this.#touched.get(a) ?? 0) + 1);
  }
}
