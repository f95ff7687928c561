/**
 * The operator's verbs (npm run <verb> -- <args>): argument parsing and dispatch. Global
 * options, anywhere on the line:
 *   --stack NAME   the Pulumi stack (default prod, or OPS_STACK)
 *   --dry-run      print what would change instead of changing it (OPS_DRY_RUN=1 does the same); look-ups still run
 *   --yes          no confirmation questions (passed on to pulumi up/destroy)
 * Exit codes: 0 done, 1 failed, 2 refused arguments (nothing ran). deploy is scripts/deploy.sh.
 */
import { spawn } from "child_process";
import * as path from "path";
import { createInterface } from "readline";
import { Context, GlobalOptions, Io, processIo, UsageError, VerbError } from "./io";
import { services, edgeService } from "./platformFacts";

export const usage = `usage: npm run <verb> -- [args] [--stack NAME] [--dry-run] [--yes]
  status                          stack outputs, every container's (Swarm: service's) health, the endpoints
  logs [service] [--since D] [--follow]
                                  container logs (D: 10m, 2h, 2024-01-01T00:00:00; default 1h);
                                  Swarm: every task's, from every node (docker service logs)
  restart [service] [--hard|--reload]
                                  docker restart, one container at a time, each healthy before the next;
                                  nginx is reloaded gracefully (SIGHUP, no connection dropped) unless --hard;
                                  --reload: SIGHUP for prometheus, alertmanager, blackbox-exporter too;
                                  Swarm: a rolling update (docker service update --force), waited for;
                                  no --hard or --reload there (tasks are replaced, never signalled)
  stop [--delete-data]            pulumi destroy; data volumes are kept unless --delete-data
  scale N                         replicas = N (1-20), then pulumi up
  renew-cert                      a new key and certificate now (tlsRotation + 1), then pulumi up
  rotate-grafana-password         a new Grafana admin password (grafanaPasswordRotation + 1), then pulumi up
  backup                          a backup of Grafana and Prometheus now (Swarm: run it on the data node)
  restore <archive|latest> [--service grafana|prometheus]
                                  verify an archive's checksum, stop the service and the backup job
                                  (Swarm: scale both to 0, on the data node), restore in a one-shot
                                  container, start both again (on any failure too)
services: ${services.filter((s) => s !== edgeService).join(" ")}
          ${edgeService} (Swarm only: the TCP proxy holding 80/443 in front of nginx)
`;

export const verbs = ["status", "logs", "restart", "stop", "scale", "renew-cert", "rotate-grafana-password", "backup", "restore"] as const;

export interface CommandLine extends GlobalOptions {
    readonly help: boolean;
    readonly verb: string;
    readonly args: readonly string[];
}

