/** backup: backup.sh in the backup job's container now (Swarm: its task container on this node, the data node). */
import { Engine } from "./engine";
import { Context, say, UsageError, VerbError } from "./io";
import { backupService } from "./platformFacts";
import { announce, Plan } from "./plan";
import { findTarget, needDocker, noContainer } from "./target";

/** backup.sh, waiting for a scheduled run that is already going instead of failing. */
export const backupPlan = (job: string): Plan => [{ kind: "exec", container: job, env: { BACKUP_LOCK_WAIT_SECONDS: "600" }, command: ["/usr/local/bin/backup.sh"] }];

/** The backup job's container: one host, the stack's; Swarm, its running task's on this node. */
export async function backupJob(ctx: Context, engine: Engine, swarm: boolean): Promise<string> {
    if (swarm) {
        const [s] = await engine.services(ctx.stack, backupService);
        if (!s) throw new VerbError(`no Swarm service for ${backupService} in stack ${ctx.stack} (is this a manager of the stack's cluster?)`);
        const [task] = await engine.taskContainers(s.name);
        if (!task) throw new VerbError(`no running task of ${s.name} on this node: run this on the node labelled clinicalbdd.data=true (DOCKER_HOST), and check npm run status`);
        return task.name;
    }
    const [job] = await engine.containers(ctx.stack, backupService);
    if (!job) throw noContainer(ctx, backupService);
    return job.name;
}

export async function backup(ctx: Context, args: readonly string[], engine: Engine): Promise<void> {
    if (args.length > 0) throw new UsageError("backup takes no arguments");
    await needDocker(engine);
    const swarm = (await findTarget(ctx, engine)) === "swarm";
    const job = await backupJob(ctx, engine, swarm);
    if (!swarm && !ctx.dryRun) {
        const state = (await engine.inspect(job)).status;
        if (state !== "running") throw new VerbError(`the backup job ${job} is not running (${state}): start it with docker start ${job}, then npm run backup`);
    }
    say(ctx, `backing up Grafana and Prometheus now, in ${job}`);
    for (const step of backupPlan(job)) {
        ctx.io.out(announce(step, ctx.stack, ctx.dryRun));
        if (ctx.dryRun || step.kind !== "exec") continue;
        const code = await engine.exec(step.container, step.command, step.env, ctx.io.out, ctx.io.err);
        if (code !== 0) throw new VerbError(`backup.sh failed in ${job} (exit ${code}, above)`);
    }
    if (!ctx.dryRun) {
        await engine.exec(job, ["sh", "-c", "ls -1t /backups/grafana/*.tar.gz /backups/prometheus/*.tar.gz 2>/dev/null | head -n 4"], {}, ctx.io.out, ctx.io.err);
    }
}
