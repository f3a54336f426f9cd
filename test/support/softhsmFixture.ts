import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { SOFTHSM2_MODULE } from "../../src/signer/pkcs11/pkcs11Token.js";

const run = promisify(execFile);

/** A throw-away SoftHSM2 token store for tests: a temp dir, its config, and the tokens made in it. */
export interface SoftHsmFixture {
  /** The temp dir holding `softhsm2.conf` and `tokens/`. */
  readonly dir: string;
  /** The config file (`SOFTHSM2_CONF` points at it while the fixture is set up). */
  readonly conf: string;
  readonly module: string;
  /** Initialises one more token (`softhsm2-util --init-token --free`). */
  initToken(label: string, pin: string, soPin: string): Promise<void>;
  /** Restores `SOFTHSM2_CONF` and removes the temp dir. */
  dispose(): Promise<void>;
}

/** True when the SoftHSM2 module and `softhsm2-util` are installed (`.ci/run` installs them). */
export function softHsmAvailable(): boolean {
  return existsSync(SOFTHSM2_MODULE);
}

/**
 * Creates a fresh SoftHSM2 token store in a temp dir and points
 * `SOFTHSM2_CONF` at it for this process. Create every token BEFORE the first
 * `Pkcs11Token.open` of the process: SoftHSM2 reads its slots at
 * `C_Initialize` and does not see tokens initialised after it.
 */
export async function createSoftHsmFixture(): Promise<SoftHsmFixture> {
  const dir = await mkdtemp(join(tmpdir(), "intentgate-softhsm-"));
  const tokens = join(dir, "tokens");
  await mkdir(tokens, { mode: 0o700 });
  const conf = join(dir, "softhsm2.conf");
  await writeFile(
    conf,
    [
      `directories.tokendir = ${tokens}`,
      "objectstore.backend = file",
      "log.level = ERROR",
      "slots.removable = false",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = conf;
  return {
    dir,
    conf,
    module: SOFTHSM2_MODULE,
    async initToken(label, pin, soPin) {
      await run(
        "softhsm2-util",
        ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", soPin],
        { env: { ...process.env, SOFTHSM2_CONF: conf } },
      );
    },
    async dispose() {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
