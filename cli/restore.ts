/**
 * restore <archive|latest> [--service grafana|prometheus]: the archive's checksum and
 * contents verified in a one-shot container before anything stops; then the service and the
 * backup job stopped (Swarm: scaled to 0, on the data node), the archive restored in a
 * one-shot container of the job's image with the data volume writable, on no network, and
 * both started again, the service healthy first. On any failure or signal after the first
 * stop, every stopped container is started again (every scaled service scaled back), and the
 * verb prints what was and was not restored and the command that retries.
 */
import * as path from "path";
import { Engine, OneShot } from "./engine";
import { Context, say, sleep, VerbError, warn } from "./io";
import { backupService, dataNodeLabel } from "./platformFacts";
import { announce } from "./plan";
import { checkRestoreSources, mountAt, oneShot, parseExtraArgs, parseRestoreArgs, restorePlan, RestoreSources } from "./restorePlan";
import { findTarget, needDocker, noContainer, waitHealthy } from "./target";

/** Signals reaching the verb: SIGINT, SIGTERM, SIGHUP as exit codes 130, 143, 129. */
export interface Signals {
    /** Calls `handler` on each; returns the function that stops listening. */
    listen(handler: (code: number) => void): () => void;
}

export const processSignals: Signals = {
    listen(handler) {
        const codes: [NodeJS.Signals, number][] = [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]];
        const listeners = codes.map(([signal, code]) => [signal, () => handler(code)] as const);
        for (const [signal, l] of listeners) process.on(signal, l);
        return () => listeners.forEach(([signal, l]) => process.removeListener(signal, l));
    },
};

export interface RestoreDeps {
    readonly engine: Engine;
    readonly signals: Signals;
    /** Makes the step's container name unique (the process id). */
    readonly id: number;
    /** OPS_RESTORE_DOCKER_ARGS */
    readonly extraArgs?: string;
}

async function hostSources(ctx: Context, engine: Engine, service: string): Promise<{ sources: RestoreSources; targetMounts: string[] }> {
    const [job] = await engine.containers(ctx.stack, backupService);
    if (!job) throw noContainer(ctx, backupService);
    const [target] = await engine.containers(ctx.stack, service);
    if (!target) throw noContainer(ctx, service);
    // Everything from the job's configuration, none from its running: its image (by id, so a
    // retagged image does not matter) and the volumes it mounts.
    const details = await engine.inspect(job.name);
    const sources = { job: job.name, target: target.name, image: details.image, dataSource: mountAt(details.mounts, `/data/${service}`), archiveSource: mountAt(details.mounts, "/backups") };
    const targetMounts = (await engine.inspect(target.name)).mounts.flatMap((m) => [m.source, m.hostPath ?? ""]).filter(Boolean);
    return { sources, targetMounts };
}

async function swarmSources(ctx: Context, engine: Engine, service: string): Promise<{ sources: RestoreSources; targetMounts: string[] }> {
    const find = async (label: string) => {
        const [s] = await engine.services(ctx.stack, label);
        if (!s) throw new VerbError(`no Swarm service for ${label} in stack ${ctx.stack} (is this a manager of the stack's cluster?)`);
        return s.name;
    };
    const job = await find(backupService);
    const target = await find(service);
    const node = await engine.selfNode();
    if (node.labels[dataNodeLabel] !== "true") {
        throw new VerbError(`restore runs on the data node (labelled ${dataNodeLabel}=true), where ${service}'s volume is; this engine is node ${node.name}: point DOCKER_HOST at the data node (a manager); nothing was touched`);
    }
    const jobSpec = await engine.serviceSpec(job);
    // The image of the job's task here, by id (a retagged image does not matter); else its spec's.
    const [task] = await engine.taskContainers(job, true);
    const sources = { job, target, image: task?.image || jobSpec.image, dataSource: mountAt(jobSpec.mounts, `/data/${service}`), archiveSource: mountAt(jobSpec.mounts, "/backups") };
    return { sources, targetMounts: (await engine.serviceSpec(target)).mounts.map((m) => m.source) };
}

