import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openBackend } from "../../adapters/openBackend.js";
import { parseConfigText } from "../../config/loadConfig.js";
import type { PlanResult } from "../../core/result.js";
import { Executor } from "../../executor/executor.js";
import type { Backend } from "../../ports/backend.js";
import { signPlan } from "../../sdk/signPlan.js";

interface Step {
  readonly title: string;
  readonly before?: (backend: Backend) => Promise<void>;
  readonly fields: () => ReadonlyArray<readonly [string, string]>;
}

/**
 * Runs a scripted scenario end to end on a throw-away embedded bus: real
 * signatures, the real gate chain, the real SQLite ledger. Prints a table of
 * plan → decision → reason and the resulting paper positions. Returns the
 * exit code (0 when every step got the decision the script expects).
 */
export async function runDemo(out: NodeJS.WritableStream): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "intentgate-demo-"));
  const exitSecret = randomBytes(32).toString("base64url");
  const bridge = generateKeyPairSync("ed25519");
  // A JWK's `x` is the raw 32-byte public key as unpadded base64url: the config's form.
  const bridgePublic = bridge.publicKey.export({ format: "jwk" }).x as string;
  const config = {
    bus: `sqlite:${join(dir, "demo.db")}`,
    exit_owner: "exitbrain_v3_5",
    keys: {
      "exitbrain-k1": { alg: "hmac-sha256", secret_env: "DEMO_EXITBRAIN_SECRET", source: "exitbrain_v3_5" },
      "bridge-k1": { alg: "ed25519", public_key: bridgePublic, source: "intent_bridge" },
    },
    sources: { exitbrain_v3_5: { lanes: ["main"] }, intent_bridge: { lanes: ["main"] } },
    limits: { max_qty: { BTCUSDT: "5" }, max_notional: "250000" },
    venues: { paper: { prices: { BTCUSDT: "65000" } } },
  };
  const { policy } = await parseConfigText(JSON.stringify(config), "json", {
    DEMO_EXITBRAIN_SECRET: exitSecret,
  });
  // A new embedded bus: the file comes with its deployment (wire-v1 §7b), as when the executor creates it.
  const backend = await openBackend({ url: config.bus, prefix: "intentgate:", create: "deployment" });
  try {
    const executor = new Executor({
      backend,
      policy: () => policy,
      consumer: "demo",
      settings: {
        batchSize: 10,
        claimIdleMs: 15_000,
        maxDeliveries: 10,
        blockMs: 50,
        maxConflictRetries: 10,
        maxBusClockSkewMs: 1000,
      },
      observer: { decided() {}, duplicate() {}, gaveUp() {}, failed() {} },
    });
    const exitKey = { keyId: "exitbrain-k1", alg: "hmac-sha256", secret: exitSecret } as const;
    const bridgeKey = { keyId: "bridge-k1", alg: "ed25519", privateKey: bridge.privateKey } as const;
    const plan = (over: Record<string, unknown>) => ({
      v: 1,
      venue: "paper",
      symbol: "BTCUSDT",
      side: "BUY",
      qty: "0.5",
      created_at: Date.now(),
      ...over,
    });
    const signed = (key: Parameters<typeof signPlan>[0]["key"], p: Record<string, unknown>) => () => {
      const s = signPlan({ plan: plan(p), key });
      return [
        ["plan", s.plan],
        ["auth", s.auth],
      ] as const;
    };
    const steps: Step[] = [
      { title: "authorized open", fields: signed(bridgeKey, { plan_id: "demo-1", source: "intent_bridge" }) },
      {
        title: "spoofed source (bridge key claims exitbrain)",
        fields: signed(bridgeKey, {
          plan_id: "demo-2",
          source: "exitbrain_v3_5",
          side: "SELL",
          reduce_only: true,
        }),
      },
      {
        title: "reduce_only from a non-owner",
        fields: signed(bridgeKey, {
          plan_id: "demo-3",
          source: "intent_bridge",
          side: "SELL",
          reduce_only: true,
        }),
      },
      {
        title: "exit owner closes",
        fields: signed(exitKey, {
          plan_id: "demo-4",
          source: "exitbrain_v3_5",
          side: "SELL",
          reduce_only: true,
        }),
      },
      {
        title: "trading HALTED",
        before: (b) => b.setTradingState("HALTED", "demo"),
        fields: signed(bridgeKey, { plan_id: "demo-5", source: "intent_bridge" }),
      },
      {
        title: "duplicate plan_id (after ACTIVE again)",
        before: (b) => b.setTradingState("ACTIVE", "demo"),
        fields: signed(bridgeKey, { plan_id: "demo-1", source: "intent_bridge" }),
      },
      { title: "malformed entry", fields: () => [["plan", '{"v":1,"plan_id":'] as const] },
      {
        title: "unsigned plan",
        fields: () => [["plan", JSON.stringify(plan({ plan_id: "demo-8", source: "intent_bridge" }))]],
      },
    ];
    const expected = ["EXECUTED", "DENIED", "DENIED", "EXECUTED", "DENIED", "DENIED", "DENIED", "DENIED"];
    const rows: string[][] = [];
    let lastResultId = "0";
    let ok = true;
    for (const [i, step] of steps.entries()) {
      await step.before?.(backend);
      const streamId = await backend.publish("main", step.fields());
      const result = await awaitResult(executor, backend, streamId, lastResultId);
      lastResultId = result.id;
      ok &&= result.result.decision === expected[i];
      rows.push([
        String(i + 1),
        step.title,
        result.result.plan_id ?? "—",
        result.result.decision,
        result.result.error ?? "—",
      ]);
    }
    out.write(`${table(["#", "scenario", "plan_id", "decision", "reason"], rows)}\n`);
    const positions = await backend.positions();
    out.write(
      `\npaper positions: ${positions.length === 0 ? "flat" : positions.map((p) => `${p.account}/${p.symbol} ${p.qty}`).join(", ")}\n`,
    );
    out.write(`pending entries: ${await backend.pendingCount()}\n`);
    return ok ? 0 : 1;
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function awaitResult(
  executor: Executor,
  backend: Backend,
  streamId: string,
  after: string,
): Promise<{ id: string; result: PlanResult }> {
  for (let i = 0; i < 100; i++) {
    await executor.step();
    const found = (await backend.readResults(after, 100)).find((r) => r.result.stream_id === streamId);
    if (found) return found;
  }
  throw new Error(`no result for entry ${streamId}`);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
