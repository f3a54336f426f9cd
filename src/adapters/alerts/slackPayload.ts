import type { AlertRecord } from "../../core/alertRecord.js";
import { alertSummary } from "../../core/alertSummary.js";

/** Attachment colour per severity (Slack's `color`). */
const COLORS: Readonly<Record<AlertRecord["severity"], string>> = {
  info: "#2eb886",
  warning: "#daa038",
  critical: "#d50200",
  unknown: "#808080",
};

/** Longest alert JSON shown in the message's code block (the whole alert is always in `alert`). */
const MAX_CODE_CHARS = 2_800;

/**
 * The JSON body a webhook sink posts: a Slack incoming-webhook message
 * (Mattermost, Rocket.Chat and most chat tools read the same shape).
 * - `text`: the one-line summary (`[CRITICAL] deployment_lost: expected=… (alert <id>)`),
 *   escaped for Slack (`&`, `<`, `>`), so it is also the notification text;
 * - `attachments[0]`: coloured by severity, with `kind`, `severity`,
 *   `dedup_key` and the stream id as fields and the alert JSON in a code block;
 * - `alert`: the full alert object, for receivers that are programs
 *   (Slack ignores fields it does not know);
 * - `alert_id`: the alert's stream id, the same as the `Idempotency-Key` header.
 */
export function slackPayload(record: AlertRecord): Record<string, unknown> {
  const pretty = JSON.stringify(record.alert, null, 2);
  const code = pretty.length > MAX_CODE_CHARS ? `${pretty.slice(0, MAX_CODE_CHARS)}\n…` : pretty;
  const timestamp = record.alert.timestamp;
  return {
    text: escapeSlack(alertSummary(record)),
    attachments: [
      {
        color: COLORS[record.severity],
        fallback: escapeSlack(alertSummary(record)),
        fields: [
          { title: "kind", value: escapeSlack(String(record.alert.kind ?? record.kind)), short: true },
          { title: "severity", value: record.severity, short: true },
          ...(record.dedupKey === undefined
            ? []
            : [{ title: "dedup_key", value: escapeSlack(record.dedupKey), short: false }]),
          { title: "alert id", value: record.id, short: true },
        ],
        // A code block shows the JSON as it is; only the three control characters need escaping.
        text: `\`\`\`${escapeSlack(code.replaceAll("```", "` ` `"))}\`\`\``,
        mrkdwn_in: ["text"],
        footer: "IntentGate",
        ...(typeof timestamp === "number" && Number.isFinite(timestamp)
          ? { ts: Math.floor(timestamp / 1000) }
          : {}),
      },
    ],
    alert: record.alert,
    alert_id: record.id,
  };
}

/** Slack's message escaping: `&`, `<` and `>` (they start links and mentions). */
export function escapeSlack(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
