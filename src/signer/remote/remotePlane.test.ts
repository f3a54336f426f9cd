import { type ChildProcess, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RawSignerClient, rawSignerClient } from "../../../test/support/rawSignerClient.js";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import {
  PLANE_PROTOCOL_VERSION,
  type SigningPlane,
  type SignOutcome,
  type SignRequest,
} from "../../ports/signingPlane.js";
import type { RemoteLogger } from "./logger.js";
import { MAX_FRAME_BYTES } from "./protocol.js";
import { createRemotePlane } from "./remotePlaneClient.js";
import { type SignerServer, SignerServerError, startSignerServer } from "./signerServer.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const ROUTE = "test.binance-usdm.order";
const PLANE_SECRET = Buffer.from("test-hmac-secret-not-a-real-key");
/** Caller tokens are at least 32 random bytes' worth of text (43+ characters, secretStrength.ts). */
const CANARY = "CANARY-tok-3b9f1c7e-do-not-print-5a0d2e48c61f";
const TOKEN_A = new SecretBytes(Buffer.from(CANARY));
const TOKEN_B = new SecretBytes(Buffer.from("token-of-exec-b-0123456789abcdef-9f8e7d6c5b4a"));

/**
 * A small real plane: only `exec-a` may sign, only on {@link ROUTE}; it
 * HMAC-SHA256-signs `payload.query`. `target.delay_ms` makes it slow.
 */
class HmacTestPlane implements SigningPlane {
  readonly seen: { caller: string; request_id: string }[] = [];

  async sign(caller: string, request: SignRequest): Promise<SignOutcome> {
    this.seen.push({ caller, request_id: request.request_id });
    const deny = (reason: "unknown_caller" | "route_not_allowed" | "payload_mismatch:kind"): SignOutcome => ({
      granted: false,
      request_id: request.request_id,
      reason,
    });
    if (caller !== "exec-a") return deny("unknown_caller");
    if (request.route !== ROUTE) return deny("route_not_allowed");
    const delay = Number(request.target?.delay_ms ?? 0);
    if (delay > 0) await sleep(delay);
    if (request.payload.kind !== "hmac-query") return deny("payload_mismatch:kind");
    return {
      granted: true,
      request_id: request.request_id,
      signature: hmacHex(request.payload.query),
      plane_version: PLANE_PROTOCOL_VERSION,
    };
  }

  async close(): Promise<void> {}
}

function hmacHex(query: string): string {
  return createHmac("sha256", PLANE_SECRET).update(query).digest("hex");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

let seq = 0;
function request(over: { delay_ms?: number; query?: string; route?: string } = {}): SignRequest {
  seq += 1;
  return {
    request_id: `req-${seq}`,
    account: "acct-1",
    intent: "cex_api_signer",
    route: over.route ?? ROUTE,
    target: { venue: "binance-usdm", symbol: "BTCUSDT", delay_ms: over.delay_ms ?? 0 },
    guard_context: { plan_id: `plan-${seq}`, decision: "allow" },
    payload: { kind: "hmac-query", query: over.query ?? `symbol=BTCUSDT&side=BUY&quantity=0.001&n=${seq}` },
  };
}

/** A logger keeping every line, to check nothing secret reaches it. */
function memoryLogger(): RemoteLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (fields: Record<string, unknown>, msg: string) => {
    lines.push(JSON.stringify({ level, msg, ...fields }));
  };
  return { lines, info: log("info"), warn: log("warn"), error: log("error") };
}

/** A hand-driven protocol client, to send what the real client never would. */
async function hello(path: string, caller: string, token: SecretBytes): Promise<RawSignerClient> {
  const c = await rawSignerClient(path);
  c.send({ type: "hello", caller, token: token.expose().toString("base64") });
  return c;
}

/** Resolves within `ms` or reports that it did not. */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

const CALLERS = new Map([
  ["exec-a", TOKEN_A],
  ["exec-b", TOKEN_B],
]);

