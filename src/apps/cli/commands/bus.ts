import { type Command, InvalidArgumentError, Option } from "commander";
import { readConfigFile } from "../../../config/loadConfig.js";
import type { TradingState } from "../../../core/plan.js";
import { TRADING_STATES, VENUES } from "../../../core/plan.js";
import { createLogger, flushLogger } from "../../../ops/logger.js";
import type { Backend } from "../../../ports/backend.js";
import { DeploymentExistsError } from "../../../ports/deployment.js";
import { CliError, type CliIo, defaultWho, EXIT, withBackend, writeLine } from "./common.js";

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

/** `init`, `state get|set`, `positions`: commands that read or set the deployment (producers' commands: producer.ts). */
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
    .command("positions")
    .description(
      'print positions as JSON lines {"venue","mode","account","symbol","qty"}, each book apart (mode paper: the paper venue or a live venue\'s dry run; live: filled at the venue)',
    )
    .addOption(configOption())
    .addOption(new Option("--venue <venue>", "only this venue's positions").choices(VENUES))
    .addOption(new Option("--mode <mode>", "only this mode's positions").choices(["paper", "live"]))
    .action(async (opts: { config: string; venue?: string; mode?: string }) => {
      const config = await readConfigFile(opts.config);
      const positions = await withBackend(config, (b) => b.positions());
      for (const p of positions) {
        if ((opts.venue ?? p.venue) !== p.venue || (opts.mode ?? p.mode) !== p.mode) continue;
        const { venue, mode, account, symbol, qty } = p;
        await writeLine(io.stdout, JSON.stringify({ venue, mode, account, symbol, qty }));
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