/** Runs a read-only one-shot container and collects its stdout (its stderr passed on). */
async function lookUp(ctx: Context, engine: Engine, spec: OneShot): Promise<{ code: number; stdout: string }> {
    let stdout = "";
    const code = await engine.run(spec, (t) => (stdout += t), ctx.io.err);
    return { code, stdout };
}

export async function restore(ctx: Context, args: readonly string[], deps: RestoreDeps): Promise<void> {
    const { archive: given, service } = parseRestoreArgs(args);
    const { engine } = deps;
    const extra = parseExtraArgs(deps.extraArgs);
    await needDocker(engine);
    const swarm = (await findTarget(ctx, engine)) === "swarm";
    const { sources: s, targetMounts } = swarm ? await swarmSources(ctx, engine, service) : await hostSources(ctx, engine, service);
    checkRestoreSources(s, service, targetMounts);
    if (swarm && !s.dataSource.startsWith("/") && !(await engine.volumeExists(s.dataSource))) {
        throw new VerbError(`no volume ${s.dataSource} on this node: is it the data node? nothing was touched`);
    }
    let archive = given;
    if (archive === "latest") {
        const listed = await lookUp(ctx, engine, oneShot(s, service, "ro", ["sh", "-c", `ls -1 /backups/${service}/${service}-*.tar.gz 2>/dev/null | sort | tail -n 1`], extra));
        if (listed.code !== 0) throw new VerbError(`could not list the archives in ${s.archiveSource}; nothing was touched`);
        archive = listed.stdout.trim();
        if (!archive) throw new VerbError(`no ${service} archive in the backup location (${s.archiveSource}); nothing was touched`);
    }
    if (!archive.startsWith("/")) archive = `/backups/${service}/${path.basename(archive)}`;
    const base = path.basename(archive);
    say(ctx, `verifying ${archive} (checksum and contents) before touching anything`);
    const checked = await engine.run(oneShot(s, service, "ro", ["/usr/local/bin/restore.sh", "--check", archive, "--service", service], extra), ctx.io.out, ctx.io.err);
    if (checked !== 0) throw new VerbError(`${base} cannot be restored (above): nothing was touched`);

    // From here on, whatever happens, what was stopped is started again.
    const running = swarm ? [] : (await Promise.all([s.target, s.job].map(async (n) => ((await engine.inspect(n)).status === "running" ? n : "")))).filter(Boolean);
    const replicas: Record<string, number> = {};
    if (swarm) {
        for (const name of [s.target, s.job]) {
            const r = (await engine.serviceSpec(name)).replicas;
            if (!r) say(ctx, `${name} has ${r === undefined ? "no" : r} replicas; it is scaled back to 1`);
            replicas[name] = r || 1;
        }
    }
    const stepName = `clinicalbdd-restore-${ctx.stack}-${service}-${deps.id}`;
    const plan = restorePlan(swarm ? "swarm" : "docker", s, service, archive, { name: stepName, extra }, { running, replicas });
    const guard = new Guard(ctx, engine, `npm run restore -- ${base} --service ${service} --stack ${ctx.stack} --yes`);
    guard.todo = `${service} is not restored from ${base}; its data are unchanged`;
    const stepDone = (rc: number) => {
        if (rc === 0) [guard.done, guard.todo] = [`restored ${service} from ${base}`, ""];
        else if (rc === 1) guard.todo = `${service} is not restored from ${base}; its data are unchanged`;
        else guard.todo = `${service} is not restored from ${base}: the restore step ended with code ${rc} part way, so its data may be part old, part new; restore again now`;
    };
    const unlisten = deps.signals.listen((code) => void guard.interrupt(code));
    let rc = 0;
    try {
        await guard.checkpoint();
        let started = Date.now();
        const seconds = () => Math.round((Date.now() - started) / 1000);
        for (const step of plan) {
            if (step.kind === "stop") {
                say(ctx, `[1/4] stopping ${s.target} and the backup job (${s.job})`);
                guard.touched = [s.target, s.job];
                guard.noHealthWait = s.job;
                ctx.io.out(announce(step, ctx.stack, ctx.dryRun));
                if (!ctx.dryRun) for (const name of step.containers) await engine.stop(name);
                say(ctx, `stopped in ${seconds()} s`);
            } else if (step.kind === "service-scale" && step.scales.every((x) => x.replicas === 0)) {
                say(ctx, `[1/4] scaling ${s.target} and the backup job (${s.job}) to 0 tasks`);
                guard.scaled = [s.target, s.job].map((name) => ({ service: name, replicas: replicas[name] }));
                guard.noHealthWait = s.job;
                ctx.io.out(announce(step, ctx.stack, ctx.dryRun));
                if (!ctx.dryRun) {
                    for (const x of step.scales) await engine.scale(x.service, x.replicas);
                    if (!(await waitGone(ctx, engine, [s.target, s.job]))) throw new VerbError(`the tasks of ${s.target} or ${s.job} are still running; nothing was restored`);
                }
                say(ctx, `stopped in ${seconds()} s`);
            } else if (step.kind === "run") {
                if (!guard.touched.length && !guard.scaled.length) [guard.touched, guard.noHealthWait] = [[s.target, s.job], s.job];
                await guard.checkpoint();
                say(ctx, `[2/4] restoring ${base} into ${s.dataSource}`);
                started = Date.now();
                ctx.io.out(announce(step, ctx.stack, ctx.dryRun));
                let code = 0;
                if (!ctx.dryRun) {
                    guard.oneshot = stepName;
                    code = await engine.run(step.spec, ctx.io.out, ctx.io.err);
                    guard.oneshot = "";
                }
                stepDone(code);
                await guard.checkpoint();
                if (code !== 0) throw new VerbError(`the restore step failed (code ${code}, above) after ${seconds()} s`);
                say(ctx, `restore step done in ${seconds()} s`);
                // The guard starts both (the service first, healthy, then the job) on this path as on every other.
                say(ctx, swarm ? `[3/4] scaling ${s.target} back (its task running and healthy), then [4/4] the backup job` : `[3/4] starting ${s.target} (healthy), then [4/4] the backup job`);
                break;
            }
        }
    } catch (error) {
        if (error instanceof Interrupted) rc = error.code;
        else {
            warn(ctx, error instanceof Error ? error.message : String(error));
            rc = 1;
        }
    }
    unlisten();
    rc = await guard.finish(rc);
    if (rc !== 0) throw new VerbError("", rc);
}

