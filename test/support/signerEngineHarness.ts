import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { SecretBytes } from "../../src/core/auth/secretBytes.js";
import type { SignOutcome } from "../../src/ports/signingPlane.js";
import { openAuditLog } from "../../src/signer/audit/auditLog.js";
import type { AuditRecord } from "../../src/signer/audit/auditRecord.js";
import { type KeyStore, KeyStoreError, type RevealedKey } from "../../src/signer/keyStore.js";
import { defaultPayloadHandlers } from "../../src/signer/payloads/registry.js";
import { PolicyLedger } from "../../src/signer/policy/policyLedger.js";
import { windowRestorer } from "../../src/signer/policy/restoreWindows.js";
import type { SignerConfig } from "../../src/signer/signerConfig.js";
import { SignerEngine } from "../../src/signer/signerEngine.js";

/** HMAC secrets by vault entry id, in memory (no vault file). */
export class MemoryHmacKeyStore implements KeyStore {
  constructor(private readonly entries: Readonly<Record<string, string>>) {}
  async reveal(entryId: string): Promise<RevealedKey> {
    const e = this.entries[entryId];
    if (e === undefined) throw new KeyStoreError("not_found", `no entry ${entryId}`);
    return { kind: "hmac", secret: new SecretBytes(Buffer.from(e, "utf8")) };
  }
}

/** The audit key every engine of these tests MACs its lines with. */
export const HARNESS_AUDIT_KEY = randomBytes(32);

/**
 * The real signer engine (the pipeline every plane runs) over an in-memory
 * key store, with its audit log at `auditPath` (windows rebuilt from it, as
 * the signer process does at start) and the clock the test moves.
 */
export async function openTestEngine(o: {
  readonly config: SignerConfig;
  readonly auditPath: string;
  readonly clock: () => number;
  readonly secrets: Readonly<Record<string, string>>;
}): Promise<SignerEngine> {
  const ledger = new PolicyLedger();
  const audit = await openAuditLog(o.auditPath, {
    key: HARNESS_AUDIT_KEY,
    sync: "never",
    onRecord: windowRestorer(o.config, ledger, o.clock()),
  });
  return new SignerEngine({
    config: o.config,
    keyStore: new MemoryHmacKeyStore(o.secrets),
    handlers: defaultPayloadHandlers(),
    audit,
    clock: o.clock,
    ledger,
    ecdsaWorkers: 0,
  });
}

/** Every line of an audit log, parsed. */
export async function auditLines(path: string): Promise<AuditRecord[]> {
  return (await readFile(path, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as AuditRecord);
}

/** `granted`, or the denial reason. */
export const outcomeOf = (o: SignOutcome): string => (o.granted ? "granted" : o.reason);
