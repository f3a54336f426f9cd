import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { SecretBytes } from "../core/auth/secretBytes.js";
import { ConfigError } from "./configError.js";

/**
 * Reads a credential the config names by `<name>_env` or `<name>_file`
 * (never inline), e.g. a venue API key. A trailing newline in a file is
 * dropped. Missing, unreadable or empty → {@link ConfigError} naming the
 * field, never the value.
 */
export async function readCredential(
  holder: Readonly<Record<string, unknown>>,
  name: string,
  field: string,
  env: NodeJS.ProcessEnv,
  baseDir: string,
): Promise<SecretBytes> {
  const envName = holder[`${name}_env`];
  const file = holder[`${name}_file`];
  if (typeof envName === "string") {
    const v = env[envName];
    if (v === undefined || v === "")
      throw new ConfigError({
        field: `${field}.${name}_env`,
        message: `environment variable ${envName} is not set`,
      });
    return new SecretBytes(Buffer.from(v, "utf8"));
  }
  if (typeof file === "string") {
    const path = resolve(baseDir, file);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      throw new ConfigError({ field: `${field}.${name}_file`, message: `cannot read ${path} (${code})` });
    }
    const value = text.replace(/\r?\n$/, "");
    if (value === "") throw new ConfigError({ field: `${field}.${name}_file`, message: `${path} is empty` });
    return new SecretBytes(Buffer.from(value, "utf8"));
  }
  throw new ConfigError({ field: `${field}.${name}_env`, message: `give ${name}_env or ${name}_file` });
}
