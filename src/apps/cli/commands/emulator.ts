import { createWriteStream } from "node:fs";
import type { Command } from "commander";
import type { AdminCommand } from "../../../emulators/adminServer.js";
import { CliError, type CliIo, EXIT, envSecretText, intOption, writeLine } from "./common.js";

/** Options shared by both emulators. */
interface EmulatorCliOptions {
  readonly host: string;
  readonly port: number;
  readonly adminPort: number;
  readonly requestLog?: string;
}

/** Options of `emulator book` / `emulator price`. */
interface AdminCliOptions {
  readonly admin: string;
  readonly symbol: string;
}

const repeatable = (v: string, acc: string[]) => [...acc, v];

/**
 * `emulator binance|polymarket`: the venue emulators as standalone servers
 * for dry runs against IntentGate (point `venues.<venue>.base_url` at the URL
 * printed). They verify signatures as the venues do; credentials come from
 * environment variables, never arguments. Each also serves an admin API on
 * 127.0.0.1 (its URL printed as `admin`) that `emulator book` and
 * `emulator price` drive; `--request-log FILE` appends one JSON line per
 * request (method, path, status, time; never keys or signatures). Runs
 * until SIGTERM/SIGINT. See docs/emulators.md.
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
    .option("--admin-port <port>", "admin API port on 127.0.0.1 (0: any free port)", intOption(0, 65535), 0)
    .option("--request-log <file>", "append one JSON line per request (method, path, status, time)")
    .action(async (opts: EmulatorCliOptions & { account: string; apiKeyEnv: string; secretEnv: string }) => {
      const { startBinanceEmulator } = await import("../../../emulators/binance/binanceEmulator.js");
      const { binanceAdminCommands } = await import("../../../emulators/binance/binanceAdmin.js");
      const log = openRequestLog(opts.requestLog);
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
        ...(log ? { requestLog: log.sink } : {}),
      });
      await serveUntilStopped(io, {
        venue: "binance-usdm",
        url: emu.url,
        adminPort: opts.adminPort,
        commands: binanceAdminCommands(emu),
        close: async () => {
          await emu.close();
          await log?.close();
        },
      });
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
      "a market with an empty book: token id, tick size (default 0.01), `neg` for neg-risk (repeatable)",
      repeatable,
      [] as string[],
    )
    .option(
      "--heartbeat-timeout-ms <ms>",
      "cancel a key's open orders this long after its last heartbeat",
      intOption(1, 3_600_000),
      10_000,
    )
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <port>", "TCP port (0: any free port)", intOption(0, 65535), 0)
    .option("--admin-port <port>", "admin API port on 127.0.0.1 (0: any free port)", intOption(0, 65535), 0)
    .option("--request-log <file>", "append one JSON line per request (method, path, status, time)")
    .action(
      async (
        opts: EmulatorCliOptions & {
          address: string;
          apiKeyEnv: string;
          secretEnv: string;
          passphraseEnv: string;
          market: string[];
          heartbeatTimeoutMs: number;
        },
      ) => {
        const { startPolymarketEmulator } = await import(
          "../../../emulators/polymarket/polymarketEmulator.js"
        );
        const { polymarketAdminCommands } = await import("../../../emulators/polymarket/polymarketAdmin.js");
        const markets: Record<string, { tickSize: string; negRisk?: boolean }> = {};
        for (const m of opts.market) {
          const [token = "", tick = "0.01", neg] = m.split(":");
          markets[token] = { tickSize: tick, ...(neg === "neg" ? { negRisk: true } : {}) };
        }
        const log = openRequestLog(opts.requestLog);
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
          heartbeatTimeoutMs: opts.heartbeatTimeoutMs,
          ...(log ? { requestLog: log.sink } : {}),
        });
        await serveUntilStopped(io, {
          venue: "polymarket",
          url: emu.url,
          adminPort: opts.adminPort,
          commands: polymarketAdminCommands(emu),
          close: async () => {
            await emu.close();
            await log?.close();
          },
        });
      },
    );

  emulator
    .command("book")
    .description("set the book of a symbol (Binance) or token (Polymarket) on a running emulator")
    .requiredOption("--admin <url>", "the emulator's admin URL (printed at start as `admin`)")
    .requiredOption("--symbol <symbol>", "Binance symbol (BTCUSDT) or Polymarket token id")
    .option("--bid <price:size>", "a bid level (repeatable)", repeatable, [] as string[])
    .option("--ask <price:size>", "an ask level (repeatable)", repeatable, [] as string[])
    .option("--clear", "Binance: remove the book (trade at the mark price again)")
    .action(async (opts: AdminCliOptions & { bid: string[]; ask: string[]; clear?: boolean }) => {
      const body = opts.clear
        ? { symbol: opts.symbol, clear: true }
        : { symbol: opts.symbol, bids: opts.bid.map(level), asks: opts.ask.map(level) };
      await writeLine(io.stdout, JSON.stringify(await adminCall(opts.admin, "book", body)));
    });

  emulator
    .command("price")
    .description("move the price on a running emulator (Binance: the mark; Polymarket: a one-level book)")
    .requiredOption("--admin <url>", "the emulator's admin URL (printed at start as `admin`)")
    .requiredOption("--symbol <symbol>", "Binance symbol (BTCUSDT) or Polymarket token id")
    .requiredOption("--price <price>", "the new price (decimal)")
    .option("--size <shares>", "Polymarket: shares at the bid and the ask (default 1000)")
    .action(async (opts: AdminCliOptions & { price: string; size?: string }) => {
      const body = { symbol: opts.symbol, price: opts.price, ...(opts.size ? { size: opts.size } : {}) };
      await writeLine(io.stdout, JSON.stringify(await adminCall(opts.admin, "price", body)));
    });
}

/** `price:size` → `[price, size]`, or a usage error. */
function level(text: string): [string, string] {
  const [price, size, ...rest] = text.split(":");
  if (!price || !size || rest.length > 0)
    throw new CliError(`a level is PRICE:SIZE, got ${text}`, EXIT.USAGE);
  return [price, size];
}

