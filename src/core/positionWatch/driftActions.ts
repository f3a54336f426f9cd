import type { DriftAction } from "./driftAlert.js";
import type { PositionBook } from "./slot.js";

/**
 * What drift in a book and account does, from `watch.positions.on_drift`:
 * the most specific key wins (`<venue>/<account>`, then `<venue>`, then
 * `*`); with none, `alert`.
 */
export function driftActionFor(
  rules: Readonly<Record<string, DriftAction>>,
): (book: PositionBook, account: string) => DriftAction {
  return (book, account) => rules[`${book}/${account}`] ?? rules[book] ?? rules["*"] ?? "alert";
}
