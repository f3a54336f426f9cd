import { describe, expect, it } from "vitest";
import type { PayloadKind, SignPayload } from "../../ports/signingPlane.js";
import type { Authorized } from "../authorize.js";
import type { PayloadKindHandler, SigningInput } from "../payloadKind.js";
import { defaultPayloadHandlers } from "../payloads/registry.js";
import { canSignInToken, TOKEN_SIGNING, tokenSigningInput, tokenSigningProblem } from "./tokenSigning.js";

const KINDS: readonly PayloadKind[] = ["hmac-query", "hmac-clob-l2", "eip712-order"];

/** A handler with only `bind` and `sign` (no `bindInput`, no `signingInput`), plus `extra` methods. */
function bare(kind: PayloadKind, extra: Record<string, unknown> = {}): PayloadKindHandler {
  return {
    kind,
    bind: () => ({ ok: true, effect: { venue: "v", action: "a", replayableRead: false } }),
    sign: async () => ({ signature: "" }),
    ...extra,
  } as PayloadKindHandler;
}

/** Only the fields tokenSigningInput reads. */
function authorized(handler: PayloadKindHandler, payload: SignPayload, input?: SigningInput): Authorized {
  return { handler, payload, input } as unknown as Authorized;
}

const QUERY: SignPayload = { kind: "hmac-query", query: "a=1&b=2" };

describe("TOKEN_SIGNING: one row per payload kind", () => {
  it("has a row for every kind, with the kind's mechanism", () => {
    expect(Object.keys(TOKEN_SIGNING).sort()).toEqual([...KINDS].sort());
    expect(TOKEN_SIGNING["hmac-query"].mechanism).toBe("hmac-sha256");
    expect(TOKEN_SIGNING["hmac-clob-l2"].mechanism).toBe("hmac-sha256");
    expect(TOKEN_SIGNING["eip712-order"].mechanism).toBe("ecdsa-secp256k1");
  });

  it("every built-in handler can be signed in a token (each has bindInput)", () => {
    for (const handler of defaultPayloadHandlers().values()) {
      expect(tokenSigningProblem(handler)).toBeUndefined();
      expect(canSignInToken(handler)).toBe(true);
    }
  });

  it("a bare handler is signable where its kind's row says what to sign", () => {
    expect(tokenSigningProblem(bare("hmac-query"))).toBeUndefined();
    expect(tokenSigningProblem(bare("hmac-clob-l2"))).toBeUndefined();
    expect(tokenSigningProblem(bare("eip712-order"))).toMatch(/exposes no digest\(payload\)/);
    expect(tokenSigningProblem(bare("eip712-order", { digest: () => new Uint8Array(32) }))).toBeUndefined();
    expect(tokenSigningProblem(bare("no-such-kind" as PayloadKind))).toMatch(/no token signing input/);
  });

  it("reads the input from the row, the handler's signingInput, or bindInput's input, in that precedence", () => {
    const fromRow = tokenSigningInput(authorized(bare("hmac-query"), QUERY));
    expect(fromRow).toMatchObject({ mechanism: "hmac-sha256", secret: "raw", encoding: "hex" });
    expect(Buffer.from((fromRow as { data: Uint8Array }).data).toString()).toBe("a=1&b=2");

    const own: SigningInput = {
      mechanism: "hmac-sha256",
      data: new Uint8Array([1]),
      secret: "raw",
      encoding: "hex",
    };
    expect(tokenSigningInput(authorized(bare("hmac-query", { signingInput: () => own }), QUERY))).toBe(own);
    const prepared: SigningInput = { ...own, data: new Uint8Array([2]) };
    expect(
      tokenSigningInput(authorized(bare("hmac-query", { signingInput: () => own }), QUERY, prepared)),
    ).toBe(prepared);
  });

  it("refuses an input whose mechanism is not the kind's, and a digest not 32 bytes", () => {
    const ecdsa: SigningInput = { mechanism: "ecdsa-secp256k1", digest: new Uint8Array(32), signer: 1n };
    expect(() => tokenSigningInput(authorized(bare("hmac-query"), QUERY, ecdsa))).toThrow(
      /hmac-query payload is signed with hmac-sha256, not ecdsa-secp256k1/,
    );
    const order = { kind: "eip712-order" } as unknown as SignPayload;
    expect(() =>
      tokenSigningInput(authorized(bare("eip712-order", { digest: () => new Uint8Array(31) }), order)),
    ).toThrow(/not 32 bytes/);
    expect(() => tokenSigningInput(authorized(bare("eip712-order"), order))).toThrow(/exposes no digest/);
  });
});
