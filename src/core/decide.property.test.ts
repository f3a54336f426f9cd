import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validPlan, world } from "../../test/support/coreArbitraries.js";
import {
  BRIDGE,
  b64url,
  EXIT_OWNER,
  KEY_FOR_SOURCE,
  makeFacts,
  makePolicy,
  NOW,
  permitPayload,
  planEntry,
  rawEntry,
  rawSignature,
  signPermit,
} from "../../test/support/coreFixtures.js";
import type { BusEntry } from "../ports/bus.js";
import { classifyEntry, decideEntry } from "./decide.js";
import type { Decision } from "./decision.js";
import type { Facts } from "./facts.js";
import type { Policy } from "./policy.js";
import { baseCode, REASON_CODES } from "./reasons.js";
import { findDuplicateKey, parseStrictJson } from "./strictJson.js";

// ---------------------------------------------------------------- invariants

/** What every decision must satisfy, whatever the entry. */
function checkInvariants(entry: BusEntry, d: Decision, now: number): void {
  const r = d.result;
  expect([d.lane, d.streamId, r.lane, r.stream_id]).toEqual([entry.lane, entry.id, entry.lane, entry.id]);
  expect(["EXECUTED", "DENIED", "FAILED"]).toContain(r.decision);
  expect(r.error === null).toBe(r.decision === "EXECUTED");
  expect(r.executed).toBe(r.decision === "EXECUTED");
  expect(r.timestamp).toBe(now);
  expect(r.v).toBe(1);
  expect(() => JSON.stringify(r)).not.toThrow();
  if (r.error !== null) {
    const base = baseCode(r.error);
    expect(Object.keys(REASON_CODES)).toContain(base);
    const gate = REASON_CODES[base as keyof typeof REASON_CODES];
    if (base !== "internal_error") {
      expect(r.authenticated).toBe(gate >= 3);
      expect(r.decision).toBe(gate === 11 ? "FAILED" : "DENIED");
    }
  }
  if (!r.authenticated) expect(d.effects).toEqual({});
  if (r.authenticated && r.error !== "internal_error") expect(d.effects.claimPlanId).toBe(r.plan_id);
  if (d.effects.consumePermit !== undefined)
    expect(d.checks.permit).toEqual({ id: d.effects.consumePermit, used: false });
  if (r.decision === "EXECUTED") {
    expect(d.effects.setPosition).toBeDefined();
    expect(r.fill_qty).not.toBeNull();
    expect(r.avg_price).not.toBeNull();
    expect(r.client_order_id).toMatch(/^[.A-Z:/a-z0-9_-]{1,36}$/);
  } else {
    expect(d.effects.setPosition).toBeUndefined();
    expect(r.fill_qty).toBeNull();
    expect(r.order_id).toBeNull();
  }
}

/** Decides `entry` and checks the invariants; never throws by contract. */
function decideChecked(
  entry: BusEntry,
  policy: Policy = makePolicy(),
  facts: Facts = makeFacts(),
  now = NOW,
): Decision {
  let d: Decision | undefined;
  expect(() => {
    d = decideEntry(classifyEntry(entry), policy, facts, now);
  }).not.toThrow();
  checkInvariants(entry, d as Decision, now);
  return d as Decision;
}

// ---------------------------------------------------------------- arbitraries

const KNOWN_FIELDS = [
  "v",
  "plan_id",
  "source",
  "venue",
  "account",
  "symbol",
  "side",
  "type",
  "qty",
  "price",
  "reduce_only",
  "created_at",
  "expires_at",
  "permit",
  "meta",
];

/** Values worth putting in any field: right-looking, wrong-typed and edge values. */
const fieldValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    1,
    0,
    -1,
    0.5,
    1e-7,
    1e21,
    NOW,
    NOW + 0.5,
    "1",
    "0",
    "01",
    "1.",
    "1e-7",
    "0.000000000000000001",
    "true",
    true,
    false,
    null,
    "",
    "paper",
    "binance-usdm",
    "polymarket",
    "BUY",
    "SELL",
    "MARKET",
    "LIMIT",
    "BTCUSDT",
    BRIDGE,
    EXIT_OWNER,
    { kelly_fraction: 0.1 },
    { kelly_fraction: 2 },
    { kelly_fraction: "0.1" },
    [],
    {},
  ),
);

