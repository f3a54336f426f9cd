import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PayloadKind } from "../ports/signingPlane.js";
import {
  accountSchema,
  contextSchema,
  intentSchema,
  parsePayload,
  payloadSchemas,
  readRequest,
  requestIdSchema,
  routeSchema,
} from "./signRequest.js";

const viaSchema = <T>(schema: { safeParse(v: unknown): { success: boolean; data?: T } }, v: unknown) => {
  const r = schema.safeParse(v);
  return r.success ? r.data : undefined;
};

const text = fc.oneof(
  fc.string({ maxLength: 140 }),
  fc.constantFrom("", "a\u0001b", "x".repeat(128), "x".repeat(129), "4F1C0E2A-1B2C-4D5E-8F90-0A1B2C3D4E5F"),
);
const value = fc.oneof(text, fc.anything(), fc.constantFrom("cex_api_signer", "recovery", "teleport"));

describe("request fields: plain checks equal to their schemas", () => {
  it("readRequest reads every field as its schema would", () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            request_id: value,
            intent: value,
            route: value,
            target: fc.oneof(fc.dictionary(fc.string(), fc.anything()), value),
            guard_context: fc.oneof(fc.dictionary(fc.string(), fc.anything()), value),
            account: value,
          },
          { requiredKeys: [] },
        ),
        (raw) => {
          const view = readRequest(raw);
          expect(view.requestId).toEqual(viaSchema(requestIdSchema, raw.request_id));
          expect(view.intent).toEqual(viaSchema(intentSchema, raw.intent));
          expect(view.route).toEqual(viaSchema(routeSchema, raw.route));
          expect(view.target).toEqual(viaSchema(contextSchema, raw.target));
          expect(view.guardContext).toEqual(viaSchema(contextSchema, raw.guard_context));
          expect(view.account).toEqual(viaSchema(accountSchema, raw.account));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("parsePayload's fast path accepts exactly the well-formed payloads, as they are", () => {
    const kinds: PayloadKind[] = ["hmac-query", "hmac-clob-l2", "eip712-order"];
    const field = fc.oneof(
      fc.string(),
      fc.constant("q".repeat(65_537)),
      fc.dictionary(fc.string(), fc.string()),
      fc.anything(),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.record(
          {
            query: field,
            timestamp: field,
            method: field,
            path: field,
            body: field,
            domain: field,
            order: field,
            extra: field,
          },
          { requiredKeys: [] },
        ),
        (kind, fields) => {
          const raw = { kind, ...fields };
          const got = parsePayload(kind, raw);
          const schema = payloadSchemas[kind].safeParse(raw);
          expect(got.ok).toBe(schema.success);
          if (got.ok) expect(got.payload).toEqual(schema.data);
        },
      ),
      { numRuns: 3000 },
    );
    // a well-formed payload is passed on as the same object
    const p = { kind: "hmac-query", query: "a=1" };
    expect(parsePayload("hmac-query", p)).toEqual({ ok: true, payload: p });
    expect((parsePayload("hmac-query", p) as { payload: unknown }).payload).toBe(p);
  });
});
