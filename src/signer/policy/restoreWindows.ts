import { parseDecimal } from "../../core/decimal.js";
import { INTENT_PAYLOAD_KIND, type Intent } from "../../ports/signingPlane.js";
import type { AuditRecord } from "../audit/auditRecord.js";
import { actionSpec } from "../payloads/actions.js";
import type { SignerConfig } from "../signerConfig.js";
import { compilePolicies } from "./intentPolicy.js";
import type { PolicyLedger } from "./policyLedger.js";

/**
 * The rolling windows' durable record is the audit log (signing-plane-v1
 * §3a: recorded durably before the signature is returned, kept across
 * restarts): every granted order line carries the signer's own notional, and
 * a grant that counts in a window is returned only once its line is synced.
 * This returns the `onRecord` callback `openAuditLog` feeds with every
 * verified line at start: it counts each granted order of an intent with
 * windows, younger than the longest of them at `nowMs`, into `ledger`.
 * A line with no notional (an order signed when no notional limit applied)
 * counts as an order of no notional.
 */
export function windowRestorer(
  config: SignerConfig,
  ledger: PolicyLedger,
  nowMs: number,
): (record: AuditRecord) => void {
  const policies = compilePolicies(config);
  return (r) => {
    if (r.decision !== "granted" || r.account === null || r.intent === null || r.action === null) return;
    const intent = r.intent as Intent;
    const windows = policies.get(intent)?.windows;
    const kind = INTENT_PAYLOAD_KIND[intent];
    if (windows === undefined || windows.length === 0 || kind === undefined) return;
    // Only orders count in windows: never a cancel, a keep-alive or a read.
    if (actionSpec(kind, r.action)?.rate !== "order") return;
    const at = Date.parse(r.time);
    const longest = Math.max(...windows.map((w) => w.ms));
    if (!(at > nowMs - longest)) return;
    const notional = r.notional === null ? undefined : parseDecimal(r.notional);
    ledger.restore(`${intent}\n${r.account}`, windows, at, notional);
  };
}
