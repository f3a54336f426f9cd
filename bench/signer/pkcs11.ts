import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { SecretBytes } from "../../src/core/auth/secretBytes.js";
import { POLYGON_CHAIN_ID } from "../../src/core/polymarket/ctfOrder.js";
import type { SignPayload } from "../../src/ports/signingPlane.js";
import type { PayloadKindHandler } from "../../src/signer/payloadKind.js";
import { decodePolymarketOrder, polymarketOrderDigest } from "../../src/signer/payloads/polymarketOrder.js";
import { Pkcs11Token, type Pkcs11TokenOptions } from "../../src/signer/pkcs11/pkcs11Token.js";
import { canSignInToken } from "../../src/signer/pkcs11/tokenSigning.js";
import {
  createSoftHsmFixture,
  type SoftHsmFixture,
  softHsmAvailable,
} from "../../test/support/softhsmFixture.js";
import type { BenchWorld } from "./fixtures.js";
import { stats } from "./measure.js";

/** Token key labels (= the pkcs11 run's config entry ids): HMAC keys are stored in the form each venue keys with. */
export const TOKEN_LABELS = {
  hmacRaw: "bench-hmac-raw",
  hmacL2: "bench-hmac-l2",
  evm: "bench-evm",
} as const;

export interface SoftHsm {
  readonly fixture: SoftHsmFixture;
  readonly tokenOptions: Pkcs11TokenOptions;
  /** A session of the bench's own, for raw C_Sign. */
  readonly token: Pkcs11Token;
  dispose(): Promise<void>;
}

/** Why SoftHSM2 cannot be used here, or undefined when it can. */
export async function softHsmMissing(): Promise<string | undefined> {
  if (!softHsmAvailable()) return "SoftHSM2 module /usr/lib/softhsm/libsofthsm2.so not installed";
  try {
    await promisify(execFile)("softhsm2-util", ["--version"]);
  } catch {
    return "softhsm2-util not on PATH";
  }
  return undefined;
}

/**
 * A fresh SoftHSM2 token store (temp dir, SOFTHSM2_CONF set for this
 * process), one token, the bench's keys imported as sensitive token objects.
 * Must run before anything else in the process opens the module.
 */
export async function setupSoftHsm(world: BenchWorld): Promise<SoftHsm> {
  const fixture = await createSoftHsmFixture();
  const pin = "918273";
  await fixture.initToken("ig-bench", pin, "564738");
  const tokenOptions: Pkcs11TokenOptions = {
    module: fixture.module,
    tokenLabel: "ig-bench",
    pin: new SecretBytes(Buffer.from(pin, "utf8")),
  };
  const token = Pkcs11Token.open(tokenOptions);
  try {
    token.importHmacSecret(TOKEN_LABELS.hmacRaw, new SecretBytes(world.hmacSecret), "raw");
    token.importHmacSecret(TOKEN_LABELS.hmacL2, new SecretBytes(world.hmacSecret), "base64");
    const address = token.importSecp256k1(TOKEN_LABELS.evm, new SecretBytes(world.evmKey));
    if (address !== world.evmAddress)
      throw new Error(`token address ${address} != vault ${world.evmAddress}`);
  } catch (err) {
    token.close();
    await fixture.dispose();
    throw err;
  }
  return {
    fixture,
    tokenOptions,
    token,
    async dispose() {
      token.close();
      await fixture.dispose();
    },
  };
}

export interface RawCSign {
  readonly n: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
  readonly perS: number;
}

/**
 * Bare `C_SignInit` + `C_Sign` through the token helper (`signRaw`, key handle
 * cached): CKM_ECDSA on a 32-byte digest, CKM_SHA256_HMAC on `hmacData`.
 * Synchronous calls, so throughput is 1 / mean latency.
 */
export function measureRawCSign(
  token: Pkcs11Token,
  run: {
    readonly mech: "ecdsa" | "hmac";
    /** Measured calls (after `warmup` unmeasured ones). */
    readonly n: number;
    readonly warmup: number;
    readonly hmacData: Uint8Array;
  },
): RawCSign {
  const { mech, n, warmup, hmacData } = run;
  const digest = new Uint8Array(32).fill(7);
  const one =
    mech === "ecdsa"
      ? () => token.signRaw("secp256k1", TOKEN_LABELS.evm, digest)
      : () => token.signRaw("hmac", TOKEN_LABELS.hmacL2, hmacData);
  for (let i = 0; i < warmup; i++) one();
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    one();
    lat.push((performance.now() - t) * 1000);
  }
  const s = stats(lat);
  return { n, ...s, perS: 1e6 / s.meanUs };
}

/**
 * The `eip712-order` handler as the pkcs11 plane needs it: as is when it
 * already exposes `digest(payload)` / `signingInput(payload)`, else wrapped
 * with a bench-side `digest` (the handler's own decode + digest functions).
 */
export function tokenReadyOrderHandler(handler: PayloadKindHandler): {
  handler: PayloadKindHandler;
  adapted: boolean;
} {
  if (canSignInToken(handler)) return { handler, adapted: false };
  const chainIds = new Set([String(POLYGON_CHAIN_ID)]);
  const digest = (payload: SignPayload): Uint8Array => {
    if (payload.kind !== "eip712-order") throw new TypeError("not an eip712-order payload");
    const decoded = decodePolymarketOrder(payload, chainIds);
    if (!decoded.ok) throw new TypeError(`eip712-order: payload_mismatch:${decoded.field}`);
    return polymarketOrderDigest(decoded.order);
  };
  return {
    handler: { kind: handler.kind, bind: handler.bind, sign: handler.sign, digest } as PayloadKindHandler,
    adapted: true,
  };
}
