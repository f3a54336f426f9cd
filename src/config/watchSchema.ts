import { z } from "zod";
import { alertRulesSchema } from "../core/alertRules/settings.js";

const posInt = z.int({ error: "must be an integer" }).positive({ error: "must be a positive integer" });
const nonEmpty = z.string().min(1, { error: "must not be empty" });
/** `watch.positions.on_drift` keys: every venue, one venue, or one account of one venue. */
const DRIFT_SCOPE_RE = /^(\*|(paper|binance-usdm|polymarket)(\/.+)?)$/;
const timeoutMs = posInt.max(120_000, { error: "must be at most 120000" }).default(10_000);

/**
 * The `watch` section (`intentgate watch`, issue 12): how often it looks,
 * the lease several watchers share, the alert rules, and where alerts go.
 * The webhook URL is a secret (Slack's embeds a token): it is named by
 * `url_env` or `url_file`, never written in the config.
 */
export const watchSchema = z
  .strictObject({
    interval_ms: posInt
      .min(100, { error: "must be at least 100" })
      .max(60_000, { error: "must be at most 60000" })
      .default(1000),
    lease_ms: posInt
      .min(1000, { error: "must be at least 1000" })
      .max(600_000, { error: "must be at most 600000" })
      .default(10_000),
    rules: alertRulesSchema.prefault({}),
    positions: z
      .strictObject({
        enabled: z.boolean().default(true),
        paper: z.boolean().default(true),
        settle_ms: posInt.max(600_000, { error: "must be at most 600000" }).default(30_000),
        unreadable_repeat_ms: posInt
          .min(1000, { error: "must be at least 1000" })
          .max(86_400_000, { error: "must be at most 86400000" })
          .default(300_000),
        on_drift: z
          .record(
            z.string().regex(DRIFT_SCOPE_RE, {
              error: 'must be "*", a venue, or "<venue>/<account>" (venues: paper, binance-usdm, polymarket)',
            }),
            z.enum(["alert", "reduce", "halt"], { error: "must be alert, reduce or halt" }),
          )
          .default({}),
      })
      .prefault({}),
    sinks: z
      .strictObject({
        webhook: z
          .strictObject({
            url_env: nonEmpty.optional(),
            url_file: nonEmpty.optional(),
            timeout_ms: timeoutMs,
          })
          .refine((w) => (w.url_env === undefined) !== (w.url_file === undefined), {
            error: "give exactly one of url_env or url_file (the URL is a secret)",
          })
          .optional(),
        command: z
          .strictObject({
            argv: z.array(nonEmpty).min(1, { error: "must name the program to run" }),
            timeout_ms: timeoutMs,
          })
          .optional(),
      })
      .prefault({}),
  })
  .refine((w) => w.lease_ms >= 3 * w.interval_ms, {
    error: "lease_ms must be at least 3 × interval_ms (a leader renews it every interval)",
    path: ["lease_ms"],
  });

/** The parsed `watch` section. */
export type WatchConfig = z.output<typeof watchSchema>;