let dir: string;
let socketPath: string;
let logger: ReturnType<typeof memoryLogger>;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ig-signer-"));
  socketPath = join(dir, "signer.sock");
  logger = memoryLogger();
});

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
  for (const line of logger.lines) {
    expect(line).not.toContain(CANARY);
    expect(line).not.toContain(TOKEN_A.expose().toString("base64"));
  }
  rmSync(dir, { recursive: true, force: true });
});

async function serve(
  plane: SigningPlane = new HmacTestPlane(),
  over: { requestTimeoutMs?: number } = {},
): Promise<SignerServer> {
  const server = await startSignerServer({
    socketPath,
    callers: CALLERS,
    plane,
    requestTimeoutMs: over.requestTimeoutMs ?? 5000,
    logger,
  });
  cleanups.push(() => server.close());
  return server;
}

function client(over: { caller?: string; token?: SecretBytes; timeoutMs?: number } = {}): SigningPlane {
  const plane = createRemotePlane({
    socketPath,
    caller: over.caller ?? "exec-a",
    token: over.token ?? TOKEN_A,
    timeoutMs: over.timeoutMs ?? 2000,
    backoff: { initialMs: 20, maxMs: 200 },
    logger,
  });
  cleanups.push(() => plane.close());
  return plane;
}

describe("remote signing plane: server", () => {
  it("creates the socket with mode 0600, even under a permissive umask", async () => {
    const previous = process.umask(0);
    try {
      await serve();
    } finally {
      process.umask(previous);
    }
    const st = statSync(socketPath);
    expect(st.isSocket()).toBe(true);
    expect((st.mode & 0o777).toString(8)).toBe("600");
  });

  it("signs for an authenticated caller through the real client", async () => {
    await serve();
    const r = request();
    const out = await client().sign("exec-a", r);
    expect(out).toEqual({
      granted: true,
      request_id: r.request_id,
      signature: hmacHex((r.payload as { query: string }).query),
      plane_version: PLANE_PROTOCOL_VERSION,
    });
  });

  it("refuses a wrong token and an unknown caller, then closes", async () => {
    const plane = new HmacTestPlane();
    await serve(plane);
    for (const [caller, token] of [
      ["exec-a", TOKEN_B],
      ["exec-a", new SecretBytes(Buffer.from(`${CANARY}x`))],
      ["exec-a", new SecretBytes(Buffer.from("short"))],
      ["nobody", TOKEN_A],
    ] as const) {
      const c = await hello(socketPath, caller, token);
      expect(await c.next()).toEqual({ type: "refused" });
      await within(2000, c.closed);
    }
    // the real client with a wrong token: signer_unavailable, and the plane never saw a request
    const r = request();
    expect(await client({ token: TOKEN_B }).sign("exec-a", r)).toEqual({
      granted: false,
      request_id: r.request_id,
      reason: "signer_unavailable",
    });
    expect(await client({ caller: "nobody" }).sign("nobody", request())).toMatchObject({
      granted: false,
      reason: "signer_unavailable",
    });
    expect(plane.seen).toEqual([]);
  });

  it("closes a connection that sends a request before a hello", async () => {
    const plane = new HmacTestPlane();
    await serve(plane);
    const c = await rawSignerClient(socketPath);
    c.send({ type: "sign", id: 1, request: request() });
    await within(2000, c.closed);
    expect(plane.seen).toEqual([]);
  });

  it("takes the caller from the token, never from the request body", async () => {
    const plane = new HmacTestPlane();
    await serve(plane);
    const c = await hello(socketPath, "exec-b", TOKEN_B);
    expect(await c.next()).toEqual({ type: "welcome" });
    const r = request();
    c.send({ type: "sign", id: 7, request: { ...r, caller: "exec-a" } });
    expect(await c.next()).toEqual({
      type: "outcome",
      id: 7,
      outcome: { granted: false, request_id: r.request_id, reason: "unknown_caller" },
    });
    expect(plane.seen).toEqual([{ caller: "exec-b", request_id: r.request_id }]);
    // and the client refuses to speak for another caller than the one its token authenticates
    expect(await client().sign("exec-b", request())).toMatchObject({
      granted: false,
      reason: "unknown_caller",
    });
  });

  it("hands a request for another caller than the connection's to the plane to deny and audit, never to sign", async () => {
    const claims: { auditedAs: string; request_id: unknown }[] = [];
    const plane = Object.assign(new HmacTestPlane(), {
      async denyClaimedCaller(auditedAs: string, req: unknown): Promise<SignOutcome> {
        const request_id = (req as { request_id?: unknown }).request_id;
        claims.push({ auditedAs, request_id });
        return { granted: false, request_id: String(request_id), reason: "unknown_caller" };
      },
    });
    await serve(plane);
    const r = request();
    expect(await client().sign("exec-b", r)).toEqual({
      granted: false,
      request_id: r.request_id,
      reason: "unknown_caller",
    });
    const empty = request();
    expect(await client().sign("", empty)).toMatchObject({ granted: false, reason: "unknown_caller" });
    expect(claims).toEqual([
      // audited under the connection's authenticated caller, never the claimed one
      { auditedAs: "exec-a", request_id: r.request_id },
      { auditedAs: "exec-a", request_id: empty.request_id },
    ]);
    expect(plane.seen).toEqual([]); // never signed
    const line = logger.lines.find((l) => l.includes("claims another caller"));
    expect(line).toContain('"caller":"exec-a"');
    expect(line).toContain('"claimed_caller":"exec-b"');
    // the client's own caller goes through as before
    expect(await client().sign("exec-a", request())).toMatchObject({ granted: true });
  });

  it("answers several requests in flight on one connection in any order, matched by id", async () => {
    await serve();
    const c = await hello(socketPath, "exec-a", TOKEN_A);
    expect(await c.next()).toEqual({ type: "welcome" });
    const reqs = [request({ delay_ms: 300 }), request({ delay_ms: 150 }), request({ delay_ms: 0 })];
    reqs.forEach((r, i) => {
      c.send({ type: "sign", id: 100 + i, request: r });
    });
    const got = [await c.next(), await c.next(), await c.next()];
    expect(got.map((m) => m.id)).toEqual([102, 101, 100]);
    for (const m of got) {
      const r = reqs[(m.id as number) - 100]!;
      expect(m.outcome).toMatchObject({
        granted: true,
        request_id: r.request_id,
        signature: hmacHex((r.payload as { query: string }).query),
      });
    }

    // the real client: 200 concurrent requests with shuffled delays, each gets its own signature
    const plane = client();
    const many = Array.from({ length: 200 }, (_, i) => request({ delay_ms: (i * 37) % 50 }));
    const outs = await Promise.all(many.map((r) => plane.sign("exec-a", r)));
    outs.forEach((o, i) => {
      const r = many[i]!;
      expect(o).toMatchObject({
        granted: true,
        request_id: r.request_id,
        signature: hmacHex((r.payload as { query: string }).query),
      });
    });
  });

  it("denies signer_unavailable when the plane takes longer than the request timeout", async () => {
    await serve(new HmacTestPlane(), { requestTimeoutMs: 200 });
    const plane = client({ timeoutMs: 3000 });
    const r = request({ delay_ms: 2000 });
    const t0 = Date.now();
    expect(await plane.sign("exec-a", r)).toEqual({
      granted: false,
      request_id: r.request_id,
      reason: "signer_unavailable",
    });
    expect(Date.now() - t0).toBeLessThan(1500);
    // the connection is still good for the next request
    expect(await plane.sign("exec-a", request())).toMatchObject({ granted: true });
    expect(logger.lines.some((l) => l.includes("signing timed out"))).toBe(true);
  });

  it("denies signer_unavailable when the plane throws", async () => {
    const throwing: SigningPlane = {
      sign: async () => {
        throw new Error(`boom with ${CANARY}`);
      },
      close: async () => {},
    };
    await serve(throwing);
    expect(await client().sign("exec-a", request())).toMatchObject({
      granted: false,
      reason: "signer_unavailable",
    });
  });

  it("closes a connection sending an oversized or malformed frame and keeps serving the others", async () => {
    await serve();
    const good = client();
    expect(await good.sign("exec-a", request())).toMatchObject({ granted: true });

    // announced size over the limit: closed before the body arrives
    const big = await hello(socketPath, "exec-a", TOKEN_A);
    expect(await big.next()).toEqual({ type: "welcome" });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_FRAME_BYTES + 1);
    big.sendRaw(header);
    await within(2000, big.closed);

    // an actual oversized body before authenticating
    const bigger = await rawSignerClient(socketPath);
    const body = Buffer.alloc(MAX_FRAME_BYTES + 10, 0x61);
    const h2 = Buffer.alloc(4);
    h2.writeUInt32BE(body.length);
    bigger.sendRaw(Buffer.concat([h2, body]));
    await within(2000, bigger.closed);

    // not JSON
    const junk = await hello(socketPath, "exec-a", TOKEN_A);
    expect(await junk.next()).toEqual({ type: "welcome" });
    const h3 = Buffer.alloc(4);
    h3.writeUInt32BE(5);
    junk.sendRaw(Buffer.concat([h3, Buffer.from("{nope")]));
    await within(2000, junk.closed);

    // the others are still served, on their existing connection and on new ones
    expect(await good.sign("exec-a", request())).toMatchObject({ granted: true });
    expect(await client().sign("exec-a", request())).toMatchObject({ granted: true });
  });

  it("refuses to start on a path that is not a socket, or a live socket", async () => {
    writeFileSync(socketPath, "precious");
    await expect(
      startSignerServer({ socketPath, callers: CALLERS, plane: new HmacTestPlane(), requestTimeoutMs: 100 }),
    ).rejects.toBeInstanceOf(SignerServerError);
    expect(statSync(socketPath).isFile()).toBe(true);
    rmSync(socketPath);

    await serve();
    await expect(
      startSignerServer({ socketPath, callers: CALLERS, plane: new HmacTestPlane(), requestTimeoutMs: 100 }),
    ).rejects.toThrow(/another signer/);
    expect(await client().sign("exec-a", request())).toMatchObject({ granted: true });
  });

  it("closes gracefully: answers requests in flight, then removes the socket", async () => {
    const server = await serve();
    const plane = client();
    const slow = plane.sign("exec-a", request({ delay_ms: 300 }));
    await sleep(50);
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(await slow).toMatchObject({ granted: true });
    expect(() => statSync(socketPath)).toThrow(/ENOENT/);
    expect(await plane.sign("exec-a", request())).toMatchObject({
      granted: false,
      reason: "signer_unavailable",
    });
  });
});