/** A single mutation of a valid plan. */
type Mutation =
  | { kind: "remove"; field: string }
  | { kind: "set"; field: string; value: unknown }
  | { kind: "retype"; field: string }
  | { kind: "extra"; key: string; value: unknown }
  | { kind: "duplicate"; field: string; escaped: boolean };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("remove" as const), field: fc.constantFrom(...KNOWN_FIELDS) }),
  fc.record({
    kind: fc.constant("set" as const),
    field: fc.constantFrom(...KNOWN_FIELDS),
    value: fieldValue,
  }),
  fc.record({ kind: fc.constant("retype" as const), field: fc.constantFrom(...KNOWN_FIELDS) }),
  fc.record({
    kind: fc.constant("extra" as const),
    key: fc
      .oneof(fc.string(), fc.constantFrom("reduceOnly", "Qty", "plan_id ", "__proto__", "constructor"))
      .filter((k) => !KNOWN_FIELDS.includes(k)),
    value: fieldValue,
  }),
  fc.record({
    kind: fc.constant("duplicate" as const),
    field: fc.constantFrom(...KNOWN_FIELDS),
    escaped: fc.boolean(),
  }),
);

/** Another JSON type for a value: the retype mutation. */
function retyped(value: unknown): unknown {
  if (typeof value === "string") return /^[0-9.]+$/.test(value) ? Number(value) : [value];
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return String(value);
  if (value === undefined) return null;
  return JSON.stringify(value);
}

/** `"k"` with its first character written as a `\uXXXX` escape. */
function escapedKey(k: string): string {
  const code = k.charCodeAt(0).toString(16).padStart(4, "0");
  return `"\\u${code}${JSON.stringify(k.slice(1)).slice(1)}`;
}

/** Applies a mutation; returns the plan text and whether it should parse as an object with those members. */
function applyMutation(plan: Record<string, unknown>, m: Mutation): string {
  const copy = { ...plan };
  switch (m.kind) {
    case "remove":
      delete copy[m.field];
      return JSON.stringify(copy);
    case "set":
      copy[m.field] = m.value;
      return JSON.stringify(copy);
    case "retype":
      copy[m.field] = retyped(copy[m.field]);
      return JSON.stringify(copy);
    case "extra": {
      const json = JSON.stringify(copy);
      const member = `${JSON.stringify(m.key)}:${JSON.stringify(m.value) ?? "null"}`;
      return `${json.slice(0, -1)},${member}}`;
    }
    case "duplicate": {
      const json = JSON.stringify(copy);
      const value = m.field in copy ? copy[m.field] : 1;
      const key = m.escaped ? escapedKey(m.field) : JSON.stringify(m.field);
      const withField = m.field in copy ? json : `${json.slice(0, -1)},${JSON.stringify(m.field)}:1}`;
      return `${withField.slice(0, -1)},${key}:${JSON.stringify(value) ?? "null"}}`;
    }
  }
}

// ---------------------------------------------------------------- the spec as an oracle

const IDENT = /^[^\u0000-\u001f\u007f]{1,128}$/;
const GRAMMAR = /^(0|[1-9][0-9]*)(\.[0-9]{1,18})?$/;
const isIdent = (v: unknown) => typeof v === "string" && IDENT.test(v) && !/\p{Cs}/u.test(v);
const isEpoch = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
function isPositiveDecimal(v: unknown): boolean {
  const text = typeof v === "number" ? String(v) : typeof v === "string" ? v : undefined;
  return text !== undefined && GRAMMAR.test(text) && /[1-9]/.test(text);
}

/**
 * The `invalid_plan` details wire-v1 §3 (and the schema's documented identifier
 * rule) gives a parsed plan object: empty when it is valid.
 */
function specProblems(obj: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const has = (k: string) => Object.hasOwn(obj, k);
  if (Object.keys(obj).some((k) => !KNOWN_FIELDS.includes(k))) problems.push("unknown_field");
  if (obj.v !== 1) problems.push("v");
  if (!(typeof obj.plan_id === "string" && /^[A-Za-z0-9._:-]{1,64}$/.test(obj.plan_id)))
    problems.push("plan_id");
  if (!isIdent(obj.source)) problems.push("source");
  if (!["paper", "binance-usdm", "polymarket"].includes(obj.venue as string)) problems.push("venue");
  if (has("account") && !isIdent(obj.account)) problems.push("account");
  if (!has("account") && (obj.venue === "binance-usdm" || obj.venue === "polymarket"))
    problems.push("account");
  if (!isIdent(obj.symbol)) problems.push("symbol");
  if (obj.side !== "BUY" && obj.side !== "SELL") problems.push("side");
  if (has("type") && obj.type !== "MARKET" && obj.type !== "LIMIT") problems.push("type");
  if (!isPositiveDecimal(obj.qty)) problems.push("qty");
  if (has("price") ? !isPositiveDecimal(obj.price) : obj.type === "LIMIT") problems.push("price");
  if (has("reduce_only") && typeof obj.reduce_only !== "boolean") problems.push("reduce_only");
  if (!isEpoch(obj.created_at)) problems.push("created_at");
  if (has("expires_at") && !isEpoch(obj.expires_at)) problems.push("expires_at");
  if (
    has("permit") &&
    !(typeof obj.permit === "string" && obj.permit.length >= 1 && obj.permit.length <= 4096)
  ) {
    problems.push("permit");
  }
  if (has("meta")) {
    const meta = obj.meta;
    if (typeof meta !== "object" || meta === null || Array.isArray(meta)) problems.push("meta");
    else {
      if (Buffer.byteLength(JSON.stringify(meta)) > 4096) problems.push("meta_too_large");
      const k = (meta as Record<string, unknown>).kelly_fraction;
      if (Object.hasOwn(meta, "kelly_fraction") && !(typeof k === "number" && k >= 0 && k <= 1))
        problems.push("meta");
    }
  }
  return problems;
}

