/**
 * The ledger key under which an entry claims a plan_id or consumes a
 * permit_id (wire-v1 §3). A signed entry claims in the one namespace of all
 * signed plans: the id itself. An entry let through unsigned
 * (`require_auth: false`) claims only within its own source's namespace,
 * under a key no signed id can equal (plan_ids and permit_ids never hold `[`
 * or `"`), so an unsigned entry can never block a signed plan or burn the
 * permit a governor granted it.
 *
 * @param unsignedSource the source of an entry that passed gate 2 without a
 *   signature; `undefined` for a signed entry.
 * @example claimKey("p-1", undefined)  // "p-1"
 * @example claimKey("p-1", "dev_bot")  // '["unsigned","dev_bot","p-1"]'
 */
export function claimKey(id: string, unsignedSource: string | undefined): string {
  return unsignedSource === undefined ? id : JSON.stringify(["unsigned", unsignedSource, id]);
}