class Interrupted extends Error {
    constructor(readonly code: number) {
        super(`stopped by a signal (exit ${code})`);
    }
}

/** What the verb stopped and how to put it back, whatever ends it. */
class Guard {
    touched: string[] = [];
    scaled: { service: string; replicas: number }[] = [];
    noHealthWait = "";
    oneshot = "";
    done = "";
    todo = "";
    private signalled = 0;

    constructor(
        readonly ctx: Context,
        readonly engine: Engine,
        readonly retry: string,
    ) {}

    /** A signal: the step's container is stopped first (restore.sh puts the old data back unless it has finished); the verb ends at its next checkpoint. */
    async interrupt(code: number): Promise<void> {
        if (this.signalled) return;
        this.signalled = code;
        warn(this.ctx, "stopped by a signal");
        if (this.oneshot) {
            warn(this.ctx, `stopping the step in ${this.oneshot} first (it puts the old data back unless it has finished)`);
            await this.engine.stop(this.oneshot, 60).catch(() => undefined);
        }
    }

    async checkpoint(): Promise<void> {
        if (this.signalled) throw new Interrupted(this.signalled);
    }

    /** Starts (scales back) what was stopped, says what was done and not; resolves to the exit code. */
    async finish(rc: number): Promise<number> {
        const { ctx } = this;
        let failed = false;
        if (!ctx.dryRun) {
            if (this.oneshot) await this.engine.remove(this.oneshot);
            if (this.touched.length && !(await this.startTouched())) failed = true;
            if (this.scaled.length && !(await this.scaleBack())) failed = true;
        }
        if (rc === 0 && !failed) {
            if (this.done) say(ctx, this.done);
            return 0;
        }
        if (this.done) warn(ctx, `done: ${this.done}`);
        if (this.todo) warn(ctx, `NOT done: ${this.todo}`);
        if (this.touched.length) {
            warn(ctx, failed ? "some container is not healthy (above): check npm run status" : `every container this verb stopped is running again: ${this.touched.join(" ")}`);
        }
        if (this.scaled.length) {
            warn(ctx, failed ? "some service does not run again (above): check npm run status" : `every service this verb scaled to 0 runs again: ${this.scaled.map((x) => x.service).join(" ")}`);
        }
        if (this.todo) warn(ctx, `retry with: ${this.retry}`);
        return rc || 1;
    }

