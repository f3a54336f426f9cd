import { describe } from "vitest";
import { setUpPkcs11Plane, softHsmAvailable } from "../support/signerPkcs11.js";
import { describePlaneConformance } from "./planeConformance.js";

const available = softHsmAvailable();
if (!available) {
  console.warn(
    "pkcs11 plane conformance skipped: SoftHSM2 is not installed (/usr/lib/softhsm/libsofthsm2.so)",
  );
}

describe.skipIf(!available)("pkcs11 (SoftHSM2)", () => {
  describePlaneConformance("pkcs11", setUpPkcs11Plane, { startsWithoutKeyStorage: true });
});
