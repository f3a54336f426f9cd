import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { ConfigError } from "../config/configError.js";
import {
  loadSignerConfig,
  loadSignerSecret,
  parseSignerConfig,
  parseSignerConfigText,
} from "./signerConfig.js";

const CANARY = "canary-passphrase-Hq2";
const UUID = "4F1C2D3E-AAAA-4BBB-8CCC-0123456789AB";

const BASE = {
  vault: { path: "vault.json", passphrase_env: "VAULT_PASS" },
  audit: { path: "audit.jsonl", key_env: "AUDIT_KEY" },
};
const FULL = {
  ...BASE,
  live: false,
  socket: { path: "signer.sock" },
  callers: {
    "executor-1": { token_env: "EXEC_TOKEN", accounts: ["acct1", UUID], intents: ["cex_api_signer"] },
    "executor-2": {
      token_file: "tokens/e2",
      accounts: [UUID.toLowerCase()],
      intents: ["per_user_clob_signer"],
    },
  },
  intents: {
    cex_api_signer: {
      routes: {
        "executor.binance-usdm.order": "order",
        "executor.binance-usdm.readiness": { action: "position_risk", probe: true },
      },
    },
    per_user_clob_signer: { routes: { "executor.polymarket.order": "order" } },
  },
  accounts: {
    acct1: { cex_api_signer: { entry: "binance-acct1", read_only_entry: "binance-acct1-ro" } },
    [UUID]: { per_user_clob_signer: "pk-1" },
  },
  reference_prices: {
    max_age_ms: 30_000,
    file: "prices.json",
    prices: { "binance-usdm": { BTCUSDT: "65000" } },
  },
  policy: {
    cex_api_signer: {
      max_notional: "1000.5",
      symbols: ["BTCUSDT"],
      rate_per_account_per_s: 5,
      cancel_rate_per_account_per_s: 2,
      windows: [
        { window: "1m", max_orders: 10 },
        { window: "24h", max_notional: "100000" },
      ],
    },
  },
};

