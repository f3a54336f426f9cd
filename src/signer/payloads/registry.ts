import type { PayloadKind } from "../../ports/signingPlane.js";
import type { PayloadKindHandler } from "../payloadKind.js";
import { binanceQueryHandler } from "./binanceQuery.js";
import { polymarketL2Handler } from "./polymarketL2.js";
import { polymarketOrderHandler } from "./polymarketOrder.js";

/**
 * The payload kinds this build decodes and signs, by kind: `hmac-query`,
 * `hmac-clob-l2` and `eip712-order`. A fresh map on every call, so a
 * caller can extend its own copy without touching anyone else's.
 */
export function defaultPayloadHandlers(): ReadonlyMap<PayloadKind, PayloadKindHandler> {
  return new Map<PayloadKind, PayloadKindHandler>([
    [binanceQueryHandler.kind, widen(binanceQueryHandler)],
    [polymarketL2Handler.kind, widen(polymarketL2Handler)],
    [polymarketOrderHandler.kind, widen(polymarketOrderHandler)],
  ]);
}

/**
 * A handler for one kind, stored under that kind. The plane looks a handler up
 * by `payload.kind`, so it only ever hands it payloads of its own kind; the
 * handlers still check the fields they read at run time.
 */
function widen<K extends PayloadKind>(handler: PayloadKindHandler<K>): PayloadKindHandler {
  return handler as unknown as PayloadKindHandler;
}
