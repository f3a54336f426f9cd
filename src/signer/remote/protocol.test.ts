import { describe, expect, it } from "vitest";
import {
  bodyOf,
  encodeFrame,
  FrameDecoder,
  MAX_FRAME_BYTES,
  ProtocolError,
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

  it("accepts only the contract's deny reasons in outcomes", () => {
    const outcome = (reason: string) => ({
      type: "outcome",
      id: 1,
      outcome: { granted: false, request_id: "r", reason },
    });
    for (const r of ["signer_unavailable", "payload_mismatch:qty", "policy:max_notional", "unknown_caller"])
      expect(serverMessageSchema.safeParse(outcome(r)).success).toBe(true);
    for (const r of ["nope", "payload_mismatch:", "policy:", ""])
      expect(serverMessageSchema.safeParse(outcome(r)).success).toBe(false);
  });
});
