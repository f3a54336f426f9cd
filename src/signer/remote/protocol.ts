import type { Socket } from "node:net";
import { z } from "zod";
import type { SignOutcome } from "../../ports/signingPlane.js";
import { SIGNER_DENY_CODES } from "../../ports/signingPlane.js";

/**
 * Wire protocol of the remote signing plane (signing-plane-v1 §5, `remote`)
 * over a Unix domain socket.
 *
 * Framing: each message is one frame, a 4-byte big-endian length followed by
 * that many bytes of UTF-8 JSON. A frame longer than {@link MAX_FRAME_BYTES}
 * (announced or actual) or one that is not a JSON object of a known shape is a
 * protocol violation: the receiver closes the connection.
 *
 * Conversation:
 *
 *     client → {type:"hello", caller, token}      token: base64 of the caller's token bytes
 *     server → {type:"welcome"}                   or {type:"refused"} and close
 *     client → {type:"sign", id, caller?, request} any number, several in flight
 *     server → {type:"outcome", id, outcome}      matched by id, in any order
 *
 * The request body carries no caller: the server passes the caller the hello
 * authenticated to the plane. A sign message may say which caller the
 * client's code claimed to sign as (`caller`): when it is not the
 * authenticated one the request is denied `unknown_caller`, audited by the
 * plane when it can (see `signerServer.ts`), and never signed. The transport
 * does not validate the body's fields: the plane does, and denies (and
 * audits) what is malformed, as the local plane would.
 *
 * Messages are checked by the hand-written {@link parseSignMessage} and
 * {@link parseServerMessage} on the hot path; the zod schemas below are their
 * reference definitions (protocol.test.ts checks that both agree).
 */

/** The largest frame payload either side accepts (64 KiB). */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Size of the length prefix. */
export const FRAME_HEADER_BYTES = 4;

/** A framing or message-shape violation; the connection that carried it is closed. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

/**
 * Encodes one message as a frame. Throws {@link ProtocolError} when it is
 * larger than `maxBytes`, a TypeError when it is not JSON (a bigint, a cycle).
 */
export function encodeFrame(message: unknown, maxBytes: number = MAX_FRAME_BYTES): Buffer {
  const json = JSON.stringify(message);
  if (typeof json !== "string") throw new TypeError("the message is not JSON");
  const length = Buffer.byteLength(json, "utf8");
  if (length > maxBytes) throw new ProtocolError(`frame of ${length} bytes exceeds ${maxBytes}`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, FRAME_HEADER_BYTES, length, "utf8");
  return frame;
}

/**
 * Writes frames to a socket, coalescing the frames written during one turn
 * of the event loop into one write (`cork`, then `uncork` in the check phase
 * right after): several answers or requests ready together cost one system
 * call and one wake-up of the peer, and a lone frame waits only for the rest
 * of the current turn.
 */
export class FrameWriter {
  readonly #socket: Socket;
  #corked = false;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  write(frame: Buffer): void {
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      setImmediate(this.#flush);
    }
    this.#socket.write(frame);
  }

  readonly #flush = (): void => {
    this.#corked = false;
    this.#socket.uncork();
  };
}

/**
 * Splits a byte stream into frames and parses each as JSON. {@link push}
 * throws {@link ProtocolError} as soon as a length prefix exceeds the limit
 * (before the body arrives) or a body is not valid JSON; the decoder is then
 * unusable and the connection must be closed.
 */
export class FrameDecoder {
  readonly #maxBytes: number;
  #buffered: Buffer[] = [];
  #bufferedBytes = 0;

