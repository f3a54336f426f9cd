/**
 * Readers of the tables the docs hold, for the tests that keep the docs equal
 * to the code (`src/core/reasons.test.ts`,
 * `test/architecture/documentedContracts.test.ts`). One parser for all of
 * them, so a table is read the same way wherever it is checked.
 */
import { readFileSync } from "node:fs";

/** A repository file's text, by path from the repository root. */
export function repoText(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
}

/**
 * The part of a markdown text from the heading `heading` (a whole line, e.g.
 * `## Reason codes`) to the next heading of the same or a higher level.
 * @throws when the heading is missing, naming it.
 */
export function markdownSection(text: string, heading: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const level = heading.indexOf(" ");
  let end = start + 1;
  for (; end < lines.length; end++) {
    const m = /^(#+) /.exec(lines[end] as string);
    if (m && (m[1] as string).length <= level) break;
  }
  return lines.slice(start, end).join("\n");
}

/**
 * The body rows of every markdown table in `text`, each as its cells
 * (trimmed; `\|` inside a cell is a literal `|`). Header and separator rows
 * are skipped.
 */
export function tableRows(text: string): string[][] {
  const rows: string[][] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line.startsWith("|")) continue;
    if (/^\|[-| :]+\|$/.test(line)) continue;
    if (/^\|[-| :]+\|$/.test(lines[i + 1] ?? "")) continue; // a header row
    const cells = line
      .slice(1, line.endsWith("|") ? -1 : undefined)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replaceAll("\\|", "|"));
    rows.push(cells);
  }
  return rows;
}

/** The code spans of a cell, in order: ``a `x` and `y` `` → `["x", "y"]`. */
export function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
}

/** The README's reason-code table: code → gate number and the set of details it lists. */
export function readmeReasonTable(): Map<string, { gate: number; details: string[]; bare: boolean }> {
  const readme = repoText("README.md");
  const section = readme.slice(readme.indexOf("## Reason codes"), readme.indexOf("## Configuration"));
  const rows = new Map<string, { gate: number; details: string[]; bare: boolean }>();
  for (const m of section.matchAll(/^\| `([A-Za-z_]+)` \| (\d+) [^|]*\|[^|]*\|[^|]*\| ([^\n]*) \|$/gm)) {
    const cell = m[3] as string;
    rows.set(m[1] as string, {
      gate: Number(m[2]),
      details: [...cell.matchAll(/`([^`]+)`/g)].map((d) => d[1] as string),
      bare: cell.includes("(none)"),
    });
  }
  return rows;
}
