/**
 * status: the stack's outputs, every container's (Swarm: service's) health, the endpoints;
 * exit 1 when anything is not up and healthy.
 */
import { Engine } from "./engine";
import { Context, pad, say, UsageError, VerbError } from "./io";
import { Probe } from "./probe";
import { findTarget, needDocker } from "./target";

export interface StatusDeps {
    readonly engine: Engine;
    /** One stack output (pulumi stack output), undefined when there is none. */
    readonly output: (key: string) => string | undefined;
    readonly probe: Probe;
    /** The Pulumi CLI and its backend (needPulumi). */
    readonly needPulumi: () => void;
}

export const outputKeys = ["appUrl", "healthUrl", "grafanaUrl", "prometheusUrl", "alertmanagerUrl", "replicas", "appImage", "certificateExpiresAt", "backupLocation"];

/** The endpoints status probes, from the stack outputs: the front door's health and each monitoring UI's. */
export function endpoints(output: (key: string) => string | undefined): { name: string; url: string }[] {
    return [
        { name: "app-health", url: output("healthUrl") ?? "" },
        { name: "prometheus", url: `${output("prometheusUrl") ?? ""}-/healthy` },
        { name: "grafana", url: `${output("grafanaUrl") ?? ""}api/health` },
        { name: "alertmanager", url: `${output("alertmanagerUrl") ?? ""}-/healthy` },
    ];
}

/** Whether a container's `docker ps` state and status is a problem: not running, or its healthcheck not (yet) passing. */
export const containerProblem = (state: string, status: string): boolean => state !== "running" || /\((unhealthy|health: starting)\)/.test(status);

export async function status(ctx: Context, args: readonly string[], deps: StatusDeps): Promise<void> {
    if (args.length > 0) throw new UsageError("status takes no arguments");
    deps.needPulumi();
    await needDocker(deps.engine);
    const { io } = ctx;
    let problems = 0;
    const problemServices: string[] = [];
    io.out(`\nStack ${ctx.stack} outputs\n`);
    for (const key of outputKeys) io.out(`  ${pad(key, 22)} ${deps.output(key) ?? "(none)"}\n`);
    io.out(`  ${pad("grafanaAdminPassword", 22)} (secret: pulumi stack output grafanaAdminPassword --show-secrets)\n`);

    const target = await findTarget(ctx, deps.engine);
    if (target === "swarm") {
        problems += await swarmStatus(ctx, deps.engine, problemServices);
    } else {
        io.out(`\nContainers\n  ${pad("SERVICE", 18)} ${pad("CONTAINER", 44)} STATUS\n`);
        for (const c of await deps.engine.containers(ctx.stack)) {
            io.out(`  ${pad(c.service, 18)} ${pad(c.name, 44)} ${c.status}\n`);
            if (containerProblem(c.state, c.status)) problems++;
        }
    }

    io.out(`\nEndpoints\n  ${pad("CHECK", 14)} ${pad("URL", 46)} RESULT\n`);
    for (const { name, url } of endpoints(deps.output)) {
        // Swarm publishes no monitoring UI on a loopback port (it cannot bind an address):
        // their health is their tasks' healthchecks, above.
        if (target === "swarm" && !url.startsWith("https://")) {
            io.out(`  ${pad(name, 14)} ${pad(url, 46)} not published on Swarm (its tasks' healthchecks are above)\n`);
            continue;
        }
        const result = await deps.probe(url);
        if (!result.ok) problems++;
        io.out(`  ${pad(name, 14)} ${pad(url, 46)} ${result.text}\n`);
    }
    io.out("\n");
    if (problems > 0) throw new VerbError(`${problems} problem(s) above${problemServices.length ? ` (Swarm services: ${problemServices.join(", ")})` : ""}`);
    say(ctx, "everything is up and healthy");
}

/**
 * Every service with its running/desired tasks and its last update; a problem for each
 * service with a task that should run and does not, scaled to 0, or whose update rolled back
 * or paused. Returns the number of problems; their labels go into `problemServices`.
 */
async function swarmStatus(ctx: Context, engine: Engine, problemServices: string[]): Promise<number> {
    const { io } = ctx;
    let problems = 0;
    io.out(`\nServices (Swarm)\n  ${pad("SERVICE", 18)} ${pad("SWARM SERVICE", 44)} ${pad("TASKS", 7)} LAST UPDATE\n`);
    for (const s of await engine.services(ctx.stack)) {
        io.out(`  ${pad(s.label, 18)} ${pad(s.name, 44)} ${pad(`${s.running}/${s.desired}`, 7)} ${s.updateState}\n`);
        const notes = swarmProblems(s, await engine.tasks(s.name));
        for (const note of notes) io.out(`    ! ${note}\n`);
        if (notes.length > 0) {
            problems++;
            problemServices.push(s.label);
        }
    }
    return problems;
}

/** What is wrong with one Swarm service, one line each (pure). */
export function swarmProblems(s: { name: string; mode: string; running: number; desired: number; updateState: string; updateMessage: string }, tasks: readonly { name: string; state: string; since: string; error: string }[]): string[] {
    const notes: string[] = [];
    if (s.updateState.startsWith("rollback_") || s.updateState === "paused") notes.push(`update ${s.updateState}: ${s.updateMessage}`);
    if (s.mode === "replicated" && s.desired === 0) notes.push(`scaled to 0 tasks (a restore stopped by SIGKILL?): docker service scale ${s.name}=1`);
    else if (s.running !== s.desired) notes.push(`${s.running} of ${s.desired} tasks running`);
    for (const t of tasks) {
        if (t.state !== "running") notes.push(`task ${t.name} is ${t.state.charAt(0).toUpperCase()}${t.state.slice(1)}${t.since ? ` since ${t.since}` : ""}${t.error ? `: ${t.error}` : ""}`);
    }
    return notes;
}
