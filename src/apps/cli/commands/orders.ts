import { randomBytes } from "node:crypto";
import { type Command, Option } from "commander";
import { readConfigFile } from "../../../config/loadConfig.js";
import { VENUES, type VenueName } from "../../../core/plan.js";
import type { Backend } from "../../../ports/backend.js";
import { configOption } from "./bus.js";
import { CliError, type CliIo, EXIT, intOption, withBackend, writeLine } from "./common.js";
import { planSigningKey } from "./planSigningKey.js";
import { publishPlan } from "./publishPlan.js";

/** Options every publishing order command takes. */
interface SignedCommandOptions {
  readonly config: string;
  readonly key: string;
  readonly secretEnv: string;
  readonly timeoutMs: number;
}

/** Registers `orders`, `cancel` and `cancel-all` (wire-v1 §8). */
export function addOrderCommands(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command("orders")
    .description(
      'print working orders as JSON lines {"venue","account","symbol","client_order_id","plan_id","side","qty","price","fill_qty","mode"}',
    )
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      const config = await readConfigFile(opts.config);
      const orders = await withBackend(config, (b) => b.workingOrders());
      for (const o of orders) {
        const { venue, account, symbol, client_order_id, plan_id, side, qty, price, fill_qty, mode } = o;
        await writeLine(
          io.stdout,
          JSON.stringify({
            venue,
            account,
            symbol,
            client_order_id,
            plan_id,
            side,
            qty,
            price,
            fill_qty,
            mode,
          }),
        );
      }
    });

  withSigningOptions(
    program
      .command("cancel")
      .description(
        "publish a cancel plan for the working order of --plan-id on the manual lane; wait for its result",
      )
      .requiredOption("--plan-id <id>", "the plan whose working order to cancel"),
  ).action(async (opts: SignedCommandOptions & { planId: string }) => {
    const config = await readConfigFile(opts.config);
    await withBackend(config, async (b) => {
      const working = (await b.workingOrders()).find((o) => o.plan_id === opts.planId);
      if (working === undefined)
        throw new CliError(
          `--plan-id ${opts.planId}: no working order (already filled or cancelled, or it never rested); nothing published`,
          EXIT.FAILURE,
        );
      const plan = {
        action: "cancel",
        venue: working.venue,
        account: working.account,
        symbol: working.symbol,
        target_plan_id: opts.planId,
      };
      setExitCode(await publishAndWait(b, { io, config, opts, plan }));
    });
  });

  withSigningOptions(
    program
      .command("cancel-all")
      .description(
        "publish a cancel_all plan for an account on a venue on the manual lane; wait for its result",
      )
      .addOption(new Option("--venue <venue>", "the venue").choices(VENUES).makeOptionMandatory())
      .requiredOption("--account <account>", "the account whose working orders to cancel")
      .option("--symbol <symbol>", "only this symbol's working orders"),
  ).action(async (opts: SignedCommandOptions & { venue: VenueName; account: string; symbol?: string }) => {
    const config = await readConfigFile(opts.config);
    const plan = {
      action: "cancel_all",
      venue: opts.venue,
      account: opts.account,
      ...(opts.symbol === undefined ? {} : { symbol: opts.symbol }),
    };
    await withBackend(config, async (b) => {
      setExitCode(await publishAndWait(b, { io, config, opts, plan }));
    });
  });
}

function withSigningOptions(cmd: Command): Command {
  return cmd
    .addOption(configOption())
    .requiredOption("--key <key-id>", "the operator's key id (its source must be allowed on the manual lane)")
    .requiredOption(
      "--secret-env <name>",
      "environment variable holding the HMAC secret or the Ed25519 private key",
    )
    .option("--timeout-ms <n>", "how long to wait for the result", intOption(1, 3_600_000), 30_000);
}

/**
 * Signs the plan (adding `v`, `plan_id`, `source`, `created_at`), publishes
 * it on the manual lane, waits for its one result by stream id and prints
 * it (its reconciled result after an `UNKNOWN`). Returns 0 when EXECUTED,
 * 2 otherwise; no result within the timeout is exit 75 (the plan stays on
 * the bus and will still be decided).
 */
async function publishAndWait(
  b: Backend,
  args: {
    readonly io: CliIo;
    readonly config: Awaited<ReturnType<typeof readConfigFile>>;
    readonly opts: SignedCommandOptions;
    readonly plan: Record<string, unknown>;
  },
): Promise<number> {
  const { io, config, opts } = args;
  const { key, source } = await planSigningKey({
    io,
    config,
    configPath: opts.config,
    keyId: opts.key,
    secretEnv: opts.secretEnv,
  });
  if (source === undefined || !config.sources[source]?.lanes.includes("manual"))
    throw new CliError(
      `--key ${opts.key}: its source (${source ?? "none"}) is not allowed on the manual lane; cancels from the CLI go there`,
      EXIT.USAGE,
    );
  const plan = {
    v: 1,
    plan_id: `cli-${args.plan.action as string}-${Date.now()}-${randomBytes(4).toString("hex")}`,
    source,
    ...args.plan,
    created_at: Date.now(),
  };
  return publishPlan(b, {
    io,
    lane: "manual",
    key,
    text: JSON.stringify(plan),
    what: String(args.plan.action),
    secretEnv: opts.secretEnv,
    waitMs: opts.timeoutMs,
  });
}
