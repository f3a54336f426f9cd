/**
 * The PKCS#11 plane for the plane conformance suite: a fresh SoftHSM2 token
 * holding every key of the shared scenario as a sensitive, non-extractable
 * object labelled by its key id, and `createPkcs11Plane` over it. Kept apart
 * from signerPlanes.ts so the local and remote suites never load pkcs11js.
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SecretBytes } from "../../src/core/auth/secretBytes.js";
import { openAuditLog } from "../../src/signer/audit/auditLog.js";
import { defaultPayloadHandlers } from "../../src/signer/payloads/registry.js";
import { createPkcs11Plane } from "../../src/signer/pkcs11/pkcs11Plane.js";
import { Pkcs11Token } from "../../src/signer/pkcs11/pkcs11Token.js";
import { loadSignerConfig } from "../../src/signer/signerConfig.js";
import { freshSecret, type PlaneSetup, signerConfigFor } from "./signerPlanes.js";
import { createSoftHsmFixture, softHsmAvailable } from "./softhsmFixture.js";

export { softHsmAvailable };

/**
 * Every key imported into the token under its id. A `corrupted` key is
 * provisioned as a key of the other kind under its label, so the plane finds
 * no usable key (`signer_unavailable`); a key id no scenario key has is a
 * missing key object. `openWithStorageFailure` builds a second plane over the
 * same token with a wrong PIN.
 */
export const setUpPkcs11Plane: PlaneSetup = async (scenario, dir, opts = {}) => {
  const hsm = await createSoftHsmFixture();
  const pin = `pin-${randomBytes(8).toString("hex")}`;
  const soPin = `so-${randomBytes(8).toString("hex")}`;
  const tokenLabel = "ig-plane-conformance";
  await hsm.initToken(tokenLabel, pin, soPin);
  const admin = Pkcs11Token.open({ module: hsm.module, tokenLabel, pin: new SecretBytes(Buffer.from(pin)) });
  try {
    for (const key of scenario.keys) {
      const damaged = key.state === "corrupted";
      if (key.kind === "hmac" && !damaged) {
        admin.importHmacSecret(key.id, new SecretBytes(Buffer.from(key.secret, "utf8")), key.encoding);
      } else if (key.kind === "secp256k1" && !damaged) {
        admin.importSecp256k1(key.id, new SecretBytes(Buffer.from(key.privateKeyHex, "hex")));
      } else if (key.kind === "hmac") {
        admin.generateSecp256k1(key.id);
      } else {
        admin.importHmacSecret(key.id, new SecretBytes(randomBytes(32)));
      }
    }
  } finally {
    admin.close();
  }
  const configPath = join(dir, "signer.json");
  // The vault section is required by the config schema; the pkcs11 plane never reads it.
  await writeFile(
    configPath,
    JSON.stringify(
      signerConfigFor(scenario, { vault: join(dir, "unused-vault.json"), audit: "audit.jsonl" }),
    ),
  );
  const config = await loadSignerConfig(configPath);
  const auditKey = freshSecret();
  const fixed = opts.clockMs;
  const build = async (auditFile: string, pinText: string) =>
    createPkcs11Plane({
      config: { ...config, audit: { path: join(dir, auditFile) } },
      handlers: defaultPayloadHandlers(),
      audit: await openAuditLog(join(dir, auditFile), { sync: "never", key: Buffer.from(auditKey) }),
      token: { module: hsm.module, tokenLabel, pin: new SecretBytes(Buffer.from(pinText)) },
      ...(fixed === undefined ? {} : { clock: () => fixed }),
    });
  const plane = await build("audit.jsonl", pin);
  const wrongPin = `pin-${randomBytes(8).toString("hex")}`;
  return {
    plane,
    auditPath: config.audit.path,
    auditKey: Buffer.from(auditKey),
    auditsUnknownCaller: true,
    harnessSecrets: [pin, soPin, wrongPin, auditKey],
    async openWithStorageFailure() {
      return {
        plane: await build("audit-wrong-pin.jsonl", wrongPin),
        auditPath: join(dir, "audit-wrong-pin.jsonl"),
        auditKey: Buffer.from(auditKey),
      };
    },
    async close() {
      try {
        await plane.close();
      } finally {
        await hsm.dispose();
      }
    },
  };
};
