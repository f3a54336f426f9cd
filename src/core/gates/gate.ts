import type { BusEntry } from "../busEntry.js";
import type { DecisionChecks } from "../decision.js";
import type { Facts, RateWindow } from "../facts.js";
import type { LiveOrder } from "../liveOrder.js";
import type { ParsedEntry, ParseEntryOutcome } from "../parseEntry.js";
import type { Permit } from "../permit/permitToken.js";
import type { Plan, VenueName } from "../plan.js";
import type { Policy } from "../policy.js";
import type { Reason } from "../reasons.js";

/** What every gate is handed: the entry, the policy snapshot, the facts read for the batch, and the decision time. */
export interface GateInput {
  readonly entry: Pick<BusEntry, "lane" | "id" | "fields">;
  readonly policy: Policy;
  readonly facts: Facts;
  readonly now: number;
  /** Gate 1's answer when the caller already parsed the entry (to read its facts). */
  readonly preparsed?: ParseEntryOutcome;
}

/** A paper fill worked out by the execution gate. */
export interface PaperFill {
  readonly account: string;
  readonly symbol: string;
  readonly qty: string;
  readonly price: string;
  /** Position before and after, canonical signed decimal text. */
  readonly before: string;
  readonly after: string;
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
  /** Set by the limits gate when the plan counts against its source's rate window. */
  readonly countRate?: RateWindow;
  readonly fill?: PaperFill;
  /** The live order, when the route is live and every gate passed. */
  readonly live?: LiveOrder;
  /** Shared state read so far, re-checked at commit. */
  readonly checks: DecisionChecks;
}

/** One gate's answer: allow, or a typed denial, plus what it found and read either way. */
export interface GateOutcome {
  readonly ok: boolean;
  readonly reason?: Reason;
  /** `FAILED` for execution failures; every other denial is `DENIED`. */
  readonly kind?: "DENIED" | "FAILED";
  readonly found?: Partial<Omit<Evaluation, "checks">>;
  readonly checks?: DecisionChecks;
}

/** A named gate: a pure function of its input and what earlier gates found. */
export interface Gate {
  readonly name: string;
  run(input: GateInput, ev: Evaluation): GateOutcome;
}

/** Allow. */
export const ALLOW: GateOutcome = { ok: true };

/** A `DENIED` outcome with `reason`. */
export const deny = (reason: Reason, extra: Omit<GateOutcome, "ok" | "reason"> = {}): GateOutcome => ({
  ok: false,
  reason,
  kind: "DENIED",
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
