/**
 * The executor never holds key material (signing-plane-v1 §4–5, issue
 * "canary" and "heap" proofs): with canary keys in the signer's vault, run
 * executor + remote signer end to end on both venues, then search every log
 * line, result, audit line, stdout and stderr for the keys in raw, hex,
 * base64 and base64url form (zero hits), and the executor's heap snapshot
 * and whole process memory (zero hits). The same search over the signer
 * process finds the keys, so the search can fail.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  findSecret,
  heapSnapshotOf,
  type LiveStack,
  type Proc,
  processMemoryOf,
  startLiveStack,
} from "../support/liveStack.js";

describe("canary keys never leave the signer process", () => {
  let stack: LiveStack;
  let executor: Proc;
  let ids: string[];

  beforeAll(async () => {
    stack = await startLiveStack();
    executor = await stack.startExecutor("canary-1");
    ids = [
      await stack.publish({ qty: "0.01" }),
      await stack.publish({ symbol: "ETHUSDT", qty: "0.1", side: "SELL" }),
      await stack.publishPm({}),
      await stack.publishPm({ side: "SELL", qty: "5" }),
      await stack.publish({ qty: "1" }), // denied by the signer's own limit
    ];
    await stack.waitFor((rs) =>
      ids.every((id) => rs.some((r) => r.stream_id === id && r.decision !== "UNKNOWN")),
    );
  }, 90_000);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  it("the orders really went through the signer to both venues", async () => {
    const rs = await stack.results();
    const live = rs.filter(
      (r) => ids.includes(r.stream_id) && r.mode === "live" && r.decision === "EXECUTED",
    );
    expect(live.map((r) => r.venue).sort()).toEqual([
      "binance-usdm",
      "binance-usdm",
      "polymarket",
      "polymarket",
    ]);
    const audit = await readFile(stack.auditPath, "utf8");
    expect(audit).toContain('"intent":"cex_api_signer"');
    expect(audit).toContain('"intent":"per_user_clob_signer"');
    expect(audit).toContain('"intent":"clob_api_signer"');
  });

  it("no log line, result, audit line, stdout or stderr holds a canary in any encoding", async () => {
    const results = JSON.stringify(await stack.results());
    const audit = await readFile(stack.auditPath, "utf8");
    const haystacks = [executor.output(), stack.signer.output(), results, audit, stack.executorOutput()];
    for (const canary of stack.canaries()) expect(findSecret(canary, haystacks)).toEqual([]);
  });

  it("the executor's heap snapshot and whole memory hold no canary; the signer's do", async () => {
    const execSnapshot = await heapSnapshotOf(executor, join(stack.dir, "executor-heap-canary-1"));
    const execMemory = await processMemoryOf(executor.child.pid!);
    for (const canary of stack.canaries()) {
      expect(findSecret(canary, [execSnapshot]), "executor heap snapshot").toEqual([]);
      expect(findSecret(canary, execMemory), "executor process memory").toEqual([]);
    }
    // The control: the executor does hold its own non-signing credentials (the venue API key header),
    // so the memory search finds what is there.
    expect(findSecret(stack.secrets.apiKey, execMemory).length).toBeGreaterThan(0);

    // The signer holds the keys: the same search over its memory finds them.
    const signerMemory = await processMemoryOf(stack.signer.child.pid!);
    const signerSnapshot = await heapSnapshotOf(stack.signer, join(stack.dir, "signer-heap"));
    const found = stack.canaries().map((c) => findSecret(c, [signerSnapshot, ...signerMemory]).length > 0);
    expect(found, "the search finds every canary in the signer process").toEqual(found.map(() => true));
  }, 120_000);
});
