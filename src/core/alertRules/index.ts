/**
 * The streaming alert rules (issue 12; docs/alert-rules.md): a pure engine a
 * watcher feeds with results and DLQ entries, returning wire §1a alerts.
 */
export * from "./alert.js";
export { type DlqEntry, dlqEntryFromFields } from "./deadLetter.js";
export { AlertRuleEngine } from "./engine.js";
export * from "./settings.js";
export { type AlertRuleSnapshot, AlertRuleSnapshotError, parseAlertRuleSnapshot } from "./snapshot.js";