/** The global options (anywhere on the line), the verb, and the verb's own arguments. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CommandLine {
    let stack = env.OPS_STACK || "prod";
    let dryRun = env.OPS_DRY_RUN === "1";
    let yes = false;
    let verb = "";
    const args: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--dry-run") dryRun = true;
        else if (a === "--yes" || a === "-y") yes = true;
        else if (a === "--stack") {
            if (i + 1 >= argv.length) throw new UsageError("--stack needs a name");
            stack = argv[++i];
        } else if (a.startsWith("--stack=")) stack = a.slice("--stack=".length);
        else if (a === "-h" || a === "--help") return { help: true, verb, args, stack, dryRun, yes };
        else if (!verb) verb = a;
        else args.push(a);
    }
    return { help: false, verb, args, stack, dryRun, yes };
}

/** Runs one verb in this process; resolves to its exit code. */
export async function runVerb(line: CommandLine, io: Io, env: NodeJS.ProcessEnv): Promise<number> {
    const ctx: Context = { verb: line.verb, stack: line.stack, dryRun: line.dryRun, yes: line.yes, io, healthWaitSeconds: Number(env.OPS_HEALTH_WAIT_SECONDS ?? 180) };
    switch (line.verb) {
        case "status": {
            const [{ status }, { DockerEngine }, { probe }, { needPulumi, stackOutput }] = await Promise.all([import("./status"), import("./engine"), import("./probe"), import("./pulumiEnv")]);
            await status(ctx, line.args, { engine: new DockerEngine(), probe, needPulumi: () => needPulumi(env), output: (key) => stackOutput(line.stack, key) });
            return 0;
        }
        case "logs": {
            const [{ logs }, { DockerEngine }] = await Promise.all([import("./logs"), import("./engine")]);
            await logs(ctx, line.args, new DockerEngine());
            return 0;
        }
        case "restart": {
            const [{ restart }, { DockerEngine }] = await Promise.all([import("./restart"), import("./engine")]);
            await restart(ctx, line.args, new DockerEngine());
            return 0;
        }
        case "stop":
        case "scale":
        case "renew-cert":
        case "rotate-grafana-password": {
            const [{ stop }, { scale }, { renewCert }, { rotateGrafanaPassword }, { AutomationStack }, { DockerEngine }, { needPulumi }] = await Promise.all([
                import("./stop"), import("./scale"), import("./renewCert"), import("./rotateGrafanaPassword"), import("./pulumiStack"), import("./engine"), import("./pulumiEnv"),
            ]);
            const verb = { stop, scale, "renew-cert": renewCert, "rotate-grafana-password": rotateGrafanaPassword }[line.verb];
            await verb(ctx, line.args, { stack: new AutomationStack(line.stack), engine: new DockerEngine(), ask, needPulumi: () => needPulumi(env) });
            return 0;
        }
        case "backup": {
            const [{ backup }, { DockerEngine }] = await Promise.all([import("./backup"), import("./engine")]);
            await backup(ctx, line.args, new DockerEngine());
            return 0;
        }
        case "restore": {
            const [{ restore, processSignals }, { DockerEngine }] = await Promise.all([import("./restore"), import("./engine")]);
            await restore(ctx, line.args, { engine: new DockerEngine(), signals: processSignals, id: process.pid, extraArgs: env.OPS_RESTORE_DOCKER_ARGS });
            return 0;
        }
        default:
            throw new UsageError(`unknown verb '${line.verb}'`);
    }
}

/** A question on the terminal (stderr), its answer from stdin (empty at its end). */
function ask(question: string): Promise<string> {
    return new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
        let answered = false;
        process.stderr.write(question);
        rl.once("line", (answer) => ((answered = true), rl.close(), resolve(answer)));
        rl.once("close", () => answered || resolve(""));
    });
}

/** deploy is scripts/deploy.sh (npm run deploy), with the verb's arguments; signals are passed on. */
function runDeploy(args: readonly string[]): Promise<number> {
    const child = spawn("bash", [path.join(__dirname, "..", "scripts", "deploy.sh"), ...args], { stdio: "inherit" });
    const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
    for (const s of signals) process.on(s, () => child.kill(s));
    return new Promise((resolve) => child.on("close", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : signal === "SIGHUP" ? 129 : 143))));
}

export async function main(argv: readonly string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
    let line: CommandLine | undefined;
    try {
        line = parseCommandLine(argv, env);
        if (line.help) {
            io.out(usage);
            return 0;
        }
        if (!line.verb) throw new UsageError("which verb?");
        if (line.verb === "deploy") return await runDeploy(line.args);
        return await runVerb(line, io, env);
    } catch (error) {
        return exitCode(line?.verb || "ops", error, io);
    }
}

/** Prints a verb's failure as "<verb>: <message>" and gives its exit code: 2 refused arguments, 1 (or the error's) failed. */
export function exitCode(prefix: string, error: unknown, io: Io): number {
    if (error instanceof UsageError) {
        io.err(`${prefix}: ${error.message}\n  (npm run ops -- --help lists the verbs)\n`);
        return 2;
    }
    if (error instanceof VerbError) {
        // An empty message: the verb has said what happened already.
        if (error.message) io.err(`${prefix}: ${error.message}\n`);
        return error.code;
    }
    io.err(`${prefix}: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    return 1;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (error) => {
            process.stderr.write(`ops: ${String(error)}\n`);
            process.exitCode = 1;
        },
    );
}
