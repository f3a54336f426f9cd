import { dirname, resolve } from "node:path";
import { producerPolicy, readConfigFile } from "../config/loadConfig.js";
import { SecretBytes } from "../core/auth/secretBytes.js";
import { classifyEntry, factsQueryFor } from "../core/decide.js";
import type { Lane } from "../core/plan.js";
import type { Policy, VerifyKey } from "../core/policy.js";
import { type PrecheckOutcome, precheck } from "../core/precheck.js";
import type { Ledger } from "../ports/ledger.js";
import type { SigningKey } from "./keys.js";

export type { PrecheckOutcome, UncertainDenial } from "../core/precheck.js";

/** What {@link PlanPrechecker.fromConfig} takes. */
export interface PrecheckerFromConfig {
  /** The executor's config file: the same policy the executor decides with. */
  readonly configPath: string;
  /** Where the bus facts are read (the trading state, claimed plan_ids, rate counters, working orders). */
  readonly ledger: Pick<Ledger, "readFacts">;
  /** The producer's own key: an HMAC key whose secret is not in the environment is taken from here. */
  readonly ownKey?: SigningKey;
  /** Environment for `secret_env` keys; default `process.env`. */
  readonly env?: Record<string, string | undefined>;
  readonly clock?: () => number;
}

/**
 * Layer 1: checks plan entries against the executor's own gates and a
 * snapshot of the bus, without claiming anything (`core/precheck.ts`). A
 * plan that passes is not decided: the executor decides it when it reads it.
 *
 * @example
 * ```ts
 * const key = { keyId: "bridge-k1", alg: "hmac-sha256", secret } as const;
 * const checker = await PlanPrechecker.fromConfig({ configPath, ledger: bus, ownKey: key });
 * const text = buildPlan({ source: "bridge", symbol: "BTCUSDT", side: "BUY", qty: "0.01" });
 * const outcome = await checker.check({ lane: "main", fields: [["plan", text], ["auth", signPlan({ plan: text, key }).auth]] });
 * outcome.ok; // => true
 * ```
 */
export class PlanPrechecker {
  readonly #policy: Policy;
  readonly #omitted: ReadonlySet<string>;
  readonly #ledger: Pick<Ledger, "readFacts">;
  readonly #clock: () => number;

  constructor(opts: {
    readonly policy: Policy;
    readonly omittedKeys?: ReadonlySet<string>;
    readonly ledger: Pick<Ledger, "readFacts">;
    readonly clock?: () => number;
  }) {
    this.#policy = opts.policy;
    this.#omitted = opts.omittedKeys ?? new Set();
    this.#ledger = opts.ledger;
    this.#clock = opts.clock ?? Date.now;
  }

  /** Reads the executor's config (HMAC keys whose secret is not available are left out, the producer's own added back). */
  static async fromConfig(opts: PrecheckerFromConfig): Promise<PlanPrechecker> {
    const config = await readConfigFile(opts.configPath);
    const baseDir = dirname(resolve(opts.configPath));
    const { policy, omittedKeys } = await producerPolicy(config, opts.env ?? process.env, baseDir);
    const own = opts.ownKey;
    const omitted = new Set(omittedKeys);
    let keys: ReadonlyMap<string, VerifyKey> = policy.keys;
    if (own?.alg === "hmac-sha256" && omitted.has(own.keyId)) {
      const kc = config.keys[own.keyId];
      const added = new Map(policy.keys);
      added.set(own.keyId, {
        keyId: own.keyId,
        alg: "hmac-sha256",
        secret: new SecretBytes(Buffer.from(own.secret, "utf8")),
        source: kc?.source,
        role: kc?.role ?? "producer",
      });
      keys = added;
      omitted.delete(own.keyId);
    }
    return new PlanPrechecker({
      policy: { ...policy, keys },
      omittedKeys: omitted,
      ledger: opts.ledger,
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  }

  /** Pre-checks one entry (its `plan` and `auth` fields as they will be published). */
  async check(entry: {
    readonly lane: Lane;
    readonly fields: ReadonlyArray<readonly [string, string | Buffer]>;
  }): Promise<PrecheckOutcome> {
    const fields = entry.fields.map(
      ([n, v]) => [n, Buffer.isBuffer(v) ? v : Buffer.from(v, "utf8")] as const,
    );
    const now = this.#clock();
    const classified = classifyEntry({ lane: entry.lane, id: "0-1", fields, deliveries: 1 });
    const facts = await this.#ledger.readFacts(
      factsQueryFor([classified], now, { limits: this.#policy.limits }),
    );
    return precheck(
      { lane: entry.lane, fields },
      { policy: this.#policy, facts, omittedKeys: this.#omitted, now },
    );
  }
}
