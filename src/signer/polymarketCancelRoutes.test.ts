/**
 * Polymarket cancels and heartbeats through the real signer engine (issue
 * 11 point 5): what clob-client-v2 sends for `cancelOrder`, `cancelAll` and
 * `postHeartbeat` is granted on its own route and signed exactly as
 * clob-client signs it; anything that is not exactly that request is
 * refused; cancels and heartbeats are limited by their own rates.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Chain, ClobClient } from "@polymarket/clob-client-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLines, openTestEngine, outcomeOf } from "../../test/support/signerEngineHarness.js";
import type { SignRequest } from "../ports/signingPlane.js";
import { parseSignerConfig, type SignerConfig } from "./signerConfig.js";

const SECRET = Buffer.from("intentgate-l2-test-secret-32byte").toString("base64");
const HASH = `0x${"ab".repeat(32)}`;
const OTHER_HASH = `0x${"cd".repeat(32)}`;
const ADDRESS = "0x1111111111111111111111111111111111111111";
/** A stand-in ethers signer: an address, no key. L2 headers only need the address. */
const FAKE_SIGNER = {
  getAddress: async () => ADDRESS,
  _signTypedData: async () => `0x${"11".repeat(65)}`,
} as unknown as NonNullable<ConstructorParameters<typeof ClobClient>[0]["signer"]>;

const ROUTES = {
  "executor.polymarket.l2.cancel": "cancel",
  "executor.polymarket.l2.cancel_all": "cancel_all",
  "executor.polymarket.l2.heartbeat": "heartbeat",
  "executor.polymarket.l2.open_orders": "open_orders",
};
const CONFIG: SignerConfig = parseSignerConfig({
  vault: { path: "v", passphrase_env: "P" },
  audit: { path: "a", key_env: "K" },
  callers: { exec: { token_env: "T", accounts: ["acct"], intents: ["clob_api_signer"] } },
  intents: { clob_api_signer: { routes: ROUTES } },
  accounts: { acct: { clob_api_signer: "l2" } },
  policy: { clob_api_signer: { cancel_rate_per_account_per_s: 2, keepalive_rate_per_account_per_s: 1 } },
});

/** One request as it reached the venue. */
interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let dir: string;
let server: Server;
let seen: Seen[] = [];
let client: ClobClient;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ig-poly-cancels-"));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        path: (req.url ?? "").split("?")[0] ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.setHeader("content-type", "application/json");
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  client = new ClobClient({
    host: `http://127.0.0.1:${port}`,
    chain: Chain.POLYGON,
    signer: FAKE_SIGNER,
    creds: { key: "api-key-uuid", secret: SECRET, passphrase: "passphrase" },
  });
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

let seq = 0;
function request(
  action: string,
  p: { method: string; path: string; body: string; timestamp: string },
  target: Record<string, unknown> = {},
): SignRequest {
  return {
    request_id: `r-${++seq}`,
    account: "acct",
    intent: "clob_api_signer",
    route: `executor.polymarket.l2.${action}`,
    target: { venue: "polymarket", action, ...target },
    guard_context: { plan_id: `plan-${seq}`, source: "test" },
    payload: { kind: "hmac-clob-l2", ...p },
  };
}
const engine = (name: string, nowMs: number) =>
  openTestEngine({
    config: CONFIG,
    auditPath: join(dir, `${name}.jsonl`),
    clock: () => nowMs,
    secrets: { l2: SECRET },
  });

describe("Polymarket L2 cancel, cancel_all, heartbeat: signed as clob-client-v2 signs them", () => {
  it.each<[string, () => Promise<unknown>, Record<string, unknown>]>([
    ["cancel", () => client.cancelOrder({ orderID: HASH }), { order_id: HASH }],
    ["cancel_all", () => client.cancelAll(), {}],
    ["heartbeat", () => client.postHeartbeat(), {}],
    [
      "heartbeat",
      () => client.postHeartbeat("7f3c1a9e-6b2d-4c1e-9a8f-0123456789ab"),
      { heartbeat_id: "7f3c1a9e-6b2d-4c1e-9a8f-0123456789ab" },
    ],
  ])(
    "%s: the request clob-client sends is granted on its route, with clob-client's POLY_SIGNATURE",
    async (action, send, target) => {
      seen = [];
      await send();
      expect(seen).toHaveLength(1);
      const wire = seen[0]!;
      const timestamp = String(wire.headers.poly_timestamp);
      const e = await engine(`clob-${action}-${seq}`, Number(timestamp) * 1000);
      const out = await e.sign(
        "exec",
        request(action, { method: wire.method, path: wire.path, body: wire.body, timestamp }, target),
      );
      await e.close();
      expect(out).toMatchObject({ granted: true, signature: wire.headers.poly_signature });
    },
  );
});

