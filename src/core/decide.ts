import { buildResult } from "./buildResult.js";
import type { BusEntry } from "./busEntry.js";
import { cancelAllScope } from "./cancelExecution.js";
import { claimKey } from "./claimKey.js";
import { type DailyRef, dailyKey, utcDay } from "./dailyNotional.js";
import type { Decision, DecisionEffects } from "./decision.js";
import { duplicateKeyOf } from "./duplicateKey.js";
import { type ExecutionPlan, planExecution } from "./executionPlan.js";
import type { EntryRef, Facts, FactsQuery, PositionRef, RateWindow } from "./facts.js";
import { positionKey, rateKey } from "./facts.js";
import { capFor } from "./gates/accountCaps.js";
import { type Evaluation, type GateInput, unsignedSourceOf } from "./gates/gate.js";
import { GATE_CHAIN } from "./gates/gateChain.js";
import { runGates } from "./gates/runGates.js";
import { type ParseEntryOutcome, parseEntry } from "./parseEntry.js";
import { peekPermitId } from "./permit/permitToken.js";
import { DEFAULT_ACCOUNT } from "./plan.js";
import type { Limits, Policy } from "./policy.js";
import { reason } from "./reasons.js";
import type { OrderScope } from "./workingOrder.js";

/**
 * An entry ready to be decided: gate 1 already run (so its facts can be
 * looked up first), or set aside without parsing because it reached the
 * delivery limit, or marked unreadable because gate 1 threw (it never should;
 * if it does, that entry alone gets `internal_error`).
 */
export type ClassifiedEntry =
  | { readonly kind: "parsed"; readonly entry: BusEntry; readonly parsed: ParseEntryOutcome }
  | { readonly kind: "dead_letter"; readonly entry: BusEntry }
  | { readonly kind: "unreadable"; readonly entry: BusEntry };

/**
 * Runs gate 1 on an entry, unless it was already delivered `maxDeliveries`
 * times: that one is not parsed at all (whatever made it fail before cannot
 * stop it now) and goes to the DLQ. Never throws.
 */
export function classifyEntry(
  entry: BusEntry,
  opts: { readonly maxDeliveries?: number } = {},
): ClassifiedEntry {
  if (opts.maxDeliveries !== undefined && entry.deliveries >= opts.maxDeliveries)
    return { kind: "dead_letter", entry };
  try {
    return { kind: "parsed", entry, parsed: parseEntry(entry.fields) };
  } catch {
    return { kind: "unreadable", entry };
  }
}

/**
 * The facts a batch of entries may read, decided at time `now`. With
 * `limits`, also what the configured limits read for each place plan: its
 * duplicate-order mark (`duplicate_window_ms`), its account's daily notional
 * (`max_daily_notional`), open orders (`max_open_orders`) and exposure
 * (`max_position`, `max_gross_notional`); each costs reads, so only when
 * set. Reduce-only plans are exempt from the exposure caps and read none.
 */
