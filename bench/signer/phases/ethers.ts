import { type Measured, measure } from "../measure.js";
import { fmtUs } from "../report.js";
import type { PhaseContext } from "./context.js";

/** Phase 4, ethers v6 `Wallet.signTypedData` in this process on the same orders. */
export async function runEthersPhase(ctx: PhaseContext): Promise<Measured> {
  const ethers = await measure(ctx.opts, async (i) => {
    await ctx.ethersSign(i);
  });
  ctx.rows.push({ plane: "ethers Wallet.signTypedData", kind: "eip712-order", audit: "-", m: ethers });
  ctx.log(`ethers: p50 ${fmtUs(ethers.p50Us)} µs, ${Math.round(ethers.concPerS)}/s`);
  return ethers;
}
