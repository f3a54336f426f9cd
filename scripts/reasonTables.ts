/**
 * Prints the reason-code tables of the README (`--readme`) and of
 * `docs/wire-contract.md` (`--contract`) from the one registry, for pasting
 * after the registry changes; `test/architecture/documentedContracts.test.ts`
 * fails until the docs match it both ways.
 *
 *   node --import tsx scripts/reasonTables.ts --readme
 */
import { REASON_REGISTRY } from "../src/core/reasons.js";

const GATE_NAMES: Record<number, string> = {
  1: "schema",
  2: "authentication",
  3: "source allowlist",
  4: "exit ownership",
  5: "trading state",
  6: "freshness",
  7: "idempotency",
  8: "permit",
  9: "limits",
  10: "venue and signer",
  11: "execution",
};

const rows: string[] = [];
if (process.argv.includes("--readme")) {
  rows.push("| code | gate | decision | meaning | details |", "|---|---|---|---|---|");
  for (const [code, spec] of Object.entries(REASON_REGISTRY)) {
    const details = Object.keys(spec.details).map((d) => `\`${d}\``);
    const cell = [spec.bare ? "(none)" : undefined, ...details].filter(Boolean).join(", ");
    rows.push(
      `| \`${code}\` | ${spec.gate} ${GATE_NAMES[spec.gate]} | ${spec.decisions.join(", ")} | ${spec.meaning} | ${cell} |`,
    );
  }
} else {
  rows.push("| reason | gate | decision | meaning |", "|---|---|---|---|");
  for (const [code, spec] of Object.entries(REASON_REGISTRY)) {
    const head = spec.bare ? `\`${code}\`` : `\`${code}:…\``;
    rows.push(`| ${head} | ${spec.gate} | ${spec.decisions.join(", ")} | ${spec.meaning} |`);
    for (const [d, meaning] of Object.entries(spec.details))
      rows.push(`| \`${code}:${d}\` | ${spec.gate} | ${spec.decisions.join(", ")} | ${meaning} |`);
  }
}
process.stdout.write(`${rows.join("\n")}\n`);
