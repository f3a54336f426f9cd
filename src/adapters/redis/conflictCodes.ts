import type { CommitOutcome } from "../../core/decision.js";
import type { Reason } from "../../core/reasons.js";
import type { ScriptName } from "./luaScripts.js";

/**
 * Every code a script in `lua/` can reply with, by script: what it means and
 * what the TypeScript caller makes of it. The one table the decoders read
 * (commitReply.ts, sendReplies.ts, redisDeployment.ts); each script declares
 * the same codes as `local NAME = code -- reply` constants and lists them in
 * its header's "Output", and `luaContract.test.ts` checks all three agree,
 * both ways.
 *
 * None of these codes is itself a result reason: a conflict makes the
 * executor decide the entry again, a duplicate means it has its result.
 * Only a refused commit ends in a registered reason (see {@link ERROR_REPLIES}).
 */
export interface ReplyCode {
  /** The value in the reply (a number, or a one-letter string). */
  readonly code: number | string;
  /** What the script found. */
  readonly meaning: string;
  /** What the caller makes of it. */
  readonly becomes: string;
}

/** A commit reply code, with the outcome it decodes to. */
export interface CommitReplyCode extends ReplyCode {
  readonly outcome: CommitOutcome;
}

const conflict = (on: Extract<CommitOutcome, { status: "conflict" }>["on"]): CommitOutcome => ({
  status: "conflict",
  on,
});

const LOST_DEPLOYMENT = {
  code: -1,
  meaning: "the deployment marker is not the bound id; nothing written",
  becomes: "DeploymentMismatchError (the executor stops deciding: deployment_lost)",
} as const;

/** Per script: reply code name → its code, meaning and handling (names are the Lua constants in camelCase). */
export const REPLY_CODES = {
  /** Besides these, a committed decision's element is its result entry id. */
  commit: {
    sendRecorded: {
      code: "S",
      meaning: "committed a live order's stage 1: its send record is written, no result yet",
      becomes: 'committed with resultId ""',
      outcome: { status: "committed", resultId: "" },
    },
    duplicate: {
      code: 1,
      meaning: "the entry is not pending in the group: it already has its result; nothing written",
      becomes: "duplicate",
      outcome: { status: "duplicate" },
    },
    tradingState: {
      code: 2,
      meaning: "the trading state is not the one the decision checked",
      becomes: "conflict on tradingState: the entry is decided again",
      outcome: conflict("tradingState"),
    },
    planId: {
      code: 3,
      meaning: "the plan_id is not claimed / unclaimed as the decision checked",
      becomes: "conflict on planId: the entry is decided again",
      outcome: conflict("planId"),
    },
    permit: {
      code: 4,
      meaning: "the permit_id is not used / unused as the decision checked",
      becomes: "conflict on permit: the entry is decided again",
      outcome: conflict("permit"),
    },
    rate: {
      code: 5,
      meaning: "the rate decision no longer holds against the live counter",
      becomes: "conflict on rate: the entry is decided again",
      outcome: conflict("rate"),
    },
    position: {
      code: 6,
      meaning: "the paper position is not the text the decision checked",
      becomes: "conflict on position: the entry is decided again",
      outcome: conflict("position"),
    },
    sendRecord: {
      code: 7,
      meaning: "the entry has a send record: a live order for it is being sent",
      becomes: "conflict on sendRecord: the executor finishes the send instead",
      outcome: conflict("sendRecord"),
    },
    deployment: {
      code: 8,
      meaning:
        "the deployment marker is not the bound id (every decision of the call); nothing read or written",
      becomes: "conflict on deployment: the executor stops deciding (deployment_lost)",
      outcome: conflict("deployment"),
    },
    workingOrders: {
      code: 9,
      meaning: "a working order is not stored as the text the decision checked (or not absent as checked)",
      becomes: "conflict on workingOrders: the entry is decided again",
      outcome: conflict("workingOrders"),
    },
    duplicateOrder: {
      code: 10,
      meaning: "a duplicate-order mark is not the text the decision checked (or not absent as checked)",
      becomes: "conflict on duplicate: the entry is decided again",
      outcome: conflict("duplicate"),
    },
    dailyNotional: {
      code: 11,
      meaning: "the account's daily notional is not the text the decision checked",
      becomes: "conflict on dailyNotional: the entry is decided again",
      outcome: conflict("dailyNotional"),
    },
    openOrders: {
      code: 12,
      meaning: "the open-order decision no longer holds against the account's count of open orders",
      becomes: "conflict on openOrders: the entry is decided again",
      outcome: conflict("openOrders"),
    },
    exposure: {
      code: 13,
      meaning:
        "the account's positions and open orders are not the snapshot the decision read, or not as many decisions of the call touching it committed before it",
      becomes: "conflict on exposure: the entry is decided again",
      outcome: conflict("exposure"),
    },
  },
  /** Besides these, the reply is the appended result entry's id: committed. */
  finishSend: {
    lostDeployment: LOST_DEPLOYMENT,
    duplicate: {
      code: 0,
      meaning: "the entry is not pending in the group: it already has its result; nothing written",
      becomes: '"duplicate"',
    },
    position: {
      code: -2,
      meaning: "the position is not the expected text; nothing written",
      becomes: '"position" (the executor reads it again and retries)',
    },
  },
  /** Besides these, the reply is the appended result entry's id: committed. */
  reconcile: {
    lostDeployment: LOST_DEPLOYMENT,
    duplicate: {
      code: 0,
      meaning: "the entry has no open UNKNOWN: its follow-up is written already; nothing written",
      becomes: '"duplicate"',
    },
    position: {
      code: -2,
      meaning: "the position is not the expected text; nothing written",
      becomes: '"position" (the executor reads it again and retries)',
    },
  },
  /** One element per update (the whole reply is `lostDeployment` instead when the marker is not the bound id). */
  updateOrders: {
    lostDeployment: {
      ...LOST_DEPLOYMENT,
      meaning: "the deployment marker is not the bound id; nothing read or written (the whole reply)",
    },
    conflict: {
      code: 0,
      meaning:
        "the order is not stored as the expected text, or the position is not its expected text; nothing written for it",
      becomes: '"conflict"',
    },
    applied: {
      code: 1,
      meaning: "the order stored (or removed), the position set and the event appended",
      becomes: '"applied"',
    },
  },
  buildBooks: {
    lostDeployment: LOST_DEPLOYMENT,
    built: {
      code: 1,
      meaning: "every account's books are built from the hashes they mirror, and marked ready",
      becomes: "the read that asked for them runs again",
    },
  },
  holdLease: {
    taken: { code: 0, meaning: "another owner holds the lease; nothing written", becomes: "false" },
    held: { code: 1, meaning: "the lease is the owner's for ttlMs more", becomes: "true" },
  },
  /** The first element of the `{code, id}` reply. */
  initDeployment: {
    exists: {
      code: 0,
      meaning: "a marker exists and replacing it was not asked for; nothing written",
      becomes: "DeploymentExistsError naming the existing marker",
    },
    created: {
      code: 1,
      meaning: "the group, the trading state and its log entry, and the new marker are written",
      becomes: "the new marker's id; the handle is bound to it",
    },
  },
} as const satisfies {
  readonly commit: Readonly<Record<string, CommitReplyCode>>;
  readonly finishSend: Readonly<Record<string, ReplyCode>>;
  readonly reconcile: Readonly<Record<string, ReplyCode>>;
  readonly initDeployment: Readonly<Record<string, ReplyCode>>;
  readonly updateOrders: Readonly<Record<string, ReplyCode>>;
  readonly holdLease: Readonly<Record<string, ReplyCode>>;
  readonly buildBooks: Readonly<Record<string, ReplyCode>>;
};

