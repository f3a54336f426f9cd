import type { BusEntry } from "../ports/bus.js";
import { buildResult } from "./buildResult.js";
import type { Decision, DecisionEffects } from "./decision.js";
import type { EntryRef, Facts, FactsQuery, PositionRef, RateWindow } from "./facts.js";
import { positionKey, rateKey } from "./facts.js";
import { authenticationGate } from "./gates/authentication.js";
import type { Evaluation, GateInput } from "./gates/gate.js";
import { GATE_CHAIN } from "./gates/gateChain.js";
import { runGates } from "./gates/runGates.js";
import { schemaGate } from "./gates/schema.js";
import { type ParseEntryOutcome, parseEntry } from "./parseEntry.js";
import { peekPermitId } from "./permit/permitToken.js";
import type { Policy } from "./policy.js";
import { reason } from "./reasons.js";

/** An entry with gate 1 already run, so its facts can be looked up before deciding. */
export interface PreparedEntry {
  readonly entry: BusEntry;
  readonly parsed: ParseEntryOutcome;
}

/** Runs gate 1 on an entry. */
export const prepareEntry = (entry: BusEntry): PreparedEntry => ({ entry, parsed: parseEntry(entry.fields) });

/** The facts a batch of entries may read, decided at time `now`. */
export function factsQueryFor(prepared: readonly PreparedEntry[], now: number): FactsQuery {
  const planIds = new Set<string>();
  const permitIds = new Set<string>();
  const rates = new Map<string, RateWindow>();
  const positions = new Map<string, PositionRef>();
  const sendRecords: EntryRef[] = [];
  for (const { parsed, entry } of prepared) {
    if (entry.deliveries > 1) sendRecords.push({ lane: entry.lane, streamId: entry.id });
    if (!parsed.ok) continue;
    const plan = parsed.entry.plan;
    planIds.add(plan.plan_id);
    const permitId = plan.permit === undefined ? undefined : peekPermitId(plan.permit);
    if (permitId !== undefined) permitIds.add(permitId);
    const window = { source: plan.source, window: Math.floor(now / 1000) };
    rates.set(rateKey(window), window);
    if (plan.account !== undefined) {
      const ref = { account: plan.account, symbol: plan.symbol };
      positions.set(positionKey(ref), ref);
    }
  }
  return {
    planIds: [...planIds],
    permitIds: [...permitIds],
    rates: [...rates.values()],
    positions: [...positions.values()],
    sendRecords,
  };
}

/**
 * Decides one entry: runs the gate chain and turns the verdict into a
 * {@link Decision} (result, checks to re-run at commit, writes). Never throws:
 * an exception becomes `FAILED` / `internal_error`.
 */
export function decideEntry(prepared: PreparedEntry, policy: Policy, facts: Facts, now: number): Decision {
  const { entry } = prepared;
  try {
    const input: GateInput = { entry, policy, facts, now, preparsed: prepared.parsed };
    const { evaluation, denial } = runGates(GATE_CHAIN, input);
    const result = buildResult({
      lane: entry.lane,
      streamId: entry.id,
      evaluation,
      partial: prepared.parsed.ok ? undefined : prepared.parsed.partial,
      decision: denial ? denial.kind : "EXECUTED",
      error: denial ? denial.reason : null,
      now,
    });
    const decision: Decision = {
      lane: entry.lane,
      streamId: entry.id,
      result,
      checks: evaluation.checks,
      effects: effectsOf(evaluation, !denial),
    };
    return !denial && evaluation.live ? { ...decision, live: evaluation.live } : decision;
  } catch {
    return internalErrorDecision(entry, now);
  }
}

/** The writes a decision makes, derived from what its gates found. */
function effectsOf(ev: Evaluation, executed: boolean): DecisionEffects {
  const plan = ev.parsed?.plan;
  const effects: { -readonly [K in keyof DecisionEffects]: DecisionEffects[K] } = {};
  // The first entry that passes gate 2 claims its plan_id, whatever its later outcome.
  if (ev.authenticated && plan) effects.claimPlanId = plan.plan_id;
  if (ev.permit) effects.consumePermit = ev.permit.permit_id;
  if (ev.countRate) effects.countRate = ev.countRate;
  if (executed && ev.fill)
    effects.setPosition = { account: ev.fill.account, symbol: ev.fill.symbol, value: ev.fill.after };
  return effects;
}

/**
 * The decision for an entry delivered `max_deliveries` times without a result:
 * `FAILED` / `internal_error:delivery_limit`, copied to the DLQ. Gates 1–2 run
 * only to fill in the result's plan fields; nothing is claimed or executed.
 */
export function deadLetterDecision(entry: BusEntry, policy: Policy, facts: Facts, now: number): Decision {
  let evaluation: Evaluation = { authenticated: false, checks: {} };
  let partial: Partial<Record<string, unknown>> | undefined;
  try {
    const input: GateInput = { entry, policy, facts, now };
    const verdict = runGates([schemaGate, authenticationGate], input);
    evaluation = {
      authenticated: verdict.evaluation.authenticated,
      checks: {},
      ...pickParsed(verdict.evaluation),
    };
    const parsed = parseEntry(entry.fields);
    partial = parsed.ok ? undefined : parsed.partial;
  } catch {
    // The entry is unreadable: the result carries no plan fields.
  }
  const result = buildResult({
    lane: entry.lane,
    streamId: entry.id,
    evaluation,
    partial,
    decision: "FAILED",
    error: reason("internal_error", "delivery_limit"),
    now,
  });
  return {
    lane: entry.lane,
    streamId: entry.id,
    result,
    checks: {},
    effects: { deadLetter: { fields: entry.fields, deliveries: entry.deliveries } },
  };
}

const pickParsed = (ev: Evaluation) => (ev.parsed ? { parsed: ev.parsed } : {});

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