    private async startTouched(): Promise<boolean> {
        const { ctx, engine } = this;
        let ok = true;
        for (const name of this.touched) {
            const state = await engine.inspect(name).then((d) => d.status, () => "missing");
            if (state !== "running") {
                say(ctx, `starting ${name} (it is ${state})`);
                try {
                    await engine.start(name);
                } catch {
                    warn(ctx, `could not start ${name}: run docker start ${name}`);
                    ok = false;
                    continue;
                }
            }
            if (name === this.noHealthWait) {
                if ((await engine.inspect(name).then((d) => d.status, () => "missing")) === "running") say(ctx, `${name} is running`);
                else {
                    warn(ctx, `${name} is not running: see npm run logs`);
                    ok = false;
                }
            } else if (!(await waitHealthy(ctx, engine, name))) ok = false;
        }
        return ok;
    }

    private async scaleBack(): Promise<boolean> {
        const { ctx, engine } = this;
        let ok = true;
        for (const { service, replicas } of this.scaled) {
            say(ctx, `scaling ${service} back to ${replicas} task(s)`);
            try {
                await engine.scale(service, replicas);
            } catch {
                warn(ctx, `could not scale ${service} back: run docker service scale ${service}=${replicas}`);
                ok = false;
                continue;
            }
            if (!(await waitRunning(ctx, engine, service, replicas, service === this.noHealthWait ? "started" : "healthy"))) ok = false;
        }
        return ok;
    }
}

/** Waits until no task of the services should run or runs (on this node: their containers stopped). */
async function waitGone(ctx: Context, engine: Engine, names: readonly string[]): Promise<boolean> {
    const started = Date.now();
    for (;;) {
        const left: string[] = [];
        for (const name of names) if ((await engine.tasks(name)).length > 0 || (await engine.taskContainers(name)).length > 0) left.push(name);
        if (left.length === 0) return true;
        if (Date.now() - started >= ctx.healthWaitSeconds * 1000) {
            warn(ctx, `still running after ${ctx.healthWaitSeconds} s: ${left.join(" ")}`);
            return false;
        }
        await sleep(ctx.pollMs ?? 1000);
    }
}

/**
 * Waits until `want` tasks of a service run: healthy (Swarm says running once the healthcheck
 * passes), or with "started", their containers running on this node (the backup job turns
 * healthy only after its first run).
 */
async function waitRunning(ctx: Context, engine: Engine, name: string, want: number, how: "healthy" | "started"): Promise<boolean> {
    const started = Date.now();
    let lastNote = -1;
    for (;;) {
        const have = how === "started" ? (await engine.taskContainers(name)).length : (await engine.tasks(name)).filter((t) => t.state === "running").length;
        const seconds = Math.floor((Date.now() - started) / 1000);
        if (have >= want) {
            say(ctx, how === "started" ? `${name} is running (${have} task(s) started) after ${seconds} s` : `${name} is running and healthy (${have} task(s)) after ${seconds} s`);
            return true;
        }
        if (seconds >= ctx.healthWaitSeconds) {
            warn(ctx, `${name} has ${have} of ${want} task(s) ${how} after ${ctx.healthWaitSeconds} s: see docker service ps --no-trunc ${name}`);
            return false;
        }
        if (seconds % 10 === 0 && seconds !== lastNote) {
            lastNote = seconds;
            ctx.io.out(`${ctx.verb}: waiting for ${name} (${have} of ${want} task(s) ${how}, ${seconds} s)\n`);
        }
        await sleep(ctx.pollMs ?? 1000);
    }
}