/** POSTs one admin command; the `result`, or a CliError with the emulator's message. */
async function adminCall(admin: string, command: string, body: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(command, admin.endsWith("/") ? admin : `${admin}/`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new CliError(`emulator admin ${admin}: ${(err as Error).message}`, EXIT.UNAVAILABLE);
  }
  const answer = (await res.json().catch(() => ({}))) as { result?: unknown; error?: unknown };
  if (!res.ok) throw new CliError(`emulator ${command}: ${String(answer.error ?? res.status)}`, EXIT.FAILURE);
  return answer.result;
}

/** The `--request-log` file, appended to (created 0600), or undefined when not asked for. */
function openRequestLog(path: string | undefined) {
  if (path === undefined) return undefined;
  const stream = createWriteStream(path, { flags: "a", mode: 0o600 });
  return {
    sink: (line: string) => {
      stream.write(`${line}\n`);
    },
    close: () => new Promise<void>((resolve) => stream.end(resolve)),
  };
}

/** Starts the admin API, prints `{"venue","url","admin"}`, waits for SIGTERM/SIGINT, then closes both. */
async function serveUntilStopped(
  io: CliIo,
  s: {
    readonly venue: string;
    readonly url: string;
    readonly adminPort: number;
    readonly commands: Readonly<Record<string, AdminCommand>>;
    readonly close: () => Promise<void>;
  },
): Promise<void> {
  const { startAdminServer } = await import("../../../emulators/adminServer.js");
  const admin = await startAdminServer({ venue: s.venue, commands: s.commands, port: s.adminPort });
  await writeLine(
    io.stdout,
    JSON.stringify({ venue: s.venue, url: s.url, emulator: true, admin: admin.url }),
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await admin.close();
  await s.close();
}