describe("Polymarket L2: the request must be exactly the route's action", () => {
  const T = "1764936000";
  const cancelBody = JSON.stringify({ orderID: HASH });
  it.each<[string, string, { method: string; path: string; body: string }, Record<string, unknown>, string]>([
    [
      "a cancel body with another field",
      "cancel",
      { method: "DELETE", path: "/order", body: JSON.stringify({ orderID: HASH, side: "BUY" }) },
      { order_id: HASH },
      "payload_mismatch:body",
    ],
    [
      "a cancel body of two hashes",
      "cancel",
      { method: "DELETE", path: "/order", body: JSON.stringify({ orderID: [HASH, OTHER_HASH] }) },
      { order_id: HASH },
      "payload_mismatch:body",
    ],
    [
      "a batch body on the cancel route",
      "cancel",
      { method: "DELETE", path: "/order", body: JSON.stringify([HASH]) },
      { order_id: HASH },
      "payload_mismatch:body",
    ],
    [
      "a repeated key",
      "cancel",
      { method: "DELETE", path: "/order", body: `{"orderID":"${OTHER_HASH}","orderID":"${HASH}"}` },
      { order_id: HASH },
      "payload_mismatch:body",
    ],
    [
      "white space the venue reads alike",
      "cancel",
      { method: "DELETE", path: "/order", body: `{"orderID": "${HASH}"}` },
      { order_id: HASH },
      "payload_mismatch:body",
    ],
    [
      "an escaped hash",
      "cancel",
      { method: "DELETE", path: "/order", body: `{"orderID":"\\u0030x${"ab".repeat(32)}"}` },
      { order_id: HASH },
      "payload_mismatch:body",
    ],
    [
      "not an order hash",
      "cancel",
      { method: "DELETE", path: "/order", body: JSON.stringify({ orderID: "0xab" }) },
      { order_id: "0xab" },
      "payload_mismatch:body",
    ],
    [
      "another order than the target's",
      "cancel",
      { method: "DELETE", path: "/order", body: cancelBody },
      { order_id: OTHER_HASH },
      "payload_mismatch:order_id",
    ],
    [
      "no order in the target",
      "cancel",
      { method: "DELETE", path: "/order", body: cancelBody },
      {},
      "payload_mismatch:order_id",
    ],
    [
      "an order placed on the cancel route",
      "cancel",
      { method: "POST", path: "/order", body: cancelBody },
      { order_id: HASH },
      "payload_mismatch:method",
    ],
    [
      "the batch endpoint on the cancel route",
      "cancel",
      { method: "DELETE", path: "/orders", body: cancelBody },
      { order_id: HASH },
      "payload_mismatch:path",
    ],
    [
      "a body on cancel-all",
      "cancel_all",
      { method: "DELETE", path: "/cancel-all", body: "{}" },
      {},
      "payload_mismatch:body",
    ],
    [
      "cancel-market-orders on the cancel_all route",
      "cancel_all",
      { method: "DELETE", path: "/cancel-market-orders", body: "" },
      {},
      "payload_mismatch:path",
    ],
    [
      "a cancel on the open_orders route",
      "open_orders",
      { method: "DELETE", path: "/order", body: cancelBody },
      {},
      "payload_mismatch:method",
    ],
    [
      "a heartbeat with another field",
      "heartbeat",
      { method: "POST", path: "/v1/heartbeats", body: JSON.stringify({ heartbeat_id: "", x: 1 }) },
      {},
      "payload_mismatch:body",
    ],
    [
      "a heartbeat id that is not text",
      "heartbeat",
      { method: "POST", path: "/v1/heartbeats", body: JSON.stringify({ heartbeat_id: 5 }) },
      {},
      "payload_mismatch:body",
    ],
    [
      "another heartbeat id than the target's",
      "heartbeat",
      { method: "POST", path: "/v1/heartbeats", body: JSON.stringify({ heartbeat_id: "a" }) },
      { heartbeat_id: "b" },
      "payload_mismatch:heartbeat_id",
    ],
    [
      "a heartbeat to another path",
      "heartbeat",
      { method: "POST", path: "/v1/heartbeat", body: JSON.stringify({ heartbeat_id: "" }) },
      {},
      "payload_mismatch:path",
    ],
  ])("%s → %s", async (_name, action, p, target, expected) => {
    const e = await engine(`deny-${seq}`, Number(T) * 1000);
    const out = await e.sign("exec", request(action, { ...p, timestamp: T }, target));
    await e.close();
    expect(outcomeOf(out)).toBe(expected);
  });
});

describe("Polymarket L2: cancels count against the cancel rate, heartbeats against their own", () => {
  it("cancel and cancel_all share the cancel rate; a heartbeat is not starved by them; audit says which can cancel", async () => {
    const T = "1764936000";
    const e = await engine("rates", Number(T) * 1000);
    const cancel = () =>
      request(
        "cancel",
        { method: "DELETE", path: "/order", body: JSON.stringify({ orderID: HASH }), timestamp: T },
        { order_id: HASH },
      );
    const cancelAll = () =>
      request("cancel_all", { method: "DELETE", path: "/cancel-all", body: "", timestamp: T });
    const heartbeat = () =>
      request("heartbeat", {
        method: "POST",
        path: "/v1/heartbeats",
        body: '{"heartbeat_id":""}',
        timestamp: T,
      });
    const outs: string[] = [];
    for (const r of [cancel(), cancelAll(), cancel(), heartbeat(), heartbeat()])
      outs.push(outcomeOf(await e.sign("exec", r)));
    await e.close();
    expect(outs).toEqual(["granted", "granted", "policy:cancel_rate", "granted", "policy:keepalive_rate"]);
    const lines = await auditLines(join(dir, "rates.jsonl"));
    expect(
      lines.filter((l) => l.decision === "granted").map((l) => [l.action, l.cancel_capable, l.key]),
    ).toEqual([
      ["cancel", true, "trade"],
      ["cancel_all", true, "trade"],
      ["heartbeat", false, "trade"],
    ]);
    // Which order a cancel was for is on its line; the body and signature never are.
    expect(lines[0]?.target).toMatchObject({ action: "cancel", order_id: HASH });
    expect(JSON.stringify(lines)).not.toContain("orderID");
  });
});
