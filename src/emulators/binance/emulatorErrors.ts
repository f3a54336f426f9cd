/**
 * The Binance USDⓈ-M error answers the emulator gives, as `[code, HTTP status,
 * message]` the way Binance sends them (`{"code":-1022,"msg":"…"}`). A `%s`
 * takes one detail. Defined once here; the emulator builds no error body
 * anywhere else. -1000/-1006/-1007 mean "execution status unknown"; -1008 on
 * an order means it was throttled and not processed.
 */
export const BINANCE_ERRORS = [
  [-1000, 500, "An unknown error occurred while processing the request."],
  [-1003, 429, "Too many requests; current limit is %s requests per minute."],
  [-1006, 503, "An unexpected response was received from the message bus. Execution status unknown."],
  [
    -1007,
    408,
    "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
  ],
  [
    -1008,
    503,
    "Request throttled by system-level protection. Reduce-only/close-position orders are exempt. Please try again.",
  ],
  [-1021, 400, "Timestamp for this request is outside of the recvWindow."],
  [-1022, 400, "Signature for this request is not valid."],
  [-1100, 400, "Illegal characters found in parameter '%s'."],
  [-1101, 400, "Duplicate values for a parameter detected."],
  [-1102, 400, "Mandatory parameter '%s' was not sent, was empty/null, or malformed."],
  [-1106, 400, "Parameter '%s' sent when not required."],
  [-1111, 400, "Precision is over the maximum defined for this asset."],
  [-1115, 400, "Invalid timeInForce."],
  [-1116, 400, "Invalid orderType."],
  [-1117, 400, "Invalid side."],
  [-1121, 400, "Invalid symbol."],
  [-1130, 400, "Data sent for parameter '%s' is not valid."],
  [-1131, 400, "recvWindow must be less than 60000"],
  [-1136, 400, "Invalid newOrderRespType"],
  [-2011, 400, "Unknown order sent."],
  [-2013, 400, "Order does not exist."],
  [-2014, 401, "API-key format invalid."],
  [-2015, 401, "Invalid API-key, IP, or permissions for action."],
  [-2022, 400, "ReduceOnly Order is rejected."],
  [-4003, 400, "Quantity less than or equal to zero."],
  [-4004, 400, "Quantity less than min quantity."],
  [-4005, 400, "Quantity greater than max quantity."],
  [-4013, 400, "Price less than min price."],
  [-4014, 400, "Price not increased by tick size."],
  [-4015, 400, "Client order id is not valid."],
  [-4016, 400, "Price greater than max price."],
  [-4023, 400, "Qty not increased by step size."],
  [-4061, 400, "Order's position side does not match user's setting."],
  [-4116, 400, "ClientOrderId is duplicated."],
  [-4164, 400, "Order's notional must be no smaller than %s (unless you choose reduce only)."],
] as const;

/** A code the emulator answers with. */
export type BinanceErrorCode = (typeof BINANCE_ERRORS)[number][0];

const BY_CODE: ReadonlyMap<number, { readonly status: number; readonly msg: string }> = new Map(
  BINANCE_ERRORS.map(([code, status, msg]) => [code, { status, msg }]),
);

/** One error answer: HTTP status and the JSON body. */
export interface BinanceErrorAnswer {
  readonly status: number;
  readonly body: { readonly code: number; readonly msg: string };
}

/**
 * The answer for `code`, its `%s` filled with `detail`. `opts.status`
 * overrides the HTTP status and `opts.msg` the message (Binance sends some
 * codes with several).
 * @example binanceError(-1102, "timestamp").body.msg // "Mandatory parameter 'timestamp' was not sent, …"
 */
export function binanceError(
  code: BinanceErrorCode,
  detail = "",
  opts: { readonly status?: number; readonly msg?: string } = {},
): BinanceErrorAnswer {
  const e = BY_CODE.get(code)!;
  return { status: opts.status ?? e.status, body: { code, msg: opts.msg ?? e.msg.replace("%s", detail) } };
}

/** Whether `value` is an error answer (not an order or parameters). */
export function isBinanceError(value: unknown): value is BinanceErrorAnswer {
  return typeof value === "object" && value !== null && "body" in value && "status" in value;
}
