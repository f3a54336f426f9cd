import type { Command } from "commander";
import type { CliIo } from "./common.js";
import { intOption } from "./common.js";

/** `executor`, `watch` and `demo`: long-running / scripted runs, implemented by the apps they load. */
export function addRunCommands(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command("executor")
    .description("run the executor until SIGTERM/SIGINT")
    .requiredOption("--config <path>", "executor config file (JSON or YAML)")
    .option("--metrics-port <port>", "serve Prometheus metrics on 127.0.0.1:<port>", intOption(0, 65535))
    .option("--consumer <name>", "consumer name in the group (default: derived from host and pid)")
    .action(async (opts: { config: string; metricsPort?: number; consumer?: string }) => {
      const { runExecutor } = await import("../../executor/runExecutor.js");
      await runExecutor({
        configPath: opts.config,
        env: io.env,
        ...(opts.metricsPort !== undefined ? { metricsPort: opts.metricsPort } : {}),
        ...(opts.consumer !== undefined ? { consumer: opts.consumer } : {}),
      });
    });

  program
    .command("watch")
    .description("run the watcher (alert rules over the results, alert delivery) until SIGTERM/SIGINT")
    .requiredOption("--config <path>", "executor config file (JSON or YAML); its `watch` section")
    .option("--metrics-port <port>", "serve Prometheus metrics on 127.0.0.1:<port>", intOption(0, 65535))
    .option("--name <name>", "this watcher's name, the lease owner (default: derived from host and pid)")
    .action(async (opts: { config: string; metricsPort?: number; name?: string }) => {
      const { runWatch } = await import("../../watch/runWatch.js");
      await runWatch({
        configPath: opts.config,
        env: io.env,
        ...(opts.metricsPort !== undefined ? { metricsPort: opts.metricsPort } : {}),
        ...(opts.name !== undefined ? { name: opts.name } : {}),
      });
    });

  program
    .command("demo")
    .description("run a scripted scenario on a temporary embedded bus and print what was decided")
    .action(async () => {
      const { runDemo } = await import("../../demo/runDemo.js");
      setExitCode(await runDemo(io.stdout));
    });
}