describe("remote signing plane: client fails closed", () => {
  it("is signer_unavailable within the timeout when no signer is there, and never throws", async () => {
    const plane = client({ timeoutMs: 300 });
    for (let i = 0; i < 5; i++) {
      const r = request();
      const t0 = Date.now();
      expect(await plane.sign("exec-a", r)).toEqual({
        granted: false,
        request_id: r.request_id,
        reason: "signer_unavailable",
      });
      expect(Date.now() - t0).toBeLessThan(300 + 250); // the timeout, plus scheduling slack
    }
  });

  it("is signer_unavailable at the timeout when the peer accepts but never answers", async () => {
    const sockets: Socket[] = [];
    const mute = createServer((s) => {
      sockets.push(s);
    });
    await new Promise<void>((r) => mute.listen(socketPath, r));
    chmodSync(socketPath, 0o600); // a socket the client's checks accept: only its silence is wrong
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          mute.close(() => r());
        }),
    );
    const plane = client({ timeoutMs: 250 });
    const t0 = Date.now();
    expect(await plane.sign("exec-a", request())).toMatchObject({
      granted: false,
      reason: "signer_unavailable",
    });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(200);
    expect(took).toBeLessThan(250 + 350);
  });

  it("denies a request it cannot send, without breaking the connection; the plane judges the rest", async () => {
    await serve();
    const plane = client();
    const slow = plane.sign("exec-a", request({ delay_ms: 100 }));
    const notJson = { ...request(), target: { n: 1n } } as unknown as SignRequest;
    expect(await plane.sign("exec-a", notJson)).toMatchObject({
      granted: false,
      reason: "signer_unavailable",
    });
    const tooBig = request({ query: "a".repeat(MAX_FRAME_BYTES) });
    expect(await plane.sign("exec-a", tooBig)).toMatchObject({
      granted: false,
      reason: "signer_unavailable",
    });
    // a body outside the contract reaches the plane, which denies it as the local plane would
    const odd = { ...request(), payload: { kind: "raw-bytes", data: "00" } } as unknown as SignRequest;
    expect(await plane.sign("exec-a", odd)).toEqual({
      granted: false,
      request_id: odd.request_id,
      reason: "payload_mismatch:kind",
    });
    expect(await slow).toMatchObject({ granted: true });
  });

  it("recovers after the signer restarts", async () => {
    const server = await serve();
    const plane = client({ timeoutMs: 500 });
    expect(await plane.sign("exec-a", request())).toMatchObject({ granted: true });
    await server.close();
    for (let i = 0; i < 3; i++) {
      expect(await plane.sign("exec-a", request())).toMatchObject({
        granted: false,
        reason: "signer_unavailable",
      });
    }
    await sleep(300); // down for a while: the backoff grows to its cap
    const restartedAt = Date.now();
    await serve();
    let out: SignOutcome | undefined;
    while (Date.now() - restartedAt < 3000) {
      out = await plane.sign("exec-a", request());
      if (out.granted) break;
      await sleep(20);
    }
    expect(out).toMatchObject({ granted: true });
    expect(Date.now() - restartedAt).toBeLessThan(1500); // backoff capped at 200 ms here, plus slack
  });

  it("never shows the token when printed, inspected or serialised", async () => {
    await serve();
    const plane = client();
    await plane.sign("exec-a", request());
    const b64 = TOKEN_A.expose().toString("base64");
    for (const text of [
      inspect(plane, { depth: 10, showHidden: true }),
      JSON.stringify(plane),
      String(plane),
    ]) {
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(b64);
    }
    expect(inspect(plane)).toContain("[REDACTED]");
  });
});

