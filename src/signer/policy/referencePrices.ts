import { type FileHandle, open } from "node:fs/promises";
import { DECIMAL_ONE, type Decimal, parseDecimal } from "../../core/decimal.js";
import { errorFields, type RemoteLogger, SILENT_LOGGER } from "../remote/logger.js";
import type { SignerReferencePricesConfig } from "../signerConfig.js";

/**
 * The signer's own reference prices (signing-plane-v1 §3a): what a unit of a
 * symbol or token is worth, from the signer's config and, when configured, a
 * file it re-reads itself. Never from a caller: a request's
 * `target.reference_price` is audited and otherwise ignored.
 *
 * - Static prices (`reference_prices.prices`) do not age.
 * - File prices (`reference_prices.file`) carry their own time and are a
 *   reference only while younger than `max_age_ms`; a fresh file price wins
 *   over a static one. The file is JSON:
 *   `{ "<venue>": { "<symbol or token id>": { "price": "65000", "as_of_ms": 1764864000000 } } }`
 *   and is re-read when its size or modification time changes (checked every
 *   `reload_ms`). A file that cannot be read or does not parse, or that group
 *   or others may write, is ignored (the prices read before stay, and age
 *   out), with a warning; at start it is an error.
 */
export interface ReferencePriceSource {
  /** The reference for `symbol` on `venue` at `nowMs`, or `undefined` when the signer has no fresh one. */
  reference(venue: string, symbol: string, nowMs: number): Decimal | undefined;
}

/** Why the reference file was refused. Its message names the file, never its content. */
export class ReferencePriceFileError extends Error {
  override readonly name = "ReferencePriceFileError";
}

interface FilePrice {
  readonly price: Decimal;
  readonly asOfMs: number;
}

type Table<T> = ReadonlyMap<string, ReadonlyMap<string, T>>;

const MAX_FILE_BYTES = 4 * 1024 * 1024;
const POLYMARKET_MAX = DECIMAL_ONE;

/** Reference prices from the config and (optionally) the file it names. */
export class ReferencePrices implements ReferencePriceSource {
  readonly #static: Table<Decimal>;
  readonly #maxAgeMs: number;
  readonly #file: string | undefined;
  readonly #reloadMs: number;
  readonly #logger: RemoteLogger;
  #filePrices: Table<FilePrice> = new Map();
  #seen = "";
  #timer: NodeJS.Timeout | undefined;
  #reloading = false;

  private constructor(config: SignerReferencePricesConfig, logger: RemoteLogger) {
    const table = new Map<string, Map<string, Decimal>>();
    for (const [venue, prices] of Object.entries(config.prices)) {
      const m = new Map<string, Decimal>();
      for (const [symbol, text] of Object.entries(prices ?? {})) {
        const price = parseDecimal(text);
        if (price === undefined)
          throw new TypeError(`reference_prices.prices.${venue}.${symbol}: not a decimal`);
        m.set(symbol, price);
      }
      table.set(venue, m);
    }
    this.#static = table;
    this.#maxAgeMs = config.max_age_ms;
    this.#file = config.file;
    this.#reloadMs = config.reload_ms;
    this.#logger = logger;
  }

  /** The static prices of the config only; refuses a config that names a file (use {@link openReferencePrices}). */
  static fromConfig(config: SignerReferencePricesConfig): ReferencePrices {
    if (config.file !== undefined) {
      throw new TypeError("reference_prices.file is set: open the prices with openReferencePrices()");
    }
    return new ReferencePrices(config, SILENT_LOGGER);
  }

  /** @internal {@link openReferencePrices} */
  static async open(config: SignerReferencePricesConfig, logger: RemoteLogger): Promise<ReferencePrices> {
    const prices = new ReferencePrices(config, logger);
    if (prices.#file !== undefined) {
      await prices.#reload(true);
      prices.#timer = setInterval(() => void prices.#reload(false), prices.#reloadMs);
      prices.#timer.unref();
    }
    return prices;
  }

