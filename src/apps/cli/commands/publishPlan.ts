import type { Lane } from "../../../core/plan.js";
import type { Backend } from "../../../ports/backend.js";
import type { SigningKey } from "../../../sdk/keys.js";
import { SigningKeyError } from "../../../sdk/keys.js";
import { PlanInputError } from "../../../sdk/planInput.js";
import { PlanPublisher, PrecheckDeniedError, type PublishedPlan } from "../../../sdk/planPublisher.js";
import type { PlanPrechecker } from "../../../sdk/prechecker.js";
import { ResultTimeoutError } from "../../../sdk/resultReader.js";
import { CliError, type CliIo, EXIT, writeLine } from "./common.js";

/** What {@link publishPlan} takes. */
export interface PublishPlanArgs {
  readonly io: CliIo;
  readonly lane: Lane;
  readonly key: SigningKey;
  /** The exact plan text (checked as `checkPlanText` checks it, then signed and published unchanged). */
  readonly text: string;
  /** Where the text came from, for messages (a file name, or `cancel`). */
  readonly what: string;
  /** The variable the key came from, for messages. */
  readonly secretEnv: string;
  readonly prechecker?: PlanPrechecker;
  /** Wait this long for the plan's result and print it; undefined: print where it was published. */
  readonly waitMs?: number;
}

/**
 * Publishes a plan from the CLI through the SDK's `PlanPublisher`: a plan
 * it must not publish is exit 65 (the field named), a pre-check sure of a
 * denial exit 2, nothing published in either case. With `waitMs`, waits
 * for the plan's own result (past an `UNKNOWN` to its reconciled result),
 * prints it and returns 0 when `EXECUTED`, 2 otherwise; none in time is
 * exit 75. Without, prints `{stream_id, lane}` and returns 0.
 */
export async function publishPlan(b: Backend, args: PublishPlanArgs): Promise<number> {
  const { io } = args;
  const publisher = new PlanPublisher({
    bus: b,
    key: args.key,
    lane: args.lane,
    ...(args.prechecker ? { prechecker: args.prechecker } : {}),
  });
  let published: PublishedPlan;
  try {
    published = await publisher.publish(args.text);
  } catch (err) {
    if (err instanceof PlanInputError)
      throw new CliError(`${args.what}: ${err.message}; nothing published`, EXIT.DATAERR);
    if (err instanceof PrecheckDeniedError) {
      await writeLine(io.stdout, JSON.stringify({ published: false, ...err.outcome }));
      io.stderr.write(`intentgate: ${err.message}\n`);
      return EXIT.NOT_EXECUTED;
    }
    if (err instanceof SigningKeyError)
      throw new CliError(`--secret-env ${args.secretEnv}: ${err.message}`, EXIT.CONFIG);
    throw err;
  }
  if (args.waitMs === undefined) {
    await writeLine(io.stdout, JSON.stringify({ stream_id: published.streamId, lane: published.lane }));
    return EXIT.OK;
  }
  io.stderr.write(
    `intentgate: published ${published.planId} (${published.lane} ${published.streamId}); waiting for its result\n`,
  );
  try {
    const result = await publisher.wait(published, { timeoutMs: args.waitMs });
    await writeLine(io.stdout, JSON.stringify(result));
    return result.decision === "EXECUTED" ? EXIT.OK : EXIT.NOT_EXECUTED;
  } catch (err) {
    if (!(err instanceof ResultTimeoutError)) throw err;
    if (err.unknown) await writeLine(io.stdout, JSON.stringify(err.unknown));
    throw new CliError(
      `no ${err.unknown ? "reconciled " : ""}result for ${published.lane} ${published.streamId} within ${args.waitMs} ms: is an executor running? The plan stays on the bus and will still be decided`,
      EXIT.TEMPFAIL,
    );
  }
}
