import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { INTENT_PAYLOAD_KIND, SIGNER_DENY_CODES } from "../ports/signingPlane.js";
import { PAYLOAD_ACTIONS } from "./payloads/actions.js";
import { POLICY_NAMES } from "./policy/intentPolicy.js";

const DOC = readFileSync(new URL("../../docs/signing-plane.md", import.meta.url), "utf8");

describe("docs/signing-plane.md says what the code does", () => {
  it("documents every deny code and every policy name, and no policy name the code lacks", () => {
    for (const code of SIGNER_DENY_CODES) expect(DOC, code).toContain(`\`${code}`);
    for (const name of POLICY_NAMES) expect(DOC, name).toContain(`\`policy:${name}\``);
    const documented = new Set([...DOC.matchAll(/`policy:([a-z_]+)`/g)].map((m) => m[1]));
    documented.delete("name");
    expect([...documented].sort()).toEqual([...POLICY_NAMES].sort());
  });

  it("documents every action of every payload kind", () => {
    for (const kind of Object.values(INTENT_PAYLOAD_KIND)) {
      for (const action of Object.keys(PAYLOAD_ACTIONS[kind!]))
        expect(DOC, `${kind} ${action}`).toContain(`\`${action}\``);
    }
  });
});
