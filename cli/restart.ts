/**
 * restart [service] [--hard|--reload]. One host: docker restart, one container at a time,
 * each healthy before the next; nginx is reloaded gracefully (SIGHUP, sent by the daemon:
 * new workers, the old ones finish their requests) unless --hard; --reload sends SIGHUP to
 * prometheus, alertmanager or blackbox-exporter too. Swarm: a rolling update of each service
 * (docker service update --force), waited for; never a signal or a restart into a task.
 */
import { Engine, StackContainer, StackService } from "./engine";
import { Context, say, sleep, UsageError, VerbError, warn } from "./io";
import { nginxService, reloadsOnHup } from "./platformFacts";
import { announce, Plan, Step } from "./plan";
import { checkService, findTarget, needDocker, noContainer, noEdgeOnOneHost, waitHealthy } from "./target";

export type RestartMode = "default" | "hard" | "reload";

export interface RestartArgs {
    readonly service?: string;
    readonly mode: RestartMode;
}

export function parseRestartArgs(args: readonly string[]): RestartArgs {
    let service: string | undefined;
    let mode: RestartMode = "default";
    for (const a of args) {
        if (a === "--hard") mode = "hard";
        else if (a === "--reload") mode = "reload";
        else if (a.startsWith("-")) throw new UsageError(`unknown option ${a} (restart takes --hard or --reload)`);
        else {
            if (service !== undefined) throw new UsageError("restart takes at most one service");
            checkService(a);
            service = a;
        }
    }
    if (mode === "reload" && (!service || !reloadsOnHup.includes(service))) {
        throw new UsageError("--reload is for nginx, prometheus, alertmanager or blackbox-exporter (they reload on SIGHUP)");
    }
    return { service, mode };
}

/** One host: a SIGHUP for nginx (unless --hard) and for every container with --reload; a restart for the rest, in order. */
export function hostRestartPlan(containers: readonly StackContainer[], mode: RestartMode): Plan {
    return containers.map((c): Step =>
        (c.service === nginxService && mode !== "hard") || mode === "reload"
            ? { kind: "signal", container: c.name, service: c.service, signal: "HUP" }
            : { kind: "restart", container: c.name, service: c.service },
    );
}

/** Swarm: a forced rolling update of each service. */
export function swarmRestartPlan(list: readonly StackService[]): Plan {
    return list.map((s): Step => ({ kind: "service-update", service: s.name, label: s.label, force: true }));
}