/** Signs plan text with its source's key when it has one, else with the bridge key. */
function signedText(text: string): BusEntry {
  let source: unknown;
  try {
    source = (JSON.parse(text) as { source?: unknown }).source;
  } catch {
    source = undefined;
  }
  const keyId = (typeof source === "string" && KEY_FOR_SOURCE[source]) || "bridge-k1";
  return planEntry(text, { keyId });
}

// ---------------------------------------------------------------- properties

describe("decideEntry never throws and always gives one well-formed decision", () => {
  const fieldName = fc.oneof(fc.constantFrom("plan", "auth"), fc.string({ maxLength: 6 }));
  const bytes = fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u));

  it("for random raw fields", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fieldName, bytes), { maxLength: 4 }),
        fc.constantFrom("main", "manual"),
        (fields, lane) => {
          const d = decideChecked(rawEntry(fields, lane as "main" | "manual"));
          expect(d.result.decision).not.toBe("EXECUTED");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("for random JSON as the plan text", () => {
    fc.assert(
      fc.property(fc.json(), world, (json, w) => {
        const d = decideChecked(planEntry(json, { keyId: "bridge-k1" }), w.policy, w.facts);
        expect(d.result.error).toMatch(/^invalid_plan:/);
      }),
      { numRuns: 300 },
    );
  });

  it("for random valid plans in random worlds", () => {
    fc.assert(
      fc.property(validPlan, world, (plan, w) => {
        const d = decideChecked(signedText(JSON.stringify(plan)), w.policy, w.facts);
        expect(d.result.error ?? "").not.toMatch(/^invalid_plan:/);
      }),
      { numRuns: 300 },
    );
  });
});

