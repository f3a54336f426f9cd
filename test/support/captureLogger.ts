/** A logger (the `info`/`warn`/`error` a pino logger has) that keeps every line as JSON text. */
export interface CapturedLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
  readonly lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }>;
  /** Every line as one text, to search for what must not be there. */
  text(): string;
}

export function captureLogger(): CapturedLogger {
  const lines: CapturedLogger["lines"] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => {
    lines.push({ level, msg, fields });
  };
  return {
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    lines,
    text: () => lines.map((l) => JSON.stringify({ level: l.level, ...l.fields, msg: l.msg })).join("\n"),
  };
}
