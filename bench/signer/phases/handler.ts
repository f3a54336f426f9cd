import type { RevealedKey } from "../../../src/signer/keyStore.js";
import { Vault } from "../../../src/signer/vault/vault.js";
import { KINDS } from "../fixtures.js";
import { measure } from "../measure.js";
import { fmtUs } from "../report.js";
import { localHandlers, type PhaseContext } from "./context.js";

/** Phase 1, handler only: bind + sign with the key already decrypted (no plane, no audit, no transport). */
export async function runHandlerPhase(ctx: PhaseContext): Promise<void> {
  const { world } = ctx;
  const vault = await Vault.open(world.vaultPath, world.passphrase);
  const hmacKey = await vault.reveal("bench-hmac");
  const evmKey = await vault.reveal("bench-evm");
  const handlers = localHandlers();
  for (const kind of KINDS) {
    const handler = handlers.get(kind);
    if (handler === undefined) continue;
    const reqs = ctx.requestsOf("h", kind);
    const key: RevealedKey = kind === "eip712-order" ? evmKey : hmacKey;
    const m = await measure(ctx.opts, async (i) => {
      const r = reqs[i]!;
      const bound = handler.bind(r.payload, r.target!);
      if (!bound.ok) throw new Error(`bind failed: ${bound.field}`);
      await handler.sign(r.payload, key);
    });
    ctx.rows.push({ plane: "handler only (bind+sign)", kind, audit: "-", m });
    ctx.log(`handler ${kind}: p50 ${fmtUs(m.p50Us)} µs`);
  }
  vault.close();
}
