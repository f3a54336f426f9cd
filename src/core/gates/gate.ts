import type { BusEntry } from "../busEntry.js";
import type { DecisionChecks } from "../decision.js";
import type { Facts, RateWindow } from "../facts.js";
import type { ParsedEntry, ParseEntryOutcome } from "../parseEntry.js";
import type { Permit } from "../permit/permitToken.js";
import type { Plan, VenueName } from "../plan.js";
import type { Policy } from "../policy.js";
import type { Reason } from "../reasons.js";
import type { Reference } from "../referencePrice.js";

/** What every gate is handed: the entry, the policy snapshot, the facts read for the batch, and the decision time. */
export interface GateInput {
  readonly entry: Pick<BusEntry, "lane" | "id" | "fields">;
  readonly policy: Policy;
  readonly facts: Facts;
  readonly now: number;
  /** Gate 1's answer when the caller already parsed the entry (to read its facts). */
  readonly preparsed?: ParseEntryOutcome;
}

/** What the gates found so far; each gate may add to it. */
export interface Evaluation {
  readonly parsed?: ParsedEntry;
  /** A signature on the entry was verified at gate 2 (an entry let through unsigned says `false`). */
  readonly authenticated: boolean;
  /** Passed gates 2 and 3 (authentication, source and lane): the entry may claim its plan_id. */
  readonly admitted?: boolean;
  readonly permit?: Permit;
  /** Where the order goes once every gate passed. */
  readonly route?: { readonly venue: VenueName; readonly mode: "paper" | "live" };
  /** The reference price the limits gate used (live or configured), recorded in the result. */
  readonly reference?: Extract<Reference, { readonly kind: "price" }>;
  /** Set by the limits gate when `duplicate_window_ms` is checked: the plan's `duplicateKeyOf` key. */
  readonly duplicateKey?: string;
  /** Set by the limits gate when `max_daily_notional` applies: the account's notional that day once this plan is placed. */
  readonly dailyNotional?: { readonly account: string; readonly day: string; readonly value: string };
  /** Set by the limits gate when the plan counts against its source's rate window. */
  readonly countRate?: RateWindow;
  /** Shared state read so far, re-checked at commit. */
  readonly checks: DecisionChecks;
}

/** What a gate found (merged into the {@link Evaluation}) and the shared state it read (re-checked at commit). */
export interface GateFindings {
  readonly found?: Partial<Omit<Evaluation, "checks">>;
  readonly checks?: DecisionChecks;
}

/**
 * One gate's answer: pass, or a denial with its registered reason (always
 * `DENIED`: gates 1 to 10 only check; failing to execute is the execution
 * step's, after the chain). Either way it may carry what it found and read.
 */
export type GateOutcome =
  | ({ readonly ok: true } & GateFindings)
  | ({ readonly ok: false; readonly reason: Reason } & GateFindings);

/** A named gate: a pure check of its input and what earlier gates found. */
export interface Gate {
  readonly name: string;
  run(input: GateInput, ev: Evaluation): GateOutcome;
}

/** `T` with its readonly marks removed: an object a gate or the runner fills in before handing it on. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Pass. */
export const ALLOW: GateOutcome = { ok: true };

/** A denial with `reason`, plus what the gate found and read. */
export const deny = (reason: Reason, extra: GateFindings = {}): GateOutcome => ({
  ok: false,
  reason,
  ...extra,
});

/**
 * The source whose own namespace an entry claims in: the plan's source for an
 * entry let through unsigned, `undefined` for a signed one (see `claimKey`).
 */
export function unsignedSourceOf(ev: Evaluation): string | undefined {
  return ev.authenticated ? undefined : ev.parsed?.plan.source;
}

/** The plan, for gates after gate 1 (which guarantees it). */
export function planOf(ev: Evaluation): Plan {
  if (!ev.parsed) throw new Error("gate ran before the plan was parsed");
  return ev.parsed.plan;
}
