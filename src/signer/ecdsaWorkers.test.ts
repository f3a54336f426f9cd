import { secp256k1 } from "@noble/curves/secp256k1.js";
import { afterEach, describe, expect, it } from "vitest";
import { toChecksumAddress } from "../core/evm/address.js";
import { addressOfPublicKey } from "../core/evm/ecdsa.js";
import { createEcdsaSigner, EcdsaWorkerPool } from "./ecdsaWorkers.js";
import { KeyStoreError } from "./keyStore.js";
import { InThreadEcdsaSigner } from "./signInput.js";

const pools: { close(): Promise<void> }[] = [];
afterEach(async () => {
  while (pools.length > 0) await pools.pop()!.close();
});

const key = secp256k1.utils.randomSecretKey();
const address = addressOfPublicKey(secp256k1.getPublicKey(key, false));

describe("ECDSA on worker threads", () => {
  it("signs on real worker threads exactly as on this thread, many jobs in flight", async () => {
    const pool = new EcdsaWorkerPool(2);
    pools.push(pool);
    const here = new InThreadEcdsaSigner();
    const digests = Array.from({ length: 40 }, (_, i) =>
      Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j) & 0xff),
    );
    const [there, local] = await Promise.all([
      Promise.all(digests.map((d) => pool.signDigest(d, key, address))),
      Promise.all(digests.map((d) => here.signDigest(d, key, address))),
    ]);
    expect(pool.inThread).toBe(false);
    expect(there).toEqual(local);
    expect(there[0]?.checksumAddress).toBe(toChecksumAddress(address));
  });

  it("refuses a key that is not the address's as corrupted, never quoting it; the caller's key buffer is left as it was", async () => {
    const pool = new EcdsaWorkerPool(1);
    pools.push(pool);
    const other = secp256k1.utils.randomSecretKey();
    const copy = Uint8Array.from(other);
    const error = await pool.signDigest(new Uint8Array(32).fill(1), other, address).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyStoreError);
    expect(error).toMatchObject({ code: "corrupted" });
    expect(String((error as Error).message)).not.toContain(Buffer.from(other).toString("hex"));
    expect(other).toEqual(copy);
    // the pool keeps working
    await expect(pool.signDigest(new Uint8Array(32).fill(2), key, address)).resolves.toMatchObject({
      recovery: expect.any(Number),
    });
  });

  it("rejects jobs after close; 0 workers means this thread", async () => {
    const pool = new EcdsaWorkerPool(1);
    await pool.signDigest(new Uint8Array(32).fill(3), key, address);
    await pool.close();
    await expect(pool.signDigest(new Uint8Array(32), key, address)).rejects.toThrow(/closed/);
    expect(createEcdsaSigner(0)).toBeInstanceOf(InThreadEcdsaSigner);
    const auto = createEcdsaSigner("auto");
    pools.push(auto);
    expect(auto).toBeInstanceOf(EcdsaWorkerPool);
    expect(() => createEcdsaSigner(-1)).toThrow(RangeError);
  });
});