  reference(venue: string, symbol: string, nowMs: number): Decimal | undefined {
    const fromFile = this.#filePrices.get(venue)?.get(symbol);
    if (
      fromFile !== undefined &&
      nowMs - fromFile.asOfMs <= this.#maxAgeMs &&
      fromFile.asOfMs - nowMs <= this.#maxAgeMs
    ) {
      return fromFile.price;
    }
    return this.#static.get(venue)?.get(symbol);
  }

  /** Stops re-reading the file. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #reload(atStart: boolean): Promise<void> {
    if (this.#reloading || this.#file === undefined) return;
    this.#reloading = true;
    const file = this.#file;
    try {
      const read = await readPriceFile(file, this.#seen);
      if (read === undefined) return; // unchanged
      this.#filePrices = read.table;
      this.#seen = read.stamp;
    } catch (err) {
      if (atStart) throw err;
      this.#logger.warn(
        { ...errorFields(err), file, reason: err instanceof Error ? err.message : "" },
        "reference price file ignored; the prices read before stay until they are too old",
      );
    } finally {
      this.#reloading = false;
    }
  }
}

/**
 * Opens the config's reference prices: the static ones, and the file (read
 * now, then re-read every `reload_ms`). Throws {@link ReferencePriceFileError}
 * when the file cannot be read, does not parse, or may be written by group
 * or others.
 */
export function openReferencePrices(
  config: SignerReferencePricesConfig,
  opts: { readonly logger?: RemoteLogger } = {},
): Promise<ReferencePrices> {
  return ReferencePrices.open(config, opts.logger ?? SILENT_LOGGER);
}

/** Reads the file unless its size and mtime are still `seen`. */
async function readPriceFile(
  path: string,
  seen: string,
): Promise<{ table: Table<FilePrice>; stamp: string } | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw new ReferencePriceFileError(`reference price file ${path}: cannot open (${codeOf(err)})`);
  }
  try {
    const st = await fh.stat();
    if ((st.mode & 0o022) !== 0) {
      throw new ReferencePriceFileError(
        `reference price file ${path} has mode 0${(st.mode & 0o777).toString(8)}: writable by group or others; run chmod 644 ${path} (or 600)`,
      );
    }
    const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
    if (stamp === seen) return undefined;
    if (st.size > MAX_FILE_BYTES)
      throw new ReferencePriceFileError(`reference price file ${path}: larger than 4 MiB`);
    const text = await fh.readFile("utf8");
    return { table: parsePriceFile(text, path), stamp };
  } finally {
    await fh.close();
  }
}

/** Parses the file's JSON strictly; the first problem refuses the whole file. */
export function parsePriceFile(text: string, path: string): Table<FilePrice> {
  const bad = (what: string) => new ReferencePriceFileError(`reference price file ${path}: ${what}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad("not valid JSON");
  }
  if (!isObject(doc)) throw bad("not a JSON object of venues");
  const table = new Map<string, Map<string, FilePrice>>();
  for (const [venue, prices] of Object.entries(doc)) {
    if (venue !== "binance-usdm" && venue !== "polymarket")
      throw bad(`unknown venue "${venue.slice(0, 32)}"`);
    if (!isObject(prices)) throw bad(`${venue}: not an object of symbols`);
    const m = new Map<string, FilePrice>();
    for (const [symbol, entry] of Object.entries(prices)) {
      const where = `${venue}.${symbol.slice(0, 80)}`;
      if (!isObject(entry)) throw bad(`${where}: not { "price", "as_of_ms" }`);
      const price = typeof entry.price === "string" ? parseDecimal(entry.price) : undefined;
      if (price === undefined || price <= 0n) throw bad(`${where}.price: not a positive decimal string`);
      if (venue === "polymarket" && price > POLYMARKET_MAX)
        throw bad(`${where}.price: a share is worth at most 1`);
      const asOf = entry.as_of_ms;
      if (typeof asOf !== "number" || !Number.isSafeInteger(asOf) || asOf <= 0)
        throw bad(`${where}.as_of_ms: not a time in milliseconds`);
      const extra = Object.keys(entry).find((k) => k !== "price" && k !== "as_of_ms");
      if (extra !== undefined) throw bad(`${where}: unknown key "${extra.slice(0, 32)}"`);
      m.set(symbol, { price, asOfMs: asOf });
    }
    table.set(venue, m);
  }
  return table;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "error";
}