  constructor(maxBytes: number = MAX_FRAME_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pendingBytes(): number {
    return this.#bufferedBytes;
  }

  /** Adds received bytes; returns the parsed messages of every frame now complete. */
  push(chunk: Buffer): unknown[] {
    this.#buffered.push(chunk);
    this.#bufferedBytes += chunk.length;
    const out: unknown[] = [];
    for (;;) {
      if (this.#bufferedBytes < FRAME_HEADER_BYTES) return out;
      const head = this.#contiguous(FRAME_HEADER_BYTES);
      const length = head.readUInt32BE(0);
      if (length > this.#maxBytes) {
        throw new ProtocolError(`frame of ${length} bytes exceeds ${this.#maxBytes}`);
      }
      if (this.#bufferedBytes < FRAME_HEADER_BYTES + length) return out;
      const all = this.#contiguous(FRAME_HEADER_BYTES + length);
      const body = all.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
      let message: unknown;
      try {
        message = JSON.parse(body.toString("utf8"));
      } catch {
        throw new ProtocolError("frame is not valid JSON");
      }
      const rest = all.subarray(FRAME_HEADER_BYTES + length);
      this.#buffered = rest.length > 0 ? [rest] : [];
      this.#bufferedBytes = rest.length;
      out.push(message);
    }
  }

  /** Joins buffered chunks until the first one holds at least `n` bytes; returns it. */
  #contiguous(n: number): Buffer {
    const first = this.#buffered[0]!;
    if (first.length >= n) return first;
    const joined = Buffer.concat(this.#buffered);
    this.#buffered = [joined];
    return joined;
  }
}

// ---------------------------------------------------------------------------
// Message shapes

const record = z.record(z.string(), z.unknown());

/**
 * A request body as it arrives on the wire: any JSON object. The transport
 * does not judge its fields: the plane validates them itself (signing-plane-v1
 * §3, fields typed `unknown`), denies and audits what is wrong, exactly as
 * the local plane would. Only a `caller` key is dropped (see {@link bodyOf}).
 */
export const signRequestSchema = record;

/** The longest caller id either side sends. */
const MAX_CALLER = 256;

/** Request id on one connection: chosen by the client, unique among its requests in flight. */
const idSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const helloSchema = z.object({
  type: z.literal("hello"),
  caller: z.string().min(1).max(MAX_CALLER),
  /** base64 of the caller's token bytes. */
  token: z.string().min(1).max(4096),
});
export type HelloMessage = z.infer<typeof helloSchema>;

export const signMessageSchema = z.object({
  type: z.literal("sign"),
  id: idSchema,
  /** The caller the client's code asked to sign as; absent: the authenticated one. */
  caller: z.string().max(MAX_CALLER).optional(),
  request: signRequestSchema,
});
export type SignMessage = z.infer<typeof signMessageSchema>;

const DENY_CODES: ReadonlySet<string> = new Set(SIGNER_DENY_CODES);
const PAYLOAD_MISMATCH_RE = /^payload_mismatch:.+$/;
const POLICY_RE = /^policy:.+$/;

/** True for a reason a plane may deny with (signing-plane-v1 §3). */
export function isDenyReason(r: unknown): r is string {
  return typeof r === "string" && (DENY_CODES.has(r) || PAYLOAD_MISMATCH_RE.test(r) || POLICY_RE.test(r));
}

const denyReasonSchema = z.string().refine(isDenyReason, "not a signer deny reason");

export const outcomeSchema = z.union([
  z.object({
    granted: z.literal(true),
    request_id: z.string(),
    signature: z.string().min(1),
    signer_address: z.string().optional(),
    plane_version: z.string(),
  }),
  z.object({ granted: z.literal(false), request_id: z.string(), reason: denyReasonSchema }),
]);

/** Server → client. */
export const serverMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("welcome") }),
  z.object({ type: z.literal("refused") }),
  z.object({ type: z.literal("outcome"), id: idSchema, outcome: outcomeSchema }),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

// ---------------------------------------------------------------------------
// Hot-path parsers (the schemas above say the same; protocol.test.ts checks it)

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** A client's sign message, or undefined when it is not one ({@link signMessageSchema}). */
export function parseSignMessage(m: unknown): SignMessage | undefined {
  if (!isObject(m) || m.type !== "sign" || !isId(m.id) || !isObject(m.request)) return undefined;
  const caller = m.caller;
  if (caller !== undefined && (typeof caller !== "string" || caller.length > MAX_CALLER)) return undefined;
  const request = withoutProtoKey(m.request);
  return caller === undefined
    ? { type: "sign", id: m.id, request }
    : { type: "sign", id: m.id, caller, request };
}

/**
 * The object without an own `__proto__` key (JSON.parse makes one from
 * `{"__proto__": …}`), as the schema's record drops it: a copy made later
 * with `Object.assign` would take it for the copy's prototype.
 */
function withoutProtoKey(o: Record<string, unknown>): Record<string, unknown> {
  if (!Object.hasOwn(o, "__proto__")) return o;
  const copy: Record<string, unknown> = {};
  for (const k of Object.keys(o)) if (k !== "__proto__") copy[k] = o[k];
  return copy;
}

/** A server message, or undefined when it is not one ({@link serverMessageSchema}). */
export function parseServerMessage(m: unknown): ServerMessage | undefined {
  if (!isObject(m)) return undefined;
  if (m.type === "outcome") {
    const o = m.outcome;
    if (!isId(m.id) || !isObject(o) || typeof o.request_id !== "string") return undefined;
    if (o.granted === true) {
      const { signature, signer_address, plane_version } = o;
      if (typeof signature !== "string" || signature.length === 0 || typeof plane_version !== "string")
        return undefined;
      if (signer_address !== undefined && typeof signer_address !== "string") return undefined;
      const outcome =
        signer_address === undefined
          ? { granted: true as const, request_id: o.request_id, signature, plane_version }
          : { granted: true as const, request_id: o.request_id, signature, signer_address, plane_version };
      return { type: "outcome", id: m.id, outcome };
    }
    if (o.granted === false && isDenyReason(o.reason)) {
      return {
        type: "outcome",
        id: m.id,
        outcome: { granted: false, request_id: o.request_id, reason: o.reason },
      };
    }
    return undefined;
  }
  if (m.type === "welcome") return { type: "welcome" };
  if (m.type === "refused") return { type: "refused" };
  return undefined;
}

/**
 * The request as sent on the wire: the caller's object as is (the same
 * object when it has no `caller` key), without any `caller` key (the caller
 * is the connection's authenticated identity).
 * Encoding it fails ({@link encodeFrame} throws) when it is not JSON (a
 * bigint, a cycle) or too large.
 */
export function bodyOf(request: object): Record<string, unknown> {
  if (!Object.hasOwn(request, "caller")) return request as Record<string, unknown>;
  const { caller: _dropped, ...body } = request as Record<string, unknown>;
  return body;
}

/** Narrows a parsed wire outcome to the port's type. */
export function toSignOutcome(parsed: z.infer<typeof outcomeSchema>): SignOutcome {
  if (parsed.granted) {
    const { signer_address, ...rest } = parsed;
    return signer_address === undefined ? rest : { ...rest, signer_address };
  }
  return parsed as SignOutcome;
}

/** The denial every transport failure becomes (fail closed). */
export function unavailable(requestId: string): SignOutcome {
  return { granted: false, request_id: requestId, reason: "signer_unavailable" };
}
