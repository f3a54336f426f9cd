import type { SigningPlane } from "../ports/signingPlane.js";

/**
 * The same signing plane, reporting after every request whether the plane
 * answered: `false` when it threw or denied `signer_unavailable` (down,
 * unreachable, or unable to read the key), `true` for any other answer.
 * Feeds the `intentgate_signer_up` gauge; never changes an outcome.
 */
export function observedPlane(plane: SigningPlane, answered: (up: boolean) => void): SigningPlane {
  return {
    async sign(caller, request) {
      try {
        const out = await plane.sign(caller, request);
        answered(out.granted || out.reason !== "signer_unavailable");
        return out;
      } catch (err) {
        answered(false);
        throw err;
      }
    },
    close: () => plane.close(),
  };
}