export async function restart(ctx: Context, args: readonly string[], engine: Engine): Promise<void> {
    const { service, mode } = parseRestartArgs(args);
    await needDocker(engine);
    if ((await findTarget(ctx, engine)) === "swarm") {
        if (mode !== "default") {
            throw new UsageError(
                `restart --${mode}: not on Swarm, where stack ${ctx.stack} runs: a task is never restarted or signalled in place (no docker kill or exec into tasks; its configs and secrets are immutable). restart ${service ?? "<service>"} replaces its tasks one at a time (a rolling update); a changed file is a new config that npm run deploy rolls out`,
            );
        }
        await swarmRestart(ctx, engine, service);
        return;
    }
    noEdgeOnOneHost(ctx, service);
    const containers = await engine.containers(ctx.stack, service);
    if (containers.length === 0) throw noContainer(ctx, service);
    const key = `${service ?? ""}:${mode}`;
    if (key === "nginx:hard" || key === ":hard") {
        say(ctx, "--hard: nginx is the only front door; every connection to it fails for the second or so it restarts (without --hard it reloads gracefully and drops none)");
    } else if (service === undefined || service === nginxService) {
        say(ctx, "nginx is reloaded gracefully (SIGHUP: new workers, old ones finish their requests; no connection is dropped); restart nginx --hard restarts its container and drops connections for the second or so it is down");
    }
    if ((service === "prometheus" || service === "alertmanager") && mode === "default") {
        say(ctx, `${service}'s UI and API on its published loopback port answer nothing for the seconds it restarts (the front door is not affected); --reload only re-reads its configuration, with no downtime`);
    } else if (service === "grafana") {
        say(ctx, "grafana's UI on its published loopback port answers nothing for the seconds it restarts (the front door is not affected)");
    }
    const plan = hostRestartPlan(containers, mode);
    let reloaded = 0;
    for (const [i, step] of plan.entries()) {
        const counter = `[${i + 1}/${plan.length}]`;
        if (step.kind === "signal") {
            say(ctx, `${counter} reloading ${step.container} (SIGHUP)`);
            await reloadContainer(ctx, engine, step);
            reloaded++;
        } else if (step.kind === "restart") {
            say(ctx, `${counter} restarting ${step.container}`);
            ctx.io.out(announce(step, ctx.stack, ctx.dryRun));
            if (ctx.dryRun) continue;
            await engine.restart(step.container);
            if (!(await waitHealthy(ctx, engine, step.container))) {
                // Started again if it stopped; either way the operator is told what is left.
                if ((await engine.health(step.container)) === "exited") await engine.start(step.container).catch(() => undefined);
                throw new VerbError(
                    `${step.container} is not healthy after its restart\n${ctx.verb}: NOT done: ${step.container} is not healthy after its restart; check npm run status\n${ctx.verb}: retry with: npm run restart -- ${step.service} --stack ${ctx.stack}`,
                );
            }
        }
    }
    say(ctx, `restarted ${plan.length - reloaded} container(s), reloaded ${reloaded}`);
}

/** nginx's worker pids, as the daemon sees them (no exec into the container). */
async function nginxWorkers(engine: Engine, container: string): Promise<string[]> {
    return (await engine.processes(container))
        .filter((p) => p.args.includes("nginx: worker process"))
        .map((p) => p.pid)
        .sort();
}

const reloadErrors = /\[emerg\]|error loading config|Error reloading|reload.*fail/i;

/**
 * SIGHUP, sent by the daemon: nginx starts new workers with the files re-read and lets the
 * old ones finish their requests; Prometheus, Alertmanager and the blackbox exporter re-read
 * their configuration. A bad file is logged (and the old one kept): that fails the verb.
 */
async function reloadContainer(ctx: Context, engine: Engine, step: Step & { kind: "signal" }): Promise<void> {
    const since = Math.floor(Date.now() / 1000);
    const before = step.service === nginxService ? await nginxWorkers(engine, step.container) : [];
    ctx.io.out(announce(step, ctx.stack, ctx.dryRun));
    if (ctx.dryRun) return;
    await engine.kill(step.container, step.signal);
    if (step.service === nginxService) {
        // Done when every worker is new: the old ones have finished their requests and exited.
        let after: string[] = [];
        for (let waited = 0; ; waited++) {
            after = await nginxWorkers(engine, step.container);
            if (after.length > 0 && !after.some((pid) => before.includes(pid))) break;
            if (waited >= 30) {
                say(ctx, `${step.container}: some old workers are still finishing requests after 30 s (normal for long downloads)`);
                break;
            }
            await sleep(ctx.pollMs === undefined ? 1000 : ctx.pollMs);
        }
        say(ctx, `${step.container}: new workers ${after.join(" ")} (the old ones, ${before.join(" ")}, finished their requests and exited)`);
    } else {
        await sleep(ctx.pollMs === undefined ? 1000 : ctx.pollMs);
    }
    let log = "";
    await engine.logs(step.container, { since, follow: false }, (chunk) => (log += chunk));
    const errors = log.split("\n").filter((l) => reloadErrors.test(l));
    if (errors.length > 0) throw new VerbError(`${step.container} did not take the new configuration (it keeps serving the old one):\n${errors.join("\n")}`);
    if (!(await waitHealthy(ctx, engine, step.container))) throw new VerbError(`${step.container} is not healthy after its reload`);
}

