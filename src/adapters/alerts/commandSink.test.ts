import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parseAlertEntry } from "../../core/alertRecord.js";
import { AlertSinkConfigError } from "./alertSinkConfigError.js";
import { CommandSink } from "./commandSink.js";

const dir = mkdtempSync(join(tmpdir(), "ig-command-sink-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = JSON.stringify({
  v: 1,
  timestamp: 1,
  kind: "deployment_lost",
  severity: "critical",
  dedup_key: "d",
});
const alert = parseAlertEntry("42-7", text);
/** `node -e <script>` as argv. */
const node = (script: string, ...args: string[]): string[] => [process.execPath, "-e", script, ...args];

describe("CommandSink", () => {
  it("runs the command without a shell, the alert JSON on stdin and its id in the environment; exit 0 is delivered", async () => {
    const out = join(dir, "got.json");
    const script = `let s="";process.stdin.on("data",d=>s+=d).on("end",()=>require("fs").writeFileSync(process.argv[1],
      JSON.stringify({stdin:s,id:process.env.INTENTGATE_ALERT_ID,kind:process.env.INTENTGATE_ALERT_KIND,
      severity:process.env.INTENTGATE_ALERT_SEVERITY,secret:process.env.IG_TEST_SECRET??null,arg2:process.argv[2]})))`;
    process.env.IG_TEST_SECRET = "from-parent";
    try {
      const sink = new CommandSink({ argv: node(script, out, "$HOME;rm -rf /") });
      expect(await sink.deliver(alert)).toEqual({ status: "delivered" });
    } finally {
      delete process.env.IG_TEST_SECRET;
    }
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual({
      stdin: `${text}\n`,
      id: "42-7",
      kind: "deployment_lost",
      severity: "critical",
      secret: null, // only PATH, HOME, LANG, … are passed on by default
      arg2: "$HOME;rm -rf /", // no shell: taken literally
    });
  });

  it("retries a non-zero exit, quoting a bounded, redacted snippet of its output", async () => {
    const sink = new CommandSink({
      argv: node(
        `process.stderr.write("pager said no: token=SuperSecret123 url https://pager.example/key/abc\\n" + "x".repeat(5000)); process.exit(3)`,
      ),
    });
    const outcome = await sink.deliver(alert);
    expect(outcome.status).toBe("retry");
    const reason = (outcome as { reason: string }).reason;
    expect(reason.startsWith("exit_3: pager said no: token=[REDACTED] url https://[REDACTED]")).toBe(true);
    expect(reason).not.toContain("SuperSecret123");
    expect(reason.length).toBeLessThan(200);
  });

  it("kills a command that runs past its timeout: retry", async () => {
    const marker = join(dir, "late");
    const sink = new CommandSink({
      argv: node(`setTimeout(()=>require("fs").writeFileSync(process.argv[1],"late"),3000)`, marker),
      timeoutMs: 300,
    });
    const t0 = Date.now();
    expect(await sink.deliver(alert)).toEqual({ status: "retry", reason: "timeout" });
    expect(Date.now() - t0).toBeLessThan(2_500);
    await new Promise((r) => setTimeout(r, 3_200));
    expect(() => readFileSync(marker)).toThrow(); // killed: never wrote
  });

  it("retries a command that cannot start, by its error code", async () => {
    const sink = new CommandSink({ argv: [join(dir, "no-such-program")] });
    expect(await sink.deliver(alert)).toEqual({ status: "retry", reason: "spawn:ENOENT" });
  });

  it("a command that ignores stdin and exits 0 is delivered", async () => {
    const sink = new CommandSink({ argv: node("process.exit(0)"), env: { PATH: process.env.PATH ?? "" } });
    expect(await sink.deliver(alert)).toEqual({ status: "delivered" });
  });

  it("shows its name only, and checks its options", () => {
    const sink = new CommandSink({ name: "pager", argv: ["/bin/pager", "--token", "CANARY-ARG"] });
    expect(inspect(sink)).toBe("CommandSink(pager)");
    expect(JSON.stringify(sink)).not.toContain("CANARY");
    expect(() => new CommandSink({ argv: [] })).toThrow(AlertSinkConfigError);
    expect(() => new CommandSink({ argv: ["x"], timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});
