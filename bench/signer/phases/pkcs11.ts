import { join } from "node:path";
import { openAuditLog } from "../../../src/signer/audit/auditLog.js";
import type { PayloadKindHandler } from "../../../src/signer/payloadKind.js";
import { polymarketOrderHandler } from "../../../src/signer/payloads/polymarketOrder.js";
import { defaultPayloadHandlers } from "../../../src/signer/payloads/registry.js";
import { createPkcs11Plane } from "../../../src/signer/pkcs11/pkcs11Plane.js";
import { loadSignerConfig } from "../../../src/signer/signerConfig.js";
import { checkPlane } from "../expected.js";
import { CALLER, KINDS, makeRequest, writeSignerConfig } from "../fixtures.js";
import { measure, planeOp } from "../measure.js";
import {
  measureRawCSign,
  type RawCSign,
  type SoftHsm,
  setupSoftHsm,
  softHsmMissing,
  TOKEN_LABELS,
  tokenReadyOrderHandler,
} from "../pkcs11.js";
import { fmtUs } from "../report.js";
import type { PhaseContext } from "./context.js";

export interface Pkcs11Result {
  readonly raw: { ecdsa?: RawCSign; hmac?: RawCSign };
  /** Why nothing was measured, or undefined when it was. */
  readonly reason: string | undefined;
}

/**
 * Phase 5, PKCS#11: raw C_Sign on SoftHSM2, then the pkcs11 plane (audit
 * group and never). The token store is made just before use (nothing earlier
 * in this process opens the module); main disposes of it at the end.
 */
export async function runPkcs11Phase(ctx: PhaseContext): Promise<Pkcs11Result> {
  let reason = await softHsmMissing();
  let hsm: SoftHsm | undefined;
  if (reason === undefined) {
    try {
      hsm = await setupSoftHsm(ctx.world);
      const made = hsm;
      ctx.defer(() => made.dispose());
      ctx.log(`SoftHSM2 token "ig-bench" in ${hsm.fixture.dir}: keys imported`);
    } catch (err) {
      reason = `SoftHSM2 setup failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  if (hsm === undefined) return { raw: {}, reason };
  const raw = measureRaw(ctx, hsm);
  await measurePlane(ctx, hsm);
  return { raw, reason };
}

/** Bare C_Sign: CKM_ECDSA on a digest, CKM_SHA256_HMAC on request 0's L2 message. */
function measureRaw(ctx: PhaseContext, hsm: SoftHsm): { ecdsa: RawCSign; hmac: RawCSign } {
  const l2 = makeRequest(ctx.world, "hmac-clob-l2", "raw", 0).payload as {
    timestamp: string;
    method: string;
    path: string;
    body: string;
  };
  const hmacData = Buffer.from(l2.timestamp + l2.method + l2.path + l2.body, "utf8");
  const { seqN: n, warmup } = ctx.opts;
  const ecdsa = measureRawCSign(hsm.token, { mech: "ecdsa", n, warmup, hmacData });
  const hmac = measureRawCSign(hsm.token, { mech: "hmac", n, warmup, hmacData });
  for (const [mech, r] of [
    ["CKM_ECDSA (32 B digest)", ecdsa],
    ["CKM_SHA256_HMAC (L2 message)", hmac],
  ] as const) {
    ctx.rows.push({
      plane: "raw C_Sign (SoftHSM2)",
      kind: mech,
      audit: "-",
      m: {
        seqN: r.n,
        p50Us: r.p50Us,
        p99Us: r.p99Us,
        meanUs: r.meanUs,
        seqPerS: r.perS,
        concN: 0,
        concurrency: 1,
        concPerS: r.perS,
      },
      note: "synchronous: K-in-flight = 1/mean",
    });
  }
  ctx.log(`raw C_Sign: ECDSA p50 ${fmtUs(ecdsa.p50Us)} µs, HMAC p50 ${fmtUs(hmac.p50Us)} µs`);
  return { ecdsa, hmac };
}

/** The pkcs11 plane on the token, audit group then never. */
async function measurePlane(ctx: PhaseContext, hsm: SoftHsm): Promise<void> {
  const orderHandler = tokenReadyOrderHandler(polymarketOrderHandler as unknown as PayloadKindHandler);
  if (orderHandler.adapted) {
    ctx.notes.push(
      "pkcs11 eip712-order: this build's polymarketOrderHandler has no bindInput()/digest(), so the pkcs11 " +
        "plane refuses it; measured with a bench-side digest() (decodePolymarketOrder + polymarketOrderDigest). " +
        "NB: on that path nothing checks order.signer == the token key's address.",
    );
  }
  for (const sync of ["group", "never"] as const) {
    const auditPath = join(ctx.workDir, `audit-pkcs11-${sync}.jsonl`);
    const config = await loadSignerConfig(
      await writeSignerConfig(ctx.world, {
        name: `pkcs11-${sync}`,
        auditPath,
        entries: { cex: TOKEN_LABELS.hmacRaw, clob: TOKEN_LABELS.hmacL2, order: TOKEN_LABELS.evm },
      }),
    );
    const handlers = new Map(defaultPayloadHandlers());
    handlers.set("eip712-order", orderHandler.handler);
    const plane = createPkcs11Plane({
      config,
      handlers,
      audit: await openAuditLog(auditPath, { sync, key: ctx.world.auditKey }),
      token: hsm.tokenOptions,
    });
    try {
      await plane.connect();
      await checkPlane(ctx, plane, `pkcs11-${sync}`);
      for (const kind of KINDS) {
        const m = await measure(ctx.opts, planeOp(plane, CALLER, ctx.requestsOf(`p${sync[0]}`, kind)));
        ctx.rows.push({
          plane: "pkcs11 (SoftHSM2)",
          kind,
          audit: sync,
          m,
          ...(kind === "eip712-order" && orderHandler.adapted ? { note: "bench digest adapter" } : {}),
        });
        ctx.log(`pkcs11 ${sync} ${kind}: p50 ${fmtUs(m.p50Us)} µs, ${Math.round(m.concPerS)}/s`);
      }
    } finally {
      await plane.close();
    }
  }
}
