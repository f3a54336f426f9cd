import { createHmac } from "node:crypto";
import type { SigningPlane, SignOutcome, SignRequest } from "../../src/ports/signingPlane.js";
import { recoverOrderSigner } from "./ethersInproc.js";
import { type BenchWorld, CALLER, KINDS, makeRequest } from "./fixtures.js";

type Granted = Extract<SignOutcome, { granted: true }>;

/** What every plane must answer for request 0 of each kind (HMACs computed here, EIP-712 by ethers). */
export interface Expected {
  readonly hmacQuery: (r: SignRequest) => string;
  readonly hmacL2: (r: SignRequest) => string;
  readonly eip712: string;
  /** The address an EIP-712 signature of request 0's order recovers to (a token's ECDSA is randomised). */
  readonly eip712Signer: (signature: string) => string;
  readonly evmAddress: string;
}

/** The reference answers: HMACs with node:crypto, the order signature by ethers (`ethersSign(0)`). */
export async function makeExpected(
  world: BenchWorld,
  ethersSign: (i: number) => Promise<string>,
): Promise<Expected> {
  return {
    hmacQuery: (r) =>
      createHmac("sha256", world.hmacSecret)
        .update((r.payload as { query: string }).query)
        .digest("hex"),
    hmacL2: (r) => {
      const p = r.payload as { timestamp: string; method: string; path: string; body: string };
      return createHmac("sha256", Buffer.from(world.hmacSecret.toString("utf8"), "base64"))
        .update(p.timestamp + p.method + p.path + p.body)
        .digest("base64")
        .replaceAll("+", "-")
        .replaceAll("/", "_");
    },
    eip712: await ethersSign(0),
    eip712Signer: (signature) => recoverOrderSigner(world, 0, signature),
    evmAddress: world.evmAddress,
  };
}

/** One request of each kind must be granted with exactly the expected signature. */
export async function checkPlane(
  ref: { readonly world: BenchWorld; readonly expected: Expected },
  plane: SigningPlane,
  tag: string,
): Promise<void> {
  for (const kind of KINDS) {
    const r = makeRequest(ref.world, kind, `check-${tag}`, 0);
    const out = await plane.sign(CALLER, r);
    if (!out.granted) throw new Error(`${tag} ${kind}: denied ${out.reason}`);
    checkOutcome(ref.expected, out, r);
  }
}

/** A grant for request `r` (request 0 of its kind) must carry the expected signature. */
export function checkOutcome(expected: Expected, out: Granted, r: SignRequest): void {
  const kind = r.payload.kind;
  if (kind === "eip712-order" && out.signature !== expected.eip712) {
    // RFC 6979 planes match ethers byte for byte; a token's ECDSA nonce is random: check who signed.
    const signer = expected.eip712Signer(out.signature);
    if (signer !== expected.evmAddress || out.signer_address !== expected.evmAddress) {
      throw new Error(`eip712-order: signature recovers to ${signer}, not ${expected.evmAddress}`);
    }
    return;
  }
  const want =
    kind === "hmac-query"
      ? expected.hmacQuery(r)
      : kind === "hmac-clob-l2"
        ? expected.hmacL2(r)
        : expected.eip712;
  if (out.signature !== want) {
    throw new Error(`${kind}: signature ${out.signature} differs from the reference ${want}`);
  }
}
