/**
 * A bench-only signer process: what `intentgate signer --config F` runs
 * (compiled `dist/`: config, the signer pipeline, startSignerServer), with
 * knobs the CLI does not have, to attribute costs without touching `src/`:
 *
 *   --audit-sync line|group|never  the audit log's sync policy (the CLI uses the config's, default group)
 *   --plane engine|stub         `stub` answers every request with a fixed grant: the transport floor
 *   --with-eip712               registers the `eip712-order` handler if the build's registry lacks it
 *
 * Prints `ready` on stdout once the socket accepts connections; stops on SIGTERM.
 * Usage: node --import tsx bench/signer/signerChild.ts --config F [knobs]
 */
import { parseArgs } from "node:util";
import type { SecretBytes } from "../../src/core/auth/secretBytes.js";
import type { SigningPlane, SignOutcome } from "../../src/ports/signingPlane.js";
import type { PayloadKindHandler } from "../../src/signer/payloadKind.js";

type Mod<T> = Promise<T>;
const dist = new URL("../../dist/", import.meta.url);
const load = <T>(path: string): Mod<T> => import(new URL(path, dist).href) as Mod<T>;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      "audit-sync": { type: "string", default: "group" },
      plane: { type: "string", default: "engine" },
      "with-eip712": { type: "boolean", default: false },
    },
  });
  const configPath = values.config;
  if (configPath === undefined) throw new Error("--config is required");
  const sync = values["audit-sync"];
  if (sync !== "line" && sync !== "group" && sync !== "never")
    throw new Error("--audit-sync is line, group or never");

  const [cfg, pipelineMod, registry, orderMod, serverMod, port] = await Promise.all([
    load<typeof import("../../src/signer/signerConfig.js")>("signer/signerConfig.js"),
    load<typeof import("../../src/signer/signerPipeline.js")>("signer/signerPipeline.js"),
    load<typeof import("../../src/signer/payloads/registry.js")>("signer/payloads/registry.js"),
    load<typeof import("../../src/signer/payloads/polymarketOrder.js")>("signer/payloads/polymarketOrder.js"),
    load<typeof import("../../src/signer/remote/signerServer.js")>("signer/remote/signerServer.js"),
    load<typeof import("../../src/ports/signingPlane.js")>("ports/signingPlane.js"),
  ]);
  const config = await cfg.loadSignerConfig(configPath);
  const socketPath = config.socket?.path;
  if (socketPath === undefined) throw new Error("the config has no socket.path");
  const callers = new Map<string, SecretBytes>();
  for (const [id, ref] of Object.entries(config.callers)) {
    callers.set(
      id,
      await cfg.loadSignerSecret({ ref, name: "token", field: `callers.${id}`, env: process.env }),
    );
  }

  const handlers = new Map(registry.defaultPayloadHandlers());
  if (values["with-eip712"] && !handlers.has("eip712-order")) {
    handlers.set("eip712-order", orderMod.polymarketOrderHandler as unknown as PayloadKindHandler);
  }
  let plane: SigningPlane;
  let closePipeline = async (): Promise<void> => {};
  if (values.plane === "stub") {
    plane = {
      async sign(_caller, request): Promise<SignOutcome> {
        return {
          granted: true,
          request_id: String(request.request_id),
          signature: "00",
          plane_version: port.PLANE_PROTOCOL_VERSION,
        };
      },
      async close() {},
    };
  } else {
    // The CLI's own pipeline (file checks, audit key, lock, windows, vault), with this run's sync policy.
    const pipeline = await pipelineMod.openSignerPipeline(
      { ...config, audit: { ...config.audit, sync } },
      process.env,
      {
        handlers,
      },
    );
    plane = pipeline.plane;
    closePipeline = () => pipeline.close();
  }
  const server = await serverMod.startSignerServer({ socketPath, callers, plane, requestTimeoutMs: 5000 });
  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await server.close();
  await plane.close();
  await closePipeline();
}

main().catch((err: unknown) => {
  process.stderr.write(
    `signer child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