function fails(raw: unknown): ConfigError {
  try {
    parseSignerConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("signer config", () => {
  it("fills defaults for a minimal config", () => {
    expect(parseSignerConfig(BASE)).toEqual({
      ...BASE,
      live: false,
      callers: {},
      intents: {},
      accounts: {},
      read_only_entries: {},
      clock: { max_clock_skew_ms: 5000, max_recv_window_ms: 5000 },
      reference_prices: { max_age_ms: 60_000, reload_ms: 1000, prices: {} },
      policy: {},
    });
  });

  it("accepts a full config: routes bound to one action each, entries split by key, UUIDs lowercased, frozen", () => {
    const c = parseSignerConfig(FULL);
    expect(Object.keys(c.accounts)).toEqual(["acct1", UUID.toLowerCase()]);
    expect(c.accounts.acct1).toEqual({ cex_api_signer: "binance-acct1" });
    expect(c.read_only_entries).toEqual({ acct1: { cex_api_signer: "binance-acct1-ro" } });
    expect(c.intents.cex_api_signer?.routes).toEqual({
      "executor.binance-usdm.order": { action: "order", probe: false },
      "executor.binance-usdm.readiness": { action: "position_risk", probe: true },
    });
    expect(c.callers["executor-1"]?.accounts).toEqual(["acct1", UUID.toLowerCase()]);
    expect(Object.isFrozen(c.policy.cex_api_signer)).toBe(true);
  });

  it.each([
    [{ ...BASE, extra: 1 }, "extra", "unknown key"],
    [{ ...BASE, vault: { path: "v", passphrase: CANARY } }, "vault.passphrase", "never inline"],
    [{ ...BASE, vault: { path: "v" } }, "vault.passphrase_env", "needs passphrase_env or passphrase_file"],
    [
      { ...BASE, vault: { path: "v", passphrase_env: "A", passphrase_file: "f" } },
      "vault.passphrase_file",
      "exactly one",
    ],
    [
      { ...BASE, vault: { path: "v", passphrase_env: "not a name" } },
      "vault.passphrase_env",
      "environment variable",
    ],
    [{ vault: BASE.vault }, "audit", "is required"],
    [{ ...BASE, live: "yes" }, "live", "true or false"],
    [{ ...BASE, callers: { "bad id!": { token_env: "T" } } }, "callers.bad id!", "caller ids"],
    [{ ...BASE, callers: { e: { token: CANARY } } }, "callers.e.token", "never inline"],
    [
      { ...FULL, callers: { e: { token_env: "T", intents: ["cex_api_signer"] } } },
      "callers.e.accounts",
      "must list the accounts",
    ],
    [
      { ...FULL, callers: { e: { token_env: "T", accounts: [], intents: ["cex_api_signer"] } } },
      "callers.e.accounts",
      "at least one",
    ],
    [
      { ...FULL, callers: { e: { token_env: "T", accounts: ["nobody"], intents: ["cex_api_signer"] } } },
      "callers.e.accounts.0",
      "names no account",
    ],
    [
      { ...FULL, callers: { e: { token_env: "T", accounts: ["acct1"], intents: ["clob_api_signer"] } } },
      "callers.e.intents.0",
      "not listed under intents",
    ],
    [
      { ...BASE, intents: { cex_api_signer: { routes: ["executor.binance-usdm.order"] } } },
      "intents.cex_api_signer.routes",
      "map each route to its one action",
    ],
    [
      { ...BASE, intents: { cex_api_signer: { routes: { r: "heartbeat" } } } },
      "intents.cex_api_signer.routes.r",
      'action "heartbeat" is not one cex_api_signer can do',
    ],
    [
      { ...BASE, intents: { clob_api_signer: { routes: { r: "countdown" } } } },
      "intents.clob_api_signer.routes.r",
      'action "countdown" is not one clob_api_signer can do',
    ],
    [
      { ...BASE, intents: { cex_api_signer: { routes: { r: { action: "cancel_all", probe: true } } } } },
      "intents.cex_api_signer.routes.r.probe",
      "only a read",
    ],
    [
      {
        ...BASE,
        intents: { clob_api_signer: { routes: { "executor.polymarket.l2.cancel": "cancel" } } },
      },
      "intents.clob_api_signer.routes.executor.polymarket.l2.cancel",
      "needs policy.clob_api_signer.cancel_rate_per_account_per_s",
    ],
    [
      {
        ...BASE,
        intents: { cex_api_signer: { routes: { c: "cancel_all" } } },
        policy: { cex_api_signer: { rate_per_account_per_s: 5 } },
      },
      "intents.cex_api_signer.routes.c",
      "needs policy.cex_api_signer.cancel_rate_per_account_per_s",
    ],
    [
      { ...FULL, policy: { cex_api_signer: { max_countdown_ms: 86_400_001 } } },
      "policy.cex_api_signer.max_countdown_ms",
      "at most 86400000",
    ],
    [
      { ...FULL, policy: { cex_api_signer: { keepalive_rate_per_account_per_s: 0 } } },
      "policy.cex_api_signer.keepalive_rate_per_account_per_s",
      "positive integer",
    ],
    [
      { ...BASE, intents: { cex_api_signer: { routes: { r: { action: "order", probe: true } } } } },
      "intents.cex_api_signer.routes.r.probe",
      "only a read",
    ],
    [{ ...BASE, intents: { withdraw: { routes: { a: "order" } } } }, "intents.withdraw", "unknown intent"],
    [
      { ...BASE, intents: { onchain_transfer: { routes: { a: "order" } } } },
      "intents.onchain_transfer",
      "cannot be enabled",
    ],
    [
      { ...BASE, intents: { shared_clob_signer: { routes: { a: "order" } } } },
      "intents.shared_clob_signer",
      "cannot be enabled",
    ],
    [
      {
        ...BASE,
        intents: { per_user_clob_signer: { routes: { r: "order" } } },
        accounts: { a: { per_user_clob_signer: { entry: "e", read_only_entry: "ro" } } },
      },
      "accounts.a.per_user_clob_signer.read_only_entry",
      "no read whose signature could act",
    ],
    [{ vault: BASE.vault, audit: { path: "a" } }, "audit.key_env", "HMAC chain key"],
    [
      { ...BASE, reference_prices: { prices: { polymarket: { "1": "1.5" } } } },
      "reference_prices.prices.polymarket.1",
      "at most 1",
    ],
    [
      { ...BASE, reference_prices: { prices: { kraken: { X: "1" } } } },
      "reference_prices.prices.kraken",
      "unknown key",
    ],
    [{ ...BASE, clock: { max_clock_skew_ms: 3_600_000 } }, "clock.max_clock_skew_ms", "at most 60000"],
    [
      { ...FULL, policy: { cex_api_signer: { windows: [{ window: "1 hour", max_orders: 1 }] } } },
      "policy.cex_api_signer.windows.0.window",
      "duration",
    ],
    [
      { ...FULL, policy: { cex_api_signer: { windows: [{ window: "1h" }] } } },
      "policy.cex_api_signer.windows.0",
      "needs max_notional, max_orders or both",
    ],
    [
      { ...FULL, policy: { cex_api_signer: { windows: [{ window: "8d", max_orders: 1 }] } } },
      "policy.cex_api_signer.windows.0.window",
      "at most 7d",
    ],
    [
      {
        ...FULL,
        policy: {
          cex_api_signer: {
            windows: [
              { window: "60s", max_orders: 1 },
              { window: "1m", max_orders: 2 },
            ],
          },
        },
      },
      "policy.cex_api_signer.windows",
      "repeat",
    ],
    [
      { ...BASE, accounts: { acct1: { cex_api_signer: "e1" } } },
      "accounts.acct1.cex_api_signer",
      "not listed under intents",
    ],
    [{ ...BASE, policy: { cex_api_signer: {} } }, "policy.cex_api_signer", "not listed under intents"],
    [
      {
        ...FULL,
        accounts: { [UUID]: { cex_api_signer: "a" }, [UUID.toLowerCase()]: { cex_api_signer: "b" } },
      },
      `accounts.${UUID.toLowerCase()}`,
      "same UUID",
    ],
    [
      { ...FULL, policy: { cex_api_signer: { max_notional: "1e3" } } },
      "policy.cex_api_signer.max_notional",
      "decimal",
    ],
    [
      { ...FULL, policy: { cex_api_signer: { max_notional: "0" } } },
      "policy.cex_api_signer.max_notional",
      "greater than 0",
    ],
    [
      { ...FULL, policy: { cex_api_signer: { max_notional: 1000 } } },
      "policy.cex_api_signer.max_notional",
      "decimal",
    ],
    [
      { ...FULL, policy: { cex_api_signer: { symbols: [] } } },
      "policy.cex_api_signer.symbols",
      "at least one",
    ],
    [
      { ...FULL, policy: { cex_api_signer: { rate_per_account_per_s: 0 } } },
      "policy.cex_api_signer.rate_per_account_per_s",
      "positive",
    ],
    [{ ...BASE, audit: { path: "a", sync: "always" } }, "audit.sync", '"line", "group" or "never"'],
    [{ ...BASE, pkcs11: { module: "m.so", token_label: "t" } }, "pkcs11.pin_env", "never inline"],
    [
      { ...BASE, pkcs11: { module: "m.so", token_label: "t", pin_env: "P", pin_file: "f" } },
      "pkcs11.pin_file",
      "exactly one",
    ],
    [{ ...BASE, pkcs11: { module: "m.so", token_label: "t", pin: CANARY } }, "pkcs11.pin", "unknown key"],
  ])("rejects %j at %s", (raw, field, message) => {
    const err = fails(raw);
    expect(err.issues.map((i) => i.field)).toContain(field);
    expect(err.message).toContain(message);
    expect(err.message).not.toContain(CANARY);
  });

  describe("files", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "ig-signer-config-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it.each(["json", "yaml"] as const)(
      "loads %s and resolves relative paths against the file",
      async (fmt) => {
        const path = join(dir, `signer.${fmt}`);
        await writeFile(path, fmt === "json" ? JSON.stringify(FULL) : toYaml(FULL));
        const c = await loadSignerConfig(path);
        expect(c.vault.path).toBe(join(dir, "vault.json"));
        expect(c.audit.path).toBe(join(dir, "audit.jsonl"));
        expect(c.socket?.path).toBe(join(dir, "signer.sock"));
        expect(c.callers["executor-2"]?.token_file).toBe(join(dir, "tokens/e2"));
        expect(c.callers["executor-1"]?.token_env).toBe("EXEC_TOKEN");
        expect(c.reference_prices.file).toBe(join(dir, "prices.json"));
      },
    );

    it("keeps the audit sync policy and resolves the pkcs11 module and PIN file against the file", async () => {
      const path = join(dir, "signer-pkcs11.json");
      const raw = {
        ...FULL,
        audit: { path: "audit.jsonl", sync: "line", key_file: "audit.key" },
        pkcs11: { module: "lib/softhsm2.so", token_label: "signer", pin_file: "pin.txt" },
      };
      await writeFile(path, JSON.stringify(raw));
      const c = await loadSignerConfig(path);
      expect(c.audit).toEqual({
        path: join(dir, "audit.jsonl"),
        sync: "line",
        key_file: join(dir, "audit.key"),
      });
      expect(c.pkcs11).toEqual({
        module: join(dir, "lib/softhsm2.so"),
        token_label: "signer",
        pin_file: join(dir, "pin.txt"),
      });
      expect(Object.isFrozen(c.pkcs11)).toBe(true);
      const env = parseSignerConfig({
        ...BASE,
        pkcs11: { module: "/m.so", token_label: "t", pin_env: "PIN" },
      });
      expect(env.pkcs11).toEqual({ module: "/m.so", token_label: "t", pin_env: "PIN" });
      expect(parseSignerConfig(BASE).audit.sync).toBeUndefined();
    });

    it("reports a repeated key, bad JSON and bad YAML without quoting the text", async () => {
      const dup = await parseSignerConfigText(
        `{"vault":{"path":"v","passphrase_env":"P"},"audit":{"path":"a","key_env":"K"},"live":false,"live":true}`,
        "json",
      ).catch((e: unknown) => e as ConfigError);
      expect(dup).toBeInstanceOf(ConfigError);
      expect((dup as ConfigError).field).toBe("live");
      const bad = await parseSignerConfigText(`{"vault": "${CANARY}`, "json").catch(
        (e: unknown) => e as Error,
      );
      expect((bad as Error).message).not.toContain(CANARY);
      const yaml = await parseSignerConfigText(`live: true\nlive: false\n`, "yaml").catch(
        (e: unknown) => e as Error,
      );
      expect((yaml as Error).message).toMatch(/repeated key/);
    });

    it("an unreadable file is a ConfigError on <file>", async () => {
      const err = await loadSignerConfig(join(dir, "missing.json")).catch((e: unknown) => e as ConfigError);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe("<file>");
    });

    it("loads secrets from env or file, never printing them", async () => {
      const file = join(dir, "pass.txt");
      await writeFile(file, `${CANARY}\n`);
      const fromFile = await loadSignerSecret({
        ref: { passphrase_file: file },
        name: "passphrase",
        field: "vault",
        env: {},
      });
      expect(fromFile.expose().toString()).toBe(CANARY);
      expect(inspect(fromFile)).not.toContain(CANARY);
      const fromEnv = await loadSignerSecret({
        ref: { token_env: "T" },
        name: "token",
        field: "callers.e",
        env: { T: CANARY },
      });
      expect(fromEnv.expose().toString()).toBe(CANARY);
      const unset = await loadSignerSecret({
        ref: { token_env: "T" },
        name: "token",
        field: "callers.e",
        env: {},
      }).catch((e: unknown) => e);
      expect((unset as ConfigError).field).toBe("callers.e.token_env");
      await writeFile(file, "\n");
      const empty = await loadSignerSecret({
        ref: { passphrase_file: file },
        name: "passphrase",
        field: "vault",
        env: {},
      }).catch((e: unknown) => e);
      expect((empty as ConfigError).message).toMatch(/is empty/);
    });
  });
});
