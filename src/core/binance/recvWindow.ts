/**
 * Binance's `recvWindow` (ms): how long after its `timestamp` a signed
 * request is still taken. The default when a request has none, and the
 * largest Binance accepts: the adapter's default and bound, the signer's
 * check of a query and the emulator's all read these.
 */
export const BINANCE_DEFAULT_RECV_WINDOW_MS = 5000;
export const BINANCE_MAX_RECV_WINDOW_MS = 60_000;
