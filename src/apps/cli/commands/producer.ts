import { readFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import type { ExecutorConfig } from "../../../config/configSchema.js";
import { readConfigFile } from "../../../config/loadConfig.js";
import type { Lane } from "../../../core/plan.js";
import type { DecisionKind } from "../../../core/result.js";
import { checkPlanText, PlanInputError } from "../../../sdk/planInput.js";
import { PlanPrechecker } from "../../../sdk/prechecker.js";
import { type ResultFilter, ResultReader } from "../../../sdk/resultReader.js";
import { signPlan } from "../../../sdk/signPlan.js";
import { configOption } from "./bus.js";
import { CliError, type CliIo, EXIT, intOption, withBackend, writeLine } from "./common.js";
import { planSigningKey } from "./planSigningKey.js";
import { publishPlan } from "./publishPlan.js";

const laneOption = () => new Option("--lane <lane>", "plan lane").choices(["main", "manual"]).default("main");

const NOT_A_DECISION =
  "a pre-check passing is not a decision: the executor decides when it reads the plan, with the facts of that moment";

/** `submit`, `check`, `results`: the producer's commands (layer 1). */
export function addProducerCommands(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command("submit")
    .description("check a plan file, sign its exact bytes and publish it; --wait prints its result")
    .argument("<plan-file>", "the plan JSON file; its bytes are signed and sent unchanged")
    .addOption(configOption())
    .requiredOption("--key <key-id>", "the key id (in the config's keys) to sign with")
    .requiredOption(
      "--secret-env <name>",
      "environment variable holding the HMAC secret or the Ed25519 private key",
    )
    .addOption(laneOption())
    .option("--check", "pre-check with the executor's gates first; publish nothing if it would be denied")
    .option("--wait", "wait for the plan's own result (its reconciled one after an UNKNOWN) and print it")
    .option("--timeout-ms <n>", "how long --wait waits", intOption(1, 3_600_000), 30_000)
    .action(
      async (
        file: string,
        opts: {
          config: string;
          key: string;
          secretEnv: string;
          lane: Lane;
          check?: boolean;
          wait?: boolean;
          timeoutMs: number;
        },
      ) => {
        const config = await readConfigFile(opts.config);
        const { key, source: keySource } = await planSigningKey({
          io,
          config,
          configPath: opts.config,
          keyId: opts.key,
          secretEnv: opts.secretEnv,
        });
        const text = await readPlanFile(file);
        warnAboutPlan(io, {
          text,
          keySource,
          lanes: config.sources[keySource ?? ""]?.lanes,
          lane: opts.lane,
        });
        const code = await withBackend(config, async (b) =>
          publishPlan(b, {
            io,
            lane: opts.lane,
            key,
            text,
            what: file,
            secretEnv: opts.secretEnv,
            ...(opts.check
              ? {
                  prechecker: await PlanPrechecker.fromConfig({
                    configPath: opts.config,
                    ledger: b,
                    ownKey: key,
                    env: io.env,
                  }),
                }
              : {}),
            ...(opts.wait ? { waitMs: opts.timeoutMs } : {}),
          }),
        );
        setExitCode(code);
      },
    );

  program
    .command("check")
    .description(
      "pre-check a plan file with the executor's own gates against the bus, publishing nothing (exit 0: no certain denial; 2: it would be denied)",
    )
    .argument("<plan-file>", "the plan JSON file")
    .addOption(configOption())
    .option("--key <key-id>", "the key id it will be signed with (omit for an unsigned plan)")
    .option("--secret-env <name>", "environment variable holding that key's secret or private key")
    .addOption(laneOption())
    .action(async (file: string, opts: { config: string; key?: string; secretEnv?: string; lane: Lane }) => {
      if ((opts.key === undefined) !== (opts.secretEnv === undefined))
        throw new CliError("--key and --secret-env go together", EXIT.USAGE);
      const config = await readConfigFile(opts.config);
      const key =
        opts.key === undefined || opts.secretEnv === undefined
          ? undefined
          : (
              await planSigningKey({
                io,
                config,
                configPath: opts.config,
                keyId: opts.key,
                secretEnv: opts.secretEnv,
              })
            ).key;
      const text = await readPlanFile(file);
      try {
        checkPlanText(text);
      } catch (err) {
        if (err instanceof PlanInputError) throw new CliError(`${file}: ${err.message}`, EXIT.DATAERR);
        throw err;
      }
      const fields: Array<readonly [string, string]> = [["plan", text]];
      if (key !== undefined) fields.push(["auth", signPlan({ plan: text, key }).auth]);
      const outcome = await withBackend(config, async (b) => {
        const checker = await PlanPrechecker.fromConfig({
          configPath: opts.config,
          ledger: b,
          ...(key ? { ownKey: key } : {}),
          env: io.env,
        });
        return checker.check({ lane: opts.lane, fields });
      });
      // The decision it would get, when the pre-check is sure of one; else null (only the executor decides).
      const decision = outcome.ok ? null : "DENIED";
      await writeLine(io.stdout, JSON.stringify({ decision, ...outcome, note: NOT_A_DECISION }));
      setExitCode(outcome.ok ? EXIT.OK : EXIT.NOT_EXECUTED);
    });

  program
    .command("results")
    .description("print results as JSON lines, filtered")
    .addOption(configOption())
    .option("--follow", "keep waiting for new results until interrupted")
    .option("--from <where>", 'where to start: "start", "now" or a result-stream id (exclusive)', "start")
    .option("--after <id>", "the same as --from <id>")
    .option("--ids", 'print {"id","result"} objects, so a later --from can resume')
    .option("--plan-id <id>", "only results of this plan_id")
    .option("--stream-id <id>", "only the result(s) of this plan entry (its stream id)")
    .option("--source <source>", "only results of this source")
    .addOption(
      new Option("--decision <kind>", "only results with this decision").choices([
        "EXECUTED",
        "DENIED",
        "FAILED",
        "UNKNOWN",
      ]),
    )
    .addOption(new Option("--lane <lane>", "only results of this lane").choices(["main", "manual"]))
    .action(
      async (opts: {
        config: string;
        follow?: boolean;
        from: string;
        after?: string;
        ids?: boolean;
        planId?: string;
        streamId?: string;
        source?: string;
        decision?: DecisionKind;
        lane?: Lane;
      }) => {
        // `$` is Redis' "from now"; accepted as `now`.
        const from = (opts.after ?? opts.from) === "$" ? "now" : (opts.after ?? opts.from);
        const flag = opts.after !== undefined ? "--after" : "--from";
        if (!/^(start|now|0|[0-9]+|[0-9]+-[0-9]+)$/.test(from))
          throw new CliError(
            `${flag}: expected "start", "now" or a stream id such as 1700000000000-0`,
            EXIT.USAGE,
          );
        const filter: ResultFilter = {
          ...(opts.planId !== undefined ? { planId: opts.planId } : {}),
          ...(opts.streamId !== undefined ? { streamId: opts.streamId } : {}),
          ...(opts.source !== undefined ? { source: opts.source } : {}),
          ...(opts.decision !== undefined ? { decision: opts.decision } : {}),
          ...(opts.lane !== undefined ? { lane: opts.lane } : {}),
        };
        const config = await readConfigFile(opts.config);
        await followResults(io, config, {
          from,
          filter,
          follow: opts.follow === true,
          ids: opts.ids === true,
        });
      },
    );
}

/** Prints results until caught up (or, with `follow`, until SIGINT/SIGTERM). */
async function followResults(
  io: CliIo,
  config: ExecutorConfig,
  opts: {
    readonly from: string;
    readonly filter: ResultFilter;
    readonly follow: boolean;
    readonly ids: boolean;
  },
): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  if (opts.follow) {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }
  try {
    await withBackend(config, async (b) => {
      const reader = new ResultReader({ bus: b });
      for await (const entry of reader.read({
        from: opts.from,
        filter: opts.filter,
        follow: opts.follow,
        signal: stop.signal,
      })) {
        await writeLine(
          io.stdout,
          JSON.stringify(opts.ids ? { id: entry.id, result: entry.result } : entry.result),
        );
      }
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** A plan file's text: exactly its bytes, which must be UTF-8 (a BOM is kept, so the text re-encodes to them). */
async function readPlanFile(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new CliError(
      `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
      EXIT.NOINPUT,
    );
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new CliError(`${file}: not UTF-8`, EXIT.DATAERR);
  }
}

/** Warnings only, for what the pre-check does not see without `--check`. */
function warnAboutPlan(
  io: CliIo,
  args: {
    /** The plan's text as it will be published. */
    readonly text: string;
    /** The signing key's source, when the key is bound to one. */
    readonly keySource: string | undefined;
    /** The lanes that source may publish on, when configured. */
    readonly lanes: readonly string[] | undefined;
    readonly lane: Lane;
  },
): void {
  const { text, keySource, lanes, lane } = args;
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch {
    return; // refused with its reason when published
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
