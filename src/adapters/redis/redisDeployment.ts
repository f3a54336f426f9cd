import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { TRADING_STATES } from "../../core/plan.js";
import { CONSUMER_GROUP } from "../../ports/bus.js";
import {
  DeploymentExistsError,
  DeploymentMismatchError,
  type DeploymentStore,
  type InitDeploymentOptions,
} from "../../ports/deployment.js";
import { REPLY_CODES } from "./conflictCodes.js";
import { runScript } from "./luaScripts.js";
import type { RedisKeys } from "./redisKeys.js";
import { asArray } from "./redisReplies.js";
import { scriptArgs } from "./scriptInputs.js";

/** `TIME` on the node of KEYS[1] (a script may call TIME: Redis replicates a script's effects). */
const BUS_TIME_SCRIPT = "return redis.call('TIME')";
/** `INFO memory` on the node holding the key the call names (see {@link RedisDeployment.evictionPolicy}). */
const BUS_MEMORY_SCRIPT = "return redis.call('INFO', 'memory')";

/**
 * The deployment marker at `<prefix>deployment` (wire-v1 §7b) and the id
 * this handle is bound to, which the ledger's writes check atomically
 * (redisLedger.ts). `initDeployment` runs lua/initDeployment.lua.
 */
export class RedisDeployment implements DeploymentStore {
  private deployment: string | undefined;

  constructor(
    private readonly main: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async readDeployment(): Promise<string | undefined> {
    const v = await this.main.call("GET", this.keys.deployment);
    return v === null || v === undefined ? undefined : String(v);
  }

  /**
   * Redis's `TIME`, as ms, read by a script that names the deployment key so
   * that a Cluster routes it to the node holding the deployment's keys (the
   * clock their expiries run on).
   */
  async busTime(): Promise<number> {
    const reply = asArray(await this.main.call("EVAL", BUS_TIME_SCRIPT, 1, this.keys.deployment), "TIME");
    const [seconds, micros] = [Number(reply[0]), Number(reply[1])];
    if (!Number.isSafeInteger(seconds) || !Number.isSafeInteger(micros))
      throw new Error(
        `redis TIME answered ${JSON.stringify(reply).slice(0, 80)}, not seconds and microseconds`,
      );
    return seconds * 1000 + Math.floor(micros / 1000);
  }

  /**
   * Redis's `maxmemory_policy` (`INFO memory`), read by a script that names
   * the deployment key so that a Cluster routes it to the node holding the
   * deployment's keys (the one whose policy decides what they lose).
   */
  async evictionPolicy(): Promise<string> {
    const info = String(await this.main.call("EVAL", BUS_MEMORY_SCRIPT, 1, this.keys.deployment));
    const policy = /^maxmemory_policy:(\S+)\s*$/m.exec(info)?.[1];
    if (policy === undefined)
      throw new Error("redis INFO memory names no maxmemory_policy: the eviction policy is unknown");
    return policy;
  }

  async initDeployment(opts: InitDeploymentOptions): Promise<string> {
    if (!TRADING_STATES.includes(opts.state))
      throw new RangeError(`unknown trading state "${String(opts.state)}"`);
    const k = this.keys;
    const call = scriptArgs("initDeployment", {
      keys: {
        deployment: k.deployment,
        planMain: k.planMain,
        planManual: k.planManual,
        state: k.state,
        stateLog: k.stateLog,
      },
      argv: {
        id: `dep-${randomUUID()}`,
        replace: opts.replace ? "1" : "0",
        group: CONSUMER_GROUP,
        state: opts.state,
        who: opts.who,
        at: String(Date.now()),
      },
    });
    const reply = asArray(await runScript(this.main, "initDeployment", call), "init");
    const id = String(reply[1]);
    if (Number(reply[0]) !== REPLY_CODES.initDeployment.created.code) throw new DeploymentExistsError(id);
    this.deployment = id;
    return id;
  }

  bindDeployment(id: string): void {
    this.deployment = id;
  }

  /** The marker this handle writes under; undefined: bound to none, no ledger writes. */
  get bound(): string | undefined {
    return this.deployment;
  }

  /** The bound marker, or a {@link DeploymentMismatchError} when there is none. */
  requireBound(): string {
    if (this.deployment === undefined)
      throw new DeploymentMismatchError("ledger write refused: this handle is bound to no deployment");
    return this.deployment;
  }
}