/** An error reply a script can give instead of its reply; the call writes nothing. */
export interface ErrorReply {
  /** The literal start of the message (`redis.error_reply('<prefix>' .. …)`), or null for an error passed on from a Redis command. */
  readonly prefix: string | null;
  readonly meaning: string;
  readonly becomes: string;
  /** The registered result reason it ends in, when it ends in one. */
  readonly reason?: Reason;
}

const BOOKS_UNNAMED =
  "thrown to the caller, nothing written: the live order's result or update is written on a later pass, and fails the same way until the corrupt entry is repaired";

const COMMIT_REFUSED =
  "CommitRefusedError: the executor commits the batch one decision at a time, and answers a decision still refused with an internal_error result";

/** Per script: the error replies it can give, by their literal message start. */
export const ERROR_REPLIES = {
  commit: [
    {
      prefix: "ERR intentgate commit: ",
      meaning:
        "a plan_id, permit_id, rate check, rate counter, position, working-order key, duplicate-order mark or daily-notional field a record names was not announced",
      becomes: COMMIT_REFUSED,
      reason: "internal_error",
    },
    {
      prefix: "ERR intentgate commit: rate counter ",
      meaning: "a rate counter to increment holds something other than an integer",
      becomes: COMMIT_REFUSED,
      reason: "internal_error",
    },
    {
      prefix: "ERR intentgate commit: open order ",
      meaning:
        "counting an account's open orders, a working order, send record or open UNKNOWN names no account (not the JSON IntentGate writes)",
      becomes: COMMIT_REFUSED,
      reason: "internal_error",
    },
    {
      prefix: "ERR intentgate commit: books: ",
      meaning:
        "a position field, working order or send record the batch writes names no account, so its account's books are unknown",
      becomes: COMMIT_REFUSED,
      reason: "internal_error",
    },
  ],
  finishSend: [
    {
      prefix: "ERR intentgate finishSend: books: ",
      meaning: "a send record, open UNKNOWN, working order or position field it writes names no account",
      becomes: BOOKS_UNNAMED,
    },
  ],
  reconcile: [
    {
      prefix: "ERR intentgate reconcile: books: ",
      meaning: "the open UNKNOWN, working order or position field it writes names no account",
      becomes: BOOKS_UNNAMED,
    },
  ],
  updateOrders: [
    {
      prefix: "ERR intentgate updateOrders: books: ",
      meaning: "an update's order text or position field names no account",
      becomes: BOOKS_UNNAMED,
    },
  ],
  holdLease: [],
  buildBooks: [
    {
      prefix: "ERR intentgate buildBooks: ",
      meaning: "a position field, working order or open record in the hashes names no account",
      becomes:
        "thrown to the read that asked for the books (nothing decided on them): the ledger is corrupt and is never decided on a guess",
    },
  ],
  initDeployment: [
    {
      prefix: "ERR intentgate init: ",
      meaning: "a plan key holds something other than a stream",
      becomes: "thrown to the caller of initDeployment (intentgate init)",
    },
    {
      prefix: null,
      meaning: "XGROUP CREATE's own error other than BUSYGROUP, passed on",
      becomes: "thrown to the caller of initDeployment (intentgate init)",
    },
  ],
} as const satisfies Readonly<Record<ScriptName, readonly ErrorReply[]>>;