describe("near-valid plans", () => {
  it("a mutated plan is EXECUTED only when the mutation kept it valid, and its detail names the fault", () => {
    fc.assert(
      fc.property(validPlan, mutation, (plan, m) => {
        const text = applyMutation(plan, m);
        const d = decideChecked(signedText(text));
        const error = d.result.error ?? "";
        const parsed = m.kind === "duplicate" ? undefined : (JSON.parse(text) as Record<string, unknown>);
        if (m.kind === "duplicate") {
          expect(error).toBe("invalid_plan:duplicate_key");
          return;
        }
        const problems = specProblems(parsed as Record<string, unknown>);
        if (problems.length === 0) {
          expect(error).not.toMatch(/^invalid_plan:/);
        } else {
          expect(d.result.decision).toBe("DENIED");
          expect(error).toMatch(/^invalid_plan:/);
          expect(problems).toContain(error.slice("invalid_plan:".length));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("a random auth field never authenticates", () => {
    const alg = fc.constantFrom("hmac-sha256", "ed25519", "HMAC-SHA256", "sha256", "");
    const keyId = fc.constantFrom("bridge-k1", "exitbrain-k1", "governor-k1", "nobody", "");
    const sig = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 80 }).map((u) => b64url(u)),
      fc.string({ maxLength: 90 }),
    );
    const auth = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc.tuple(alg, keyId, sig).map(([a, k, s]) => `${a}:${k}:${s}`),
    );
    fc.assert(
      fc.property(validPlan, auth, world, (plan, a, w) => {
        const d = decideChecked(planEntry(plan, { auth: a }), w.policy, w.facts);
        expect(d.result.authenticated).toBe(false);
        expect(d.result.error).toMatch(/^unauthenticated:/);
      }),
      { numRuns: 500 },
    );
  });

  it("a random permit string never passes gate 8", () => {
    const payloadJson = fc.oneof(
      fc.json(),
      fc
        .record({
          over: fc.dictionary(
            fc.constantFrom(...Object.keys(permitPayload())),
            fc.jsonValue({ maxDepth: 1 }),
          ),
        })
        .map(({ over }) => JSON.stringify(permitPayload(over))),
    );
    const token = fc.oneof(
      fc.string({ minLength: 1, maxLength: 200 }),
      fc
        .tuple(payloadJson, fc.uint8Array({ minLength: 1, maxLength: 80 }))
        .map(([p, s]) => `${b64url(p)}.${b64url(s)}`),
      // A well-formed payload signed by the wrong key, or signed and then altered.
      payloadJson.map((p) => `${b64url(p)}.${b64url(rawSignature("stranger-ed", Buffer.from(b64url(p))))}`),
      payloadJson.map((p) => {
        const [payload, s] = signPermit(p, "governor-k1").split(".") as [string, string];
        return `${payload}.${s.startsWith("A") ? "B" : "A"}${s.slice(1)}`;
      }),
    );
    fc.assert(
      fc.property(token, (t) => {
        const plan = {
          v: 1,
          plan_id: "prop-permit",
          source: BRIDGE,
          venue: "paper",
          symbol: "BTCUSDT",
          side: "BUY",
          qty: "1",
          created_at: NOW,
          permit: t,
        };
        const d = decideChecked(planEntry(plan));
        expect(d.result.error).toMatch(/^permit_invalid:(format|payload|issuer|signature)$/);
        expect(d.effects.consumePermit).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------- strict JSON

/** Any JSON text with `inner` nested at a random depth among random siblings. */
function nestIn(inner: string): fc.Arbitrary<string> {
  const layer = fc.tuple(
    fc.constantFrom("array", "object"),
    fc.json(),
    fc.json(),
    fc.string({ maxLength: 4 }),
  );
  return fc.array(layer, { maxLength: 5 }).map((layers) =>
    layers.reduce((acc, [kind, before, after, key]) => {
      if (kind === "array") return `[${before},${acc},${after}]`;
      const k1 = JSON.stringify(`${key}<`);
      const k2 = JSON.stringify(`${key}>`);
      return `{${k1}:${before}, ${JSON.stringify(key)} : ${acc},${k2}:${after}}`;
    }, inner),
  );
}

describe("parseStrictJson", () => {
  it("agrees with JSON.parse on duplicate-free JSON", () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const out = parseStrictJson(text);
        expect(out).toEqual({ ok: true, value: JSON.parse(text) });
      }),
      { numRuns: 1000 },
    );
  });

  it("agrees with JSON.parse on pretty-printed duplicate-free JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value, null, 2);
        expect(parseStrictJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
      }),
    );
  });

  it("refuses what JSON.parse refuses, as `json`", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        if (!valid) expect(parseStrictJson(text)).toEqual({ ok: false, error: "json" });
      }),
    );
  });

  it("detects a duplicate key injected at any depth, escaped or not", () => {
    const dupObject = fc
      .tuple(
        fc.string({ maxLength: 6 }),
        fc.json(),
        fc.json(),
        fc.json(),
        fc.boolean(),
        fc.string({ maxLength: 3 }),
      )
      .map(([k, a, b, mid, escapeIt, other]) => {
        const first = JSON.stringify(k);
        const second = escapeIt && k.length > 0 ? escapedKey(k) : first;
        const otherKey = JSON.stringify(`${k}~${other}`);
        return `{${first}:${a},${otherKey}:${mid},${second}:${b}}`;
      });
    fc.assert(
      fc.property(
        dupObject.chain((inner) => nestIn(inner)),
        (text) => {
          expect(() => JSON.parse(text)).not.toThrow();
          expect(parseStrictJson(text)).toEqual({ ok: false, error: "duplicate_key" });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("does not mistake strings, array items or sibling objects for repeated keys", () => {
    for (const text of [
      '{"a":"\\"a\\":1","b":["a","a"]}',
      '[{"a":1},{"a":1}]',
      '{"a":{"a":{"a":1}}}',
      '{"a\\\\":1,"a":2}',
      '{"x":"}{\\"x\\":","y":"{"}',
      '{"a":[{"b":1},{"b":2}],"b":{"a":1}}',
    ]) {
      expect(parseStrictJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
    }
  });

  it.each([
    '{"reduce_only":false,"reduce_only":true}',
    '{"reduce_only":false,"\\u0072educe_only":true}',
    '{"\\u0072educe_only":false,"reduce_only":true}',
    '{"a":[1,{"b":1,"c":{"d":1,"d":2}}]}',
    '{"😀":1,"\\ud83d\\ude00":2}',
    '{"":1,"":2}',
    '{ "a" : 1 ,\n "a" : 2 }',
  ])("refuses %s", (text) => {
    expect(parseStrictJson(text)).toEqual({ ok: false, error: "duplicate_key" });
  });

  it.each([
    ['{"a":1,"a":2}', "a"],
    ['{"a":[1,{"x":1,"\\u0078":2}]}', "a.1.x"],
    ['[0,[1,2,{"k":{"d":1,"d":2}}]]', "1.2.k.d"],
    ['{"a":{"b":1},"c":[{"e":1},{"e":1,"e":2}]}', "c.1.e"],
    ['{"a":"x","b":{"a":1}}', undefined],
  ])("findDuplicateKey(%s) is %s", (text, path) => {
    expect(findDuplicateKey(text)).toBe(path);
  });
});
