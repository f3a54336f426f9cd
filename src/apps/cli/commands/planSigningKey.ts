import type { ExecutorConfig } from "../../../config/configSchema.js";
import { assertKeyMatches, type SigningKey, SigningKeyError } from "../../../sdk/keys.js";
import { CliError, type CliIo, EXIT, envSecretText } from "./common.js";

/**
 * The key a CLI command signs plans with: `--key` names a producer key of
 * the config, `--secret-env` the variable holding its secret (HMAC) or
 * private key (Ed25519). A permit issuer's key, or a key the config does not
 * have, is a usage error naming the flag.
 */
export async function planSigningKey(opts: {
  readonly io: CliIo;
  readonly config: ExecutorConfig;
  readonly configPath: string;
  readonly keyId: string;
  readonly secretEnv: string;
}): Promise<{ readonly key: SigningKey; readonly source: string | undefined }> {
  const keyConfig = opts.config.keys[opts.keyId];
  if (keyConfig === undefined)
    throw new CliError(`--key ${opts.keyId}: no such key in ${opts.configPath}`, EXIT.USAGE);
  if (keyConfig.role === "permit_issuer")
    throw new CliError(`--key ${opts.keyId}: a permit issuer's key cannot sign plans`, EXIT.USAGE);
  const material = await envSecretText(opts.io.env, "--secret-env", opts.secretEnv);
  const key: SigningKey =
    keyConfig.alg === "hmac-sha256"
      ? { keyId: opts.keyId, alg: "hmac-sha256", secret: material }
      : { keyId: opts.keyId, alg: "ed25519", privateKey: material };
  try {
    assertKeyMatches(key, { alg: keyConfig.alg, publicKey: keyConfig.public_key });
  } catch (err) {
    if (!(err instanceof SigningKeyError)) throw err;
    throw new CliError(`--secret-env ${opts.secretEnv}: ${err.message}`, EXIT.CONFIG);
  }
  return { key, source: keyConfig.source };
}
