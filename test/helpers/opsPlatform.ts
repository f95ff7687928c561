import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { testDeployment } from "../engine/testStack";

/** The deployed platform the real-engine verb tests run against. */
export interface DeployedPlatform {
    /** The clinicalbdd.stack label value. */
    readonly stack: string;
    /** Pulumi resource name → container id, e.g. "front-door-nginx", "app-replica-0". */
    readonly containers: Record<string, string>;
    /** https through nginx on a free port. */
    readonly healthUrl: string;
    destroy(): Promise<void>;
}

export interface DeployOptions {
    readonly config?: Record<string, string>;
    readonly stack?: string;
}

export const repoRoot = path.join(__dirname, "..", "..");

/** Whether a Docker engine answers (the test command starts one). */
export function engineAnswers(): boolean {
    try {
        execFileSync("docker", ["info"], { stdio: "ignore", timeout: 20_000 });
        return true;
    } catch {
        return false;
    }
}

/** The program deployed on the engine for the verbs' tests, through test/engine's provider imitation. */
export async function deployForOps(opts: DeployOptions & { stack: string }): Promise<DeployedPlatform> {
    const { deployment, ports } = await testDeployment(opts.stack, opts.config);
    try {
        await deployment.up(await deployment.program());
    } catch (error) {
        await deployment.destroy();
        throw error;
    }
    const containers: Record<string, string> = {};
    for (const c of deployment.containers()) containers[c.name] = c.dockerName;
    return { stack: opts.stack, containers, healthUrl: `https://localhost:${ports.https}/health`, destroy: () => deployment.destroy() };
}

export function docker(args: readonly string[], timeoutMs = 120_000): string {
    return execFileSync("docker", [...args], { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] }).trim();
}

export interface OpsRun {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    seconds: number;
}

/** The verbs' command line (cli/main.ts, as npm run <verb> runs it), asynchronously (the load generator keeps running in this process meanwhile). */
export function startOps(args: readonly string[], env: Record<string, string>): { child: ReturnType<typeof spawn>; done: Promise<OpsRun> } {
    const started = Date.now();
    const tsNode = require.resolve("ts-node/dist/bin.js");
    const child = spawn(process.execPath, [tsNode, "--transpile-only", path.join(repoRoot, "cli", "main.ts"), ...args], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    const done = new Promise<OpsRun>((resolve) =>
        child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, seconds: (Date.now() - started) / 1000 })),
    );
    return { child, done };
}

/** A pulumi stand-in that answers `stack output` from the deployed platform; anything else fails, saying so. */
export function writePulumiStandIn(dir: string, outputs: Record<string, string>): void {
    const cases = Object.entries(outputs).map(([k, v]) => `      ${k}) echo '${v}' ;;`).join("\n");
    fs.writeFileSync(
        path.join(dir, "pulumi"),
        `#!/bin/bash
# The real-engine test deploys without the Pulumi CLI: only stack outputs are answered.
if [ "$1 $2" = "stack output" ]; then
    case $3 in
${cases}
      *) exit 1 ;;
    esac
    exit 0
fi
echo "pulumi stand-in: 'pulumi $*' is not available in the real-engine test" >&2
exit 1
`,
        { mode: 0o755 },
    );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