/** What a rolling restart of one service costs, from its update config and published ports. */
export function describeRoll(s: StackService): string[] {
    const lines: string[] = [];
    if (s.order === "start-first") lines.push(`${s.label}: each new task starts and turns healthy before its old one stops (start-first): no request is dropped`);
    else if (s.hostPorts.length > 0) {
        lines.push(`${s.label}: each task stops before its successor starts (stop-first: host ports ${s.hostPorts.join(",")} are its node's alone): connections to them on that node are refused for the seconds it restarts`);
    } else {
        lines.push(`${s.label}: each task stops before its successor starts (stop-first: one data volume, or one task per node): ${s.label} is down for the seconds it restarts (the front door is not affected)`);
    }
    lines.push(`${s.label}: Swarm watches the new tasks for ${Math.floor(s.monitorNs / 1e9)} s before it calls the update complete; a task failing meanwhile rolls the service back`);
    return lines;
}

async function swarmRestart(ctx: Context, engine: Engine, service: string | undefined): Promise<void> {
    const list = await engine.services(ctx.stack, service);
    if (list.length === 0) throw new VerbError(service ? `no Swarm service for ${service} in stack ${ctx.stack} (is this a manager of the stack's cluster?)` : `no Swarm service of stack ${ctx.stack}`);
    for (const s of list) for (const line of describeRoll(s)) say(ctx, line);
    const plan = swarmRestartPlan(list);
    if (plan.length === 1) {
        const [step] = plan;
        if (step.kind === "service-update" && !(await roll(ctx, engine, list[0]))) throw new VerbError(`${step.label} is not restarted; retry with: npm run restart -- ${step.label} --stack ${ctx.stack}`);
        return;
    }
    say(ctx, `restarting the ${plan.length} services of stack ${ctx.stack} at once (each one task at a time)`);
    const results = await Promise.all(list.map((s) => roll(ctx, engine, s)));
    const failed = list.filter((_, i) => !results[i]).map((s) => s.label);
    if (failed.length > 0) throw new VerbError(`not restarted: ${failed.join(" ")} (above); retry each with: npm run restart -- <service> --stack ${ctx.stack}`);
    say(ctx, `restarted ${plan.length} services`);
}

/**
 * A rolling restart of one service, waited for: done when Swarm calls the new update
 * completed (converged and watched for the monitor period); false on a rollback or pause,
 * or after the monitor plus healthWaitSeconds a task.
 */
async function roll(ctx: Context, engine: Engine, s: StackService): Promise<boolean> {
    const started = Date.now();
    const count = Math.max(1, (await engine.tasks(s.name)).length);
    const limit = Math.floor(s.monitorNs / 1e9) + ctx.healthWaitSeconds * count;
    const step: Step = { kind: "service-update", service: s.name, label: s.label, force: true };
    ctx.io.out(announce(step, ctx.stack, ctx.dryRun));
    if (ctx.dryRun) return true;
    const previous = (await engine.service(s.name)).updateStartedAt;
    await engine.forceUpdate(s.name);
    for (;;) {
        const now = await engine.service(s.name);
        if (now.updateStartedAt !== previous) {
            if (now.updateState === "completed") break;
            if (now.updateState.startsWith("rollback") || now.updateState === "paused") {
                warn(ctx, `${s.name} did not converge (${now.updateState}${now.updateMessage ? `: ${now.updateMessage}` : ""}): see docker service ps --no-trunc ${s.name}`);
                return false;
            }
        }
        if (Date.now() - started > limit * 1000) {
            warn(ctx, `${s.name} is still updating after ${limit} s: see docker service ps --no-trunc ${s.name}`);
            return false;
        }
        await sleep(ctx.pollMs ?? 2000);
    }
    say(ctx, `${s.label}: ${count} task(s) of ${s.name} replaced one at a time, converged and watched, in ${Math.round((Date.now() - started) / 1000)} s`);
    return true;
}
