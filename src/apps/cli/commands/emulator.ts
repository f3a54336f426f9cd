import type { Command } from "commander";
import { type CliIo, envSecretText, intOption, writeLine } from "./common.js";

/** Options shared by both emulators. */
interface EmulatorCliOptions {
  readonly host: string;
  readonly port: number;
}

/**
 * `emulator binance|polymarket`: the venue emulators as standalone servers
 * for dry runs against IntentGate (point `venues.<venue>.base_url` at the URL
 * printed). They verify signatures as the venues do; credentials come from
 * environment variables, never arguments. Runs until SIGTERM/SIGINT.
 */
export function addEmulatorCommands(program: Command, io: CliIo): void {
  const emulator = program
    .command("emulator")
    .description("run a local venue emulator (verifies signatures as the venue does) for dry runs");

  emulator
    .command("binance")
    .description("Binance USDⓈ-M futures emulator: prints its URL, runs until SIGTERM/SIGINT")
    .requiredOption("--account <name>", "the account the API key trades for")
    .requiredOption("--api-key-env <name>", "environment variable holding the API key")
    .requiredOption("--secret-env <name>", "environment variable holding the API secret (HMAC key)")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <port>", "TCP port (0: any free port)", intOption(0, 65535), 0)
    .action(async (opts: EmulatorCliOptions & { account: string; apiKeyEnv: string; secretEnv: string }) => {
      const { startBinanceEmulator } = await import("../../../emulators/binance/binanceEmulator.js");
      const emu = await startBinanceEmulator({
        host: opts.host,
        port: opts.port,
        accounts: [
          {
            name: opts.account,
            apiKey: await envSecretText(io.env, "--api-key-env", opts.apiKeyEnv),
            secret: await envSecretText(io.env, "--secret-env", opts.secretEnv),
          },
        ],
      });
      await serveUntilStopped(io, "binance-usdm", emu.url, () => emu.close());
    });

  emulator
    .command("polymarket")
    .description(
      "Polymarket CLOB emulator (CTF Exchange V2 orders): prints its URL, runs until SIGTERM/SIGINT",
    )
    .requiredOption("--address <0x…>", "the EOA the API key belongs to (the orders' signer)")
    .requiredOption("--api-key-env <name>", "environment variable holding the CLOB API key id")
    .requiredOption("--secret-env <name>", "environment variable holding the L2 secret (base64)")
    .requiredOption("--passphrase-env <name>", "environment variable holding the API passphrase")
    .option(
      "--market <token[:tick[:neg]]>",
      "a market: token id, tick size (default 0.01), `neg` for neg-risk (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <port>", "TCP port (0: any free port)", intOption(0, 65535), 0)
    .action(
      async (
        opts: EmulatorCliOptions & {
          address: string;
          apiKeyEnv: string;
          secretEnv: string;
          passphraseEnv: string;
          market: string[];
        },
      ) => {
        const { startPolymarketEmulator } = await import(
          "../../../emulators/polymarket/polymarketEmulator.js"
        );
        const markets: Record<string, { tickSize: string; negRisk?: boolean }> = {};
        for (const m of opts.market) {
          const [token = "", tick = "0.01", neg] = m.split(":");
          markets[token] = { tickSize: tick, ...(neg === "neg" ? { negRisk: true } : {}) };
        }
        const emu = await startPolymarketEmulator({
          host: opts.host,
          port: opts.port,
          apiKeys: [
            {
              key: await envSecretText(io.env, "--api-key-env", opts.apiKeyEnv),
              secret: await envSecretText(io.env, "--secret-env", opts.secretEnv),
              passphrase: await envSecretText(io.env, "--passphrase-env", opts.passphraseEnv),
              address: opts.address,
            },
          ],
          markets,
        });
        await serveUntilStopped(io, "polymarket", emu.url, () => emu.close());
      },
    );
}

/** Prints `{"venue","url"}` and waits for SIGTERM/SIGINT, then closes the server. */
async function serveUntilStopped(
  io: CliIo,
  venue: string,
  url: string,
  close: () => Promise<void>,
): Promise<void> {
  await writeLine(io.stdout, JSON.stringify({ venue, url, emulator: true }));
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await close();
}
