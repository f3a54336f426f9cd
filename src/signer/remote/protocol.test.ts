import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bodyOf,
  encodeFrame,
  FrameDecoder,
  MAX_FRAME_BYTES,
  ProtocolError,
  parseServerMessage,
  parseSignMessage,
  serverMessageSchema,
  signMessageSchema,
} from "./protocol.js";

describe("remote signer framing", () => {
  it("round-trips frames split at every byte and joined in one chunk", () => {
    const messages = [{ type: "welcome" }, { type: "sign", id: 1, note: "é✓" }, { a: [1, 2, 3] }];
    const bytes = Buffer.concat(messages.map((m) => encodeFrame(m)));
    const oneByOne = new FrameDecoder();
    const got: unknown[] = [];
    for (let i = 0; i < bytes.length; i++) got.push(...oneByOne.push(bytes.subarray(i, i + 1)));
    expect(got).toEqual(messages);
    expect(oneByOne.pendingBytes).toBe(0);
    expect(new FrameDecoder().push(bytes)).toEqual(messages);
  });

  it("rejects an announced length over the limit before the body arrives", () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_FRAME_BYTES + 1);
    expect(() => new FrameDecoder().push(header)).toThrow(ProtocolError);
    header.writeUInt32BE(MAX_FRAME_BYTES);
    expect(new FrameDecoder().push(header)).toEqual([]); // exactly the limit is allowed
  });

  it("rejects a body that is not JSON, and refuses to encode an oversized frame", () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(3);
    expect(() => new FrameDecoder().push(Buffer.concat([header, Buffer.from("{x}")]))).toThrow(ProtocolError);
    expect(() => encodeFrame({ blob: "a".repeat(MAX_FRAME_BYTES) })).toThrow(ProtocolError);
  });

  it("carries any JSON object as a request body, without a caller key", () => {
    const request = { request_id: "r1", intent: 42, payload: { kind: "raw" }, caller: "someone" };
    const ok = signMessageSchema.parse({ type: "sign", id: 3, request });
    expect(bodyOf(ok.request)).toEqual({ request_id: "r1", intent: 42, payload: { kind: "raw" } });
    for (const bad of [null, "r1", [1, 2]]) {
      expect(signMessageSchema.safeParse({ type: "sign", id: 1, request: bad }).success).toBe(false);
    }
    for (const id of [-1, 1.5, "1"]) {
      expect(signMessageSchema.safeParse({ type: "sign", id, request }).success).toBe(false);
    }
  });

  it("a sign message may carry the caller the client's code claimed, as a string of at most 256", () => {
    const request = { request_id: "r1" };
    expect(signMessageSchema.safeParse({ type: "sign", id: 1, caller: "exec-b", request }).success).toBe(
      true,
    );
    expect(parseSignMessage({ type: "sign", id: 1, caller: "", request })).toEqual({
      type: "sign",
      id: 1,
      caller: "",
      request,
    });
    for (const caller of [7, null, "x".repeat(257)]) {
      expect(signMessageSchema.safeParse({ type: "sign", id: 1, caller, request }).success).toBe(false);
      expect(parseSignMessage({ type: "sign", id: 1, caller, request })).toBeUndefined();
    }
  });

  it("the hot-path parsers accept and return exactly what the schemas do", () => {
    const reason = fc.oneof(
      fc.constantFrom("signer_unavailable", "unknown_caller", "policy:rate", "payload_mismatch:qty"),
      fc.constantFrom("nope", "payload_mismatch:", "policy:", "", "policy:\n", "payload_mismatch:a\nb"),
      fc.string(),
    );
    const outcome = fc.oneof(
      fc.record(
        {
          granted: fc.constantFrom(true, false, "true"),
          request_id: fc.oneof(fc.string(), fc.integer()),
          signature: fc.oneof(fc.constant(""), fc.string(), fc.integer()),
          signer_address: fc.oneof(fc.string(), fc.integer()),
          plane_version: fc.oneof(fc.string(), fc.constant(undefined)),
          reason,
          extra: fc.anything(),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    const id = fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, "1", Number.MAX_SAFE_INTEGER + 2));
    const message = fc.oneof(
      fc.record(
        {
          type: fc.constantFrom("outcome", "welcome", "refused", "sign", "hello"),
          id,
          outcome,
          caller: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()),
          request: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.anything()),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    fc.assert(
      fc.property(message, (m) => {
        const sign = signMessageSchema.safeParse(m);
        expect(parseSignMessage(m)).toEqual(sign.success ? sign.data : undefined);
        const server = serverMessageSchema.safeParse(m);
        expect(parseServerMessage(m)).toEqual(server.success ? server.data : undefined);
      }),
      { numRuns: 5000 },
    );
  });

  it("drops an own __proto__ key of a request as the schema does (never a prototype for a later copy)", () => {
    const m = JSON.parse('{"type":"sign","id":0,"request":{"__proto__":{"polluted":1},"intent":"x"}}');
    const parsed = parseSignMessage(m);
    expect(parsed).toEqual(signMessageSchema.parse(m));
    expect(Object.hasOwn(parsed?.request ?? {}, "__proto__")).toBe(false);
    expect(parsed?.request).toEqual({ intent: "x" });
    expect((Object.assign({}, parsed?.request) as { polluted?: number }).polluted).toBeUndefined();
  });

  it("accepts only the contract's deny reasons in outcomes", () => {
    const outcome = (reason: string) => ({
      type: "outcome",
      id: 1,
      outcome: { granted: false, request_id: "r", reason },
    });
    for (const r of ["signer_unavailable", "payload_mismatch:qty", "policy:max_notional", "unknown_caller"]) {
      expect(serverMessageSchema.safeParse(outcome(r)).success).toBe(true);
      expect(parseServerMessage(outcome(r))).toBeDefined();
    }
    for (const r of ["nope", "payload_mismatch:", "policy:", ""]) {
      expect(serverMessageSchema.safeParse(outcome(r)).success).toBe(false);
      expect(parseServerMessage(outcome(r))).toBeUndefined();
    }
  });
});
