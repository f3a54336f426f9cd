/**
 * Reason codes as types and values, derived from the one registry in
 * `reasonRegistry.ts` (wire contract §6). A result's `error`, a venue's
 * refusal and a signer's denial are all a {@link Reason}: a registered base
 * code, alone where the registry allows it, or `<code>:<detail>` with a
 * registered detail. The base code (before the first `:`) is what metrics
 * label.
 */
import { REASON_REGISTRY } from "./reasonRegistry.js";

export { REASON_REGISTRY, type ReasonSpec } from "./reasonRegistry.js";

type Registry = typeof REASON_REGISTRY;

/** A base reason code (without detail). */
export type ReasonCode = keyof Registry;

/** A detail pattern with its `<param>` placeholders turned into `${string}`. */
type Filled<P extends string> = P extends `${infer A}<${string}>${infer B}` ? `${A}${string}${Filled<B>}` : P;

/** The registered details of one code, as the strings they may be. */
export type DetailOf<C extends ReasonCode> = Filled<Extract<keyof Registry[C]["details"], string>>;

/** The codes the registry allows without a detail. */
type BareCode = { [C in ReasonCode]: Registry[C]["bare"] extends true ? C : never }[ReasonCode];

/** A full reason string as written to a result, e.g. `limit:max_qty`: only registered ones type-check. */
export type Reason = BareCode | { [C in ReasonCode]: `${C}:${DetailOf<C>}` }[ReasonCode];

/** A registered `venue_error` detail. */
export type VenueErrorDetail = DetailOf<"venue_error">;

/** Gate number (wire §6 order) for each base reason code. */
export const REASON_CODES: { readonly [C in ReasonCode]: Registry[C]["gate"] } = Object.fromEntries(
  Object.entries(REASON_REGISTRY).map(([code, spec]) => [code, spec.gate]),
) as { readonly [C in ReasonCode]: Registry[C]["gate"] };

/** Builds `<code>` (only for codes that may stand alone) or `<code>:<detail>`. */
export function reason<C extends BareCode>(code: C): C;
export function reason<C extends ReasonCode, D extends DetailOf<C>>(code: C, detail: D): `${C}:${D}`;
export function reason(code: ReasonCode, detail?: string): string {
  return detail === undefined ? code : `${code}:${detail}`;
}

/** The base code of a reason string (the part before the first `:`). */
export function baseCode(r: string): string {
  const i = r.indexOf(":");
  return i < 0 ? r : r.slice(0, i);
}

const PATTERNS: ReadonlyMap<string, { readonly bare: boolean; readonly details: readonly RegExp[] }> =
  new Map(
    Object.entries(REASON_REGISTRY).map(([code, spec]) => [
      code,
      { bare: spec.bare, details: Object.keys(spec.details).map(detailPattern) },
    ]),
  );

function detailPattern(detail: string): RegExp {
  const parts = detail.split(/<[^>]+>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".+")}$`, "s");
}

/**
 * Whether a string is a registered reason (runtime twin of the {@link Reason}
 * type, for values that crossed a process or bus boundary).
 */
export function isRegisteredReason(r: string): r is Reason {
  const i = r.indexOf(":");
  const spec = PATTERNS.get(i < 0 ? r : r.slice(0, i));
  if (spec === undefined) return false;
  if (i < 0) return spec.bare;
  const detail = r.slice(i + 1);
  return spec.details.some((p) => p.test(detail));
}