describe("remote signing plane: signer in a child process", () => {
  function fixtureScript(): string {
    const url = (p: string) => pathToFileURL(join(ROOT, p)).href;
    // .mts: an ES module wherever the temp dir is (no package.json there says "type": "module")
    const script = join(dir, "childSigner.mts");
    writeFileSync(
      script,
      `import { createHmac } from "node:crypto";
import { SecretBytes } from ${JSON.stringify(url("src/core/auth/secretBytes.ts"))};
import { startSignerServer } from ${JSON.stringify(url("src/signer/remote/signerServer.ts"))};
const socketPath = process.argv[2];
const token = new SecretBytes(Buffer.from(process.env.SIGNER_TEST_TOKEN ?? "", "utf8"));
const secret = Buffer.from(${JSON.stringify(PLANE_SECRET.toString())});
const plane = {
  async sign(caller, request) {
    process.stdout.write("received " + request.request_id + "\\n");
    const delay = Number(request.target?.delay_ms ?? 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    return { granted: true, request_id: request.request_id, plane_version: "signing-plane-v1",
      signature: createHmac("sha256", secret).update(request.payload.query).digest("hex") };
  },
  async close() {},
};
const line = (level) => (fields, msg) => process.stderr.write(JSON.stringify({ level, msg, ...fields }) + "\\n");
const server = await startSignerServer({ socketPath, callers: new Map([["exec-a", token]]), plane,
  requestTimeoutMs: 30000, logger: { info: line("info"), warn: line("warn"), error: line("error") } });
process.on("SIGTERM", () => { void server.close().then(() => process.exit(0)); });
process.stdout.write("ready\\n");
`,
    );
    return script;
  }

  interface Child {
    readonly proc: ChildProcess;
    readonly out: () => string;
    waitFor(text: string, ms?: number): Promise<void>;
    readonly exited: Promise<number | null>;
  }

  function startChild(script: string): Child {
    const proc = spawn(process.execPath, ["--import", "tsx", script, socketPath], {
      cwd: ROOT,
      env: { ...process.env, SIGNER_TEST_TOKEN: CANARY },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const listeners = new Set<() => void>();
    const onData = (d: Buffer) => {
      out += d.toString();
      for (const l of listeners) l();
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    cleanups.push(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    });
    return {
      proc,
      exited,
      out: () => out,
      waitFor: (text, ms = 15_000) =>
        within(
          ms,
          new Promise<void>((r) => {
            const check = () => {
              if (out.includes(text)) {
                listeners.delete(check);
                r();
              }
            };
            listeners.add(check);
            check();
          }),
        ).catch((err: Error) => {
          throw new Error(`${err.message} waiting for ${JSON.stringify(text)}; child output:\n${out}`);
        }),
    };
  }

  it("is signer_unavailable when the signer is killed mid-request, and recovers on a new signer", async () => {
    const script = fixtureScript();
    const first = startChild(script);
    await first.waitFor("ready");
    const plane = client({ timeoutMs: 5000 });
    expect(await plane.sign("exec-a", request())).toMatchObject({ granted: true });

    const r = request({ delay_ms: 10_000 });
    const pending = plane.sign("exec-a", r);
    await first.waitFor(`received ${r.request_id}`);
    const t0 = Date.now();
    first.proc.kill("SIGKILL");
    expect(await pending).toEqual({ granted: false, request_id: r.request_id, reason: "signer_unavailable" });
    expect(Date.now() - t0).toBeLessThan(2000); // the drop is noticed, not waited out
    await first.exited;
    expect(statSync(socketPath).isSocket()).toBe(true); // left behind by the kill: stale

    // a new signer removes the stale socket and serves; the client comes back
    const second = startChild(script);
    await second.waitFor("ready");
    expect(second.out()).toContain("removed a stale signer socket");
    let out: SignOutcome | undefined;
    const t1 = Date.now();
    while (Date.now() - t1 < 3000) {
      out = await plane.sign("exec-a", request());
      if (out.granted) break;
      await sleep(20);
    }
    expect(out).toMatchObject({ granted: true });

    // a wrong token (holding the canary) is refused, and its refusal is logged without it
    const wrong = createRemotePlane({
      socketPath,
      caller: "exec-a",
      token: new SecretBytes(Buffer.from(`${CANARY}-wrong`)),
      timeoutMs: 2000,
    });
    expect(await wrong.sign("exec-a", request())).toMatchObject({
      granted: false,
      reason: "signer_unavailable",
    });
    await wrong.close();
    await second.waitFor("signer connection refused");

    // SIGTERM: graceful stop, exit 0, socket removed
    second.proc.kill("SIGTERM");
    expect(await within(10_000, second.exited)).toBe(0);
    expect(() => statSync(socketPath)).toThrow(/ENOENT/);

    // the canary token never reaches the signer's output
    for (const text of [first.out(), second.out()]) {
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(TOKEN_A.expose().toString("base64"));
    }
  });

  it("measures the HMAC round trip over the socket (printed, not asserted)", async () => {
    await serve();
    const plane = client();
    for (let i = 0; i < 200; i++) await plane.sign("exec-a", request()); // warm up
    const n = 5000;
    const us: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = request();
      const t0 = process.hrtime.bigint();
      const out = await plane.sign("exec-a", r);
      us.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (!out.granted) throw new Error(`request ${i} denied: ${out.reason}`);
    }
    us.sort((a, b) => a - b);
    const at = (q: number) => us[Math.min(n - 1, Math.floor(q * n))]!.toFixed(0);
    console.log(
      `remote signer HMAC round trip over UDS, ${n} sequential requests: p50 ${at(0.5)} µs, p99 ${at(0.99)} µs, max ${us[n - 1]!.toFixed(0)} µs`,
    );
  });
});
