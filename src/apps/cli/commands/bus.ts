import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError, Option } from "commander";
import { readConfigFile } from "../../../config/loadConfig.js";
import type { Lane, TradingState } from "../../../core/plan.js";
import { TRADING_STATES } from "../../../core/plan.js";
import { createLogger, flushLogger } from "../../../ops/logger.js";
import type { Backend } from "../../../ports/backend.js";
import { DeploymentExistsError } from "../../../ports/deployment.js";
import { signPlan } from "../../../sdk/signPlan.js";
import { CliError, type CliIo, defaultWho, EXIT, withBackend, writeLine } from "./common.js";
import { planSigningKey } from "./planSigningKey.js";

function parseState(value: string): TradingState {
  const s = value.toUpperCase();
  if (!(TRADING_STATES as readonly string[]).includes(s)) {
    throw new InvalidArgumentError(`expected one of ${TRADING_STATES.join(", ")}`);
  }
  return s as TradingState;
}

/** The mandatory `--config` option of the commands that talk to the bus. */
export const configOption = (): Option =>
  new Option("--config <path>", "executor config file (JSON or YAML)").makeOptionMandatory();

/** `init`, `state get|set`, `submit`, `results`, `positions`: commands that talk to the bus. */
export function addBusCommands(program: Command, io: CliIo): void {
  program
    .command("init")
    .description(
      "create the deployment (wire-v1 §7b): a new marker, the consumer groups and the trading state; prints its id",
    )
    .addOption(configOption())
    .addOption(
      new Option("--state <state>", "the trading state it starts in")
        .argParser(parseState)
        .default("HALTED" as TradingState),
    )
    .option("--force", "replace an existing marker (only after a data loss you have looked at)")
    .option("--who <name>", "who creates it, for the state log (default <user>@<hostname>)")
    .action(async (opts: { config: string; state: TradingState; force?: boolean; who?: string }) => {
      const config = await readConfigFile(opts.config);
      const who = checkedWho(opts.who ?? defaultWho(io.env));
      const id = await withBackend(
        config,
        async (b) => {
          try {
            return await b.initDeployment({
              state: opts.state,
              who: `init:${who}`,
              replace: opts.force === true,
            });
          } catch (err) {
            if (err instanceof DeploymentExistsError)
              throw new CliError(
                `a deployment already exists on this bus (${err.existing}); nothing changed. ` +
                  "Run init again with --force only after a data loss (its claims and state are kept).",
                EXIT.CANTCREAT,
              );
            throw err;
          }
        },
        { create: "file" },
      );
      const log = createLogger({ level: config.log_level, destination: 2, base: { cmd: "init" } });
      log.info(
        { deployment: id, state: opts.state, who, replaced: opts.force === true },
        "deployment created",
      );
      await flushLogger(log);
      await writeLine(io.stdout, id);
    });

  const state = program.command("state").description("read or set the deployment's trading state");

  state
    .command("get")
    .description("print the trading state (ACTIVE, REDUCING or HALTED)")
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      const config = await readConfigFile(opts.config);
      const current = await withBackend(config, async (b) => {
        await requireDeployment(b);
        return b.getTradingState();
      });
      await writeLine(io.stdout, current);
    });

  state
    .command("set")
    .description("set the trading state; applies to every decision made after this returns")
    .argument("<state>", `one of ${TRADING_STATES.join(", ")}`, parseState)
    .addOption(configOption())
    .option("--who <name>", "who is changing it, for the state log (default <user>@<hostname>)")
    .action(async (next: TradingState, opts: { config: string; who?: string }) => {
      const config = await readConfigFile(opts.config);
      const who = checkedWho(opts.who ?? defaultWho(io.env));
      const previous = await withBackend(config, async (b) => {
        await requireDeployment(b);
        const before = await b.getTradingState();
        await b.setTradingState(next, who);
        return before;
      });
      const log = createLogger({ level: config.log_level, destination: 2, base: { cmd: "state set" } });
      log.info({ state: next, previous, who }, "trading state changed");
      await flushLogger(log);
      io.stderr.write(`intentgate: trading state ${previous} -> ${next} (by ${who})\n`);
    });

  program
    .command("submit")
    .description("sign a plan file's exact bytes and publish it")
    .argument("<plan-file>", "the plan JSON file; its bytes are signed and sent unchanged")
    .addOption(configOption())
    .requiredOption("--key <key-id>", "the key id (in the config's keys) to sign with")
    .requiredOption(
      "--secret-env <name>",
      "environment variable holding the HMAC secret or the Ed25519 private key",
    )
    .addOption(new Option("--lane <lane>", "plan lane").choices(["main", "manual"]).default("main"))
    .action(async (file: string, opts: { config: string; key: string; secretEnv: string; lane: Lane }) => {
      const config = await readConfigFile(opts.config);
      const { key, source: keySource } = await planSigningKey({
        io,
        config,
        configPath: opts.config,
        keyId: opts.key,
        secretEnv: opts.secretEnv,
      });

      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (err) {
        throw new CliError(
          `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
          EXIT.NOINPUT,
        );
      }
      let text: string;
      try {
        // ignoreBOM keeps a BOM in the text, so the published text re-encodes to exactly these bytes
        text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
      } catch {
        throw new CliError(`${file}: not UTF-8`, EXIT.DATAERR);
      }
      warnAboutPlan(io, {
        text,
        keySource,
        lanes: config.sources[keySource ?? ""]?.lanes,
        lane: opts.lane,
      });

      let signed: ReturnType<typeof signPlan>;
      try {
        signed = signPlan({ plan: text, key });
      } catch (err) {
        throw new CliError(`--secret-env ${opts.secretEnv}: ${(err as Error).message}`, EXIT.CONFIG);
      }
      const streamId = await withBackend(config, (b) =>
        b.publish(opts.lane, [
          ["plan", signed.plan],
          ["auth", signed.auth],
        ]),
      );
      await writeLine(io.stdout, JSON.stringify({ stream_id: streamId, lane: opts.lane }));
    });

  program
    .command("results")
    .description("print results as JSON lines")
    .addOption(configOption())
    .option("--follow", "keep waiting for new results until interrupted")
    .option("--after <id>", "only results after this result-stream id", "0")
    .option("--ids", 'print {"id","result"} objects, so a later --after can resume')
    .action(async (opts: { config: string; follow?: boolean; after: string; ids?: boolean }) => {
      if (!/^(0|[0-9]+-[0-9]+|[0-9]+)$/.test(opts.after)) {
        throw new CliError("--after: expected a stream id such as 1700000000000-0", EXIT.USAGE);
      }
      const config = await readConfigFile(opts.config);
      let stopped = false;
      const stop = (): void => {
        stopped = true;
      };
      if (opts.follow) {
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      }
      try {
        await withBackend(config, async (b) => {
          let after = opts.after;
          // Pages without waiting until caught up; then, with --follow, waits up to 1 s per read.
          let blockMs = 0;
          while (!stopped) {
            const page = await b.readResults(after, 100, blockMs);
            for (const entry of page) {
              await writeLine(
                io.stdout,
                JSON.stringify(opts.ids ? { id: entry.id, result: entry.result } : entry.result),
              );
              after = entry.id;
            }
            if (page.length > 0) {
              blockMs = 0;
              continue;
            }
            if (!opts.follow) break;
            blockMs = 1000;
          }
        });
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
    });

  program
    .command("positions")
    .description('print paper positions as JSON lines {"account","symbol","qty"}')
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      const config = await readConfigFile(opts.config);
      const positions = await withBackend(config, (b) => b.positions());
      for (const p of positions) {
        await writeLine(io.stdout, JSON.stringify({ account: p.account, symbol: p.symbol, qty: p.qty }));
      }
    });
}

/** A `--who` value: 1-200 characters. */
function checkedWho(who: string): string {
  if (who.trim() === "" || who.length > 200)
    throw new CliError("--who: expected 1-200 characters", EXIT.USAGE);
  return who;
}

/**
 * Refuses to read or change the trading state of a bus with no deployment
 * marker: after a data loss the state would read `ACTIVE` by default, and a
 * state set would write into a deployment that does not exist (wire-v1 §7b).
 */
async function requireDeployment(b: Backend): Promise<void> {
  if ((await b.readDeployment()) === undefined)
    throw new CliError(
      "no deployment on this bus (never created, or the bus lost its data): run `intentgate init --config F`",
      EXIT.UNAVAILABLE,
    );
}

/** Warnings only: the executor decides; a plan it will deny is still published (and gets its result). */
function warnAboutPlan(
  io: CliIo,
  {
    text,
    keySource,
    lanes,
    lane,
  }: {
    /** The plan's text as it will be published. */
    readonly text: string;
    /** The signing key's source, when the key is bound to one. */
    readonly keySource: string | undefined;
    /** The lanes that source may publish on, when configured. */
    readonly lanes: readonly string[] | undefined;
    readonly lane: Lane;
  },
): void {
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch {
    io.stderr.write(
      "intentgate: warning: the plan is not valid JSON; the executor will deny it (invalid_plan)\n",
    );
    return;
  }
  const source = (plan as { source?: unknown } | null)?.source;
  if (typeof source === "string" && keySource !== undefined && source !== keySource) {
    io.stderr.write(
      `intentgate: warning: plan source "${source}" is not the key's source "${keySource}"; the executor will deny it\n`,
    );
  }
  if (lanes !== undefined && !lanes.includes(lane)) {
    io.stderr.write(`intentgate: warning: source "${keySource}" is not allowed on lane ${lane}\n`);
  }
}
