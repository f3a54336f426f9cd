import { randomUUID } from "node:crypto";
import { type Command, InvalidArgumentError, Option } from "commander";
import { readConfigFile } from "../../../config/loadConfig.js";
import { UNSIGNED_DECIMAL_RE } from "../../../core/decimal.js";
import { generateKeyMaterial } from "../../../sdk/generateKeys.js";
import { issuePermit } from "../../../sdk/issuePermit.js";
import type { SigningKey } from "../../../sdk/keys.js";
import { CliError, type CliIo, EXIT, envSecretText, intOption, writeLine } from "./common.js";

type Alg = "ed25519" | "hmac-sha256";
const ALGS: readonly Alg[] = ["ed25519", "hmac-sha256"];

function keyIdArg(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(value))
    throw new InvalidArgumentError("expected 1-64 chars of [A-Za-z0-9._-]");
  return value;
}

/** `keys gen` and `permit issue`: key material and permits, no bus needed. */
export function addKeyCommands(program: Command, io: CliIo): void {
  const keys = program.command("keys").description("key material for producers and permit issuers");
  keys
    .command("gen")
    .description("generate a key and print it with the executor config snippet (JSON)")
    .addOption(new Option("--alg <alg>", "signature algorithm").choices(ALGS).makeOptionMandatory())
    .requiredOption("--key-id <id>", "the key id, as it will appear in auth fields and the config", keyIdArg)
    .option("--source <source>", "the source the key signs for (omit for a permit issuer's key)")
    .action(async (opts: { alg: Alg; keyId: string; source?: string }) => {
      const m = generateKeyMaterial(opts.alg, opts.keyId, opts.source);
      const out =
        m.alg === "ed25519"
          ? {
              key_id: m.keyId,
              alg: m.alg,
              private_key: m.privateKey,
              public_key: m.publicKey,
              config: m.config,
            }
          : { key_id: m.keyId, alg: m.alg, secret: m.secret, secret_env: m.secretEnv, config: m.config };
      io.stderr.write(
        m.alg === "ed25519"
          ? "intentgate: warning: private_key is SECRET: give it only to the signer (via an environment variable); the executor needs only public_key / config\n"
          : `intentgate: warning: secret is SECRET: set it as ${m.secretEnv} for both the producer and the executor, never in a file under version control\n`,
      );
      await writeLine(io.stdout, JSON.stringify(out, null, 2));
    });

  const permit = program.command("permit").description("permits (wire-v1 §5)");
  permit
    .command("issue")
    .description("issue a signed permit token for one plan")
    .requiredOption("--key-id <id>", "the issuer's key id (the permit's iss)", keyIdArg)
    .requiredOption(
      "--secret-env <name>",
      "environment variable holding the issuer's HMAC secret or Ed25519 private key",
    )
    .addOption(new Option("--alg <alg>", "the issuer key's algorithm (or give --config)").choices(ALGS))
    .option("--config <path>", "executor config to read the key's algorithm from")
    .requiredOption("--plan-id <id>", "the plan the permit is for")
    .requiredOption("--symbol <symbol>", "the plan's symbol")
    .addOption(new Option("--side <side>", "the plan's side").choices(["BUY", "SELL"]).makeOptionMandatory())
    .requiredOption("--max-qty <qty>", "the most the plan's qty may be (decimal string)", (v: string) => {
      if (!UNSIGNED_DECIMAL_RE.test(v))
        throw new InvalidArgumentError("expected a decimal string such as 0.5");
      return v;
    })
    .option("--reduce-only", "the plan must be reduce_only", false)
    .option("--ttl-ms <ms>", "lifetime in milliseconds", intOption(1, 365 * 24 * 3600 * 1000), 60_000)
    .option("--permit-id <id>", "permit id (default: a random UUID)")
    .action(
      async (opts: {
        keyId: string;
        secretEnv: string;
        alg?: Alg;
        config?: string;
        planId: string;
        symbol: string;
        side: "BUY" | "SELL";
        maxQty: string;
        reduceOnly: boolean;
        ttlMs: number;
        permitId?: string;
      }) => {
        let alg = opts.alg;
        if (opts.config !== undefined) {
          const config = await readConfigFile(opts.config);
          const k = config.keys[opts.keyId];
          if (k === undefined)
            throw new CliError(`--key-id ${opts.keyId}: no such key in ${opts.config}`, EXIT.USAGE);
          if (k.role !== "permit_issuer") {
            throw new CliError(
              `--key-id ${opts.keyId}: not a permit_issuer key in ${opts.config}`,
              EXIT.USAGE,
            );
          }
          if (alg !== undefined && alg !== k.alg) {
            throw new CliError(`--alg ${alg}: the config says ${opts.keyId} is ${k.alg}`, EXIT.USAGE);
          }
          alg = k.alg;
        }
        if (alg === undefined) throw new CliError("permit issue: give --alg or --config", EXIT.USAGE);
        const material = await envSecretText(io.env, "--secret-env", opts.secretEnv);
        const key: SigningKey =
          alg === "ed25519"
            ? { keyId: opts.keyId, alg, privateKey: material }
            : { keyId: opts.keyId, alg, secret: material };
        let token: string;
        try {
          token = issuePermit(
            {
              permit_id: opts.permitId ?? randomUUID(),
              plan_id: opts.planId,
              symbol: opts.symbol,
              side: opts.side,
              max_qty: opts.maxQty,
              reduce_only: opts.reduceOnly,
              exp: Date.now() + opts.ttlMs,
              iss: opts.keyId,
            },
            key,
          );
        } catch (err) {
          const e = err as Error;
          throw new CliError(
            e.name === "SigningKeyError" ? `--secret-env ${opts.secretEnv}: ${e.message}` : e.message,
            e.name === "SigningKeyError" ? EXIT.CONFIG : EXIT.USAGE,
          );
        }
        await writeLine(io.stdout, token);
      },
    );
}
