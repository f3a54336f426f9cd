import { verifyTypedData, Wallet } from "ethers";
import { type BenchWorld, orderDomain, orderStruct, orderValue } from "./fixtures.js";

/**
 * ethers v6 `Wallet.signTypedData` in this process on the same order the
 * plane signs (same domain, same `Order` struct from the handler's domain
 * table, same values): the in-process path a clob-client style caller takes.
 */
export function ethersOrderSigner(world: BenchWorld): (i: number) => Promise<string> {
  const wallet = new Wallet(`0x${world.evmKey.toString("hex")}`);
  const d = orderDomain();
  const domain = { ...d, chainId: BigInt(d.chainId) };
  const types = { Order: orderStruct().map((f) => ({ name: f.name, type: f.type })) };
  return (i) => wallet.signTypedData(domain, types, orderValue(world.evmAddress, i));
}

/** The address an order signature (request `i`'s order) recovers to, by ethers. */
export function recoverOrderSigner(world: BenchWorld, i: number, signature: string): string {
  const d = orderDomain();
  const domain = { ...d, chainId: BigInt(d.chainId) };
  const types = { Order: orderStruct().map((f) => ({ name: f.name, type: f.type })) };
  return verifyTypedData(domain, types, orderValue(world.evmAddress, i), signature);
}