export function factsQueryFor(
  classified: readonly ClassifiedEntry[],
  now: number,
  opts: { readonly limits?: Limits } = {},
): FactsQuery {
  const limits = opts.limits;
  const wantDuplicates = limits?.duplicateWindowMs !== undefined;
  const day = utcDay(now);
  const daily = new Map<string, DailyRef>();
  const openAccounts = new Set<string>();
  const exposureAccounts = new Set<string>();
  const planIds = new Set<string>();
  const permitIds = new Set<string>();
  const rates = new Map<string, RateWindow>();
  const positions = new Map<string, PositionRef>();
  const sendRecords: EntryRef[] = [];
  const orderKeys = new Set<string>();
  const orderScopes = new Map<string, OrderScope>();
  const duplicates = new Set<string>();
  for (const p of classified) {
    const { entry } = p;
    if (entry.deliveries > 1) sendRecords.push({ lane: entry.lane, streamId: entry.id });
    if (p.kind !== "parsed" || !p.parsed.ok) continue;
    const plan = p.parsed.entry.plan;
    // An entry without `auth` can only pass gate 2 unsigned, so its claims live in its source's namespace.
    const unsigned = p.parsed.entry.auth === undefined ? plan.source : undefined;
    planIds.add(claimKey(plan.plan_id, unsigned));
    const window = { source: plan.source, window: Math.floor(now / 1000) };
    rates.set(rateKey(window), window);
    if (plan.action === "cancel") {
      orderKeys.add(claimKey(plan.target_plan_id, unsigned));
      continue;
    }
    if (plan.action === "cancel_all") {
      const scope = cancelAllScope(plan);
      orderScopes.set(JSON.stringify([scope.venue, scope.account, scope.symbol ?? null]), scope);
      continue;
    }
    const permitId = plan.permit === undefined ? undefined : peekPermitId(plan.permit);
    if (permitId !== undefined) permitIds.add(claimKey(permitId, unsigned));
    // A resting order's key must be read too: placing it checks that none is stored under it.
    orderKeys.add(claimKey(plan.plan_id, unsigned));
    if (wantDuplicates) duplicates.add(duplicateKeyOf(plan));
    const account = plan.account ?? DEFAULT_ACCOUNT;
    if (limits && capFor(limits.maxDailyNotional, account) !== undefined) {
      const ref = { account, day };
      daily.set(dailyKey(ref), ref);
    }
    if (limits && capFor(limits.maxOpenOrders, account) !== undefined) openAccounts.add(account);
    if (
      limits &&
      !plan.reduce_only &&
      (capFor(limits.maxPosition, plan.symbol) !== undefined ||
        capFor(limits.maxGrossNotional, account) !== undefined)
    )
      exposureAccounts.add(account);
    // The paper book the plan would fill in (the paper venue, or its venue's dry run).
    const ref: PositionRef = { account, symbol: plan.symbol, venue: plan.venue, mode: "paper" };
    positions.set(positionKey(ref), ref);
  }
  return {
    planIds: [...planIds],
    permitIds: [...permitIds],
    rates: [...rates.values()],
    positions: [...positions.values()],
    sendRecords,
    orderKeys: [...orderKeys],
    orderScopes: [...orderScopes.values()],
    ...(duplicates.size > 0 ? { duplicates: [...duplicates] } : {}),
    ...(daily.size > 0 ? { dailyNotional: [...daily.values()] } : {}),
    ...(openAccounts.size > 0 ? { openOrderAccounts: [...openAccounts] } : {}),
    ...(exposureAccounts.size > 0 ? { exposureAccounts: [...exposureAccounts] } : {}),
  };
}

/**
 * Decides one entry: runs the gate chain and turns the verdict into a
 * {@link Decision} (result, checks to re-run at commit, writes). An entry at
 * the delivery limit gets its dead-letter decision. Never throws: an
 * exception becomes `FAILED` / `internal_error` for this entry alone.
 */
export function decideEntry(
  classified: ClassifiedEntry,
  policy: Policy,
  facts: Facts,
  now: number,
): Decision {
  const { entry } = classified;
  if (classified.kind === "dead_letter") return deadLetterDecision(entry, now);
  if (classified.kind === "unreadable") return internalErrorDecision(entry, now);
  try {
    const input: GateInput = { entry, policy, facts, now, preparsed: classified.parsed };
    const { evaluation, denial } = runGates(GATE_CHAIN, input);
    const execution = denial ? undefined : planExecution(input, evaluation);
    const refused = execution?.kind === "refused" ? execution.reason : undefined;
    const result = buildResult({
      lane: entry.lane,
      streamId: entry.id,
      evaluation,
      partial: classified.parsed.ok ? undefined : classified.parsed.partial,
      decision: denial ? "DENIED" : refused ? "FAILED" : "EXECUTED",
      error: denial?.reason ?? refused ?? null,
      fill: execution?.kind === "paper" ? execution.fill : undefined,
      order:
        execution?.kind === "rest"
          ? execution.order
          : classified.parsed.ok && classified.parsed.entry.plan.action === "cancel"
            ? execution?.kind === "cancel"
              ? execution.cancelled[0]
              : execution?.kind === "live_cancel"
                ? execution.cancel.orders[0]
                : undefined
            : undefined,
      now,
    });
    const checks =
      execution && execution.kind !== "live"
        ? { ...evaluation.checks, ...execution.checks }
        : evaluation.checks;
    const decision: Decision = {
      lane: entry.lane,
      streamId: entry.id,
      result,
      checks,
      effects: effectsOf(evaluation, execution, { now, windowMs: policy.limits.duplicateWindowMs }),
    };
    if (execution?.kind === "live") return { ...decision, live: execution.live };
    if (execution?.kind === "live_cancel") return { ...decision, liveCancel: execution.cancel };
    return decision;
  } catch {
    return internalErrorDecision(entry, now);
  }
}

/** The writes a decision makes, derived from what its gates found and how it executes. */
function effectsOf(
  ev: Evaluation,
  execution: ExecutionPlan | undefined,
  duplicate: { readonly now: number; readonly windowMs: number | undefined },
): DecisionEffects {
  const plan = ev.parsed?.plan;
  const effects: { -readonly [K in keyof DecisionEffects]: DecisionEffects[K] } = {};
  // The first entry that passes gates 2 and 3 claims its plan_id (in its namespace), whatever its later outcome.
  const unsigned = unsignedSourceOf(ev);
  if (ev.admitted && plan) effects.claimPlanId = claimKey(plan.plan_id, unsigned);
  if (ev.permit) effects.consumePermit = claimKey(ev.permit.permit_id, unsigned);
  if (ev.countRate) effects.countRate = ev.countRate;
  if (execution?.kind === "paper") {
    const { fill } = execution;
    const { account, symbol, venue, mode } = fill.book;
    effects.setPosition = { account, symbol, venue, mode, value: fill.after };
  }
  if (execution?.kind === "rest") effects.openOrder = execution.order;
  // An order placed (paper, resting, or sent live) marks its content for the duplicate window.
  const placed = execution?.kind === "paper" || execution?.kind === "rest" || execution?.kind === "live";
  if (placed && ev.duplicateKey !== undefined && duplicate.windowMs !== undefined)
    effects.markDuplicate = { key: ev.duplicateKey, at: duplicate.now, ttlMs: duplicate.windowMs };
  if (placed && ev.dailyNotional !== undefined) effects.setDailyNotional = ev.dailyNotional;
  if (execution?.kind === "cancel") {
    effects.closeOrders = execution.cancelled.map((o) => o.key);
    effects.orderEvents = execution.events;
  }
  return effects;
}

/** Fields of an entry copied to the DLQ, at most (a copy must fit one XADD of the commit script). */
export const MAX_DEAD_LETTER_FIELDS = 1000;

/**
 * The decision for an entry delivered `max_deliveries` times without a result:
 * `FAILED` / `internal_error:delivery_limit`, copied to the DLQ. The entry is
 * not parsed (it may be what kept failing), so the result carries no plan
 * fields; the DLQ copy holds the raw fields (the first
 * {@link MAX_DEAD_LETTER_FIELDS}; the entry itself stays on its stream).
 * Nothing is claimed or executed.
 */
export function deadLetterDecision(entry: BusEntry, now: number): Decision {
  const result = buildResult({
    lane: entry.lane,
    streamId: entry.id,
    evaluation: { authenticated: false, checks: {} },
    decision: "FAILED",
    error: reason("internal_error", "delivery_limit"),
    now,
  });
  return {
    lane: entry.lane,
    streamId: entry.id,
    result,
    checks: {},
    effects: {
      deadLetter: { fields: entry.fields.slice(0, MAX_DEAD_LETTER_FIELDS), deliveries: entry.deliveries },
    },
  };
}

/** `FAILED` / `internal_error` with no plan fields and no writes but the result. */
export function internalErrorDecision(entry: Pick<BusEntry, "lane" | "id">, now: number): Decision {
  const result = buildResult({
    lane: entry.lane,
    streamId: entry.id,
    evaluation: { authenticated: false, checks: {} },
    decision: "FAILED",
    error: reason("internal_error"),
    now,
  });
  return { lane: entry.lane, streamId: entry.id, result, checks: {}, effects: {} };
}
