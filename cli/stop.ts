/**
 * stop [--delete-data]: pulumi destroy; the data volumes are kept unless --delete-data.
 * One host: the volumes keep retainOnDelete from the last up, so retention is set off in the
 * state first (config set, up), then destroy, then the setting put back. Swarm: Pulumi does
 * not manage the data volumes (Swarm made them on the nodes), so they are named from the
 * services before destroy and removed after it.
 */
import { ChangeDeps, configuredPlatform, runPlan } from "./changes";
import { Context, say, UsageError, VerbError } from "./io";
import { Plan } from "./plan";
import { needDocker } from "./target";

export function parseStopArgs(args: readonly string[]): { deleteData: boolean } {
    let deleteData = false;
    for (const a of args) {
        if (a === "--delete-data") deleteData = true;
        else throw new UsageError(`unknown argument ${a}`);
    }
    return { deleteData };
}

export function stopPlan(platform: string, deleteData: boolean, swarmVolumes: readonly string[] = []): Plan {
    if (!deleteData) return [{ kind: "destroy" }];
    if (platform === "swarm") return [{ kind: "destroy" }, ...swarmVolumes.map((volume) => ({ kind: "volume-rm" as const, volume }))];
    return [
        { kind: "config-set", key: "retainDataVolumes", value: "false" },
        { kind: "up" },
        { kind: "destroy" },
        { kind: "config-set", key: "retainDataVolumes", value: "true" },
    ];
}

export async function stop(ctx: Context, args: readonly string[], deps: ChangeDeps): Promise<void> {
    const { deleteData } = parseStopArgs(args);
    deps.needPulumi();
    const platform = await configuredPlatform(deps.stack);
    let volumes: string[] = [];
    if (deleteData) {
        if (platform === "swarm") {
            if (!deps.engine) throw new Error("stop --delete-data on Swarm needs the engine");
            await needDocker(deps.engine);
            volumes = await deps.engine.stackVolumes(ctx.stack);
            if (volumes.length === 0) throw new VerbError(`no service of stack ${ctx.stack} on this engine names a data volume (DOCKER_HOST a manager of its cluster?); nothing was changed`);
            say(ctx, `--delete-data: after pulumi destroy, these volumes on the data node will be DELETED: ${volumes.join(" ")}`);
        } else {
            say(ctx, "--delete-data: the Prometheus, Grafana and Alertmanager volumes and the backup volume will be DELETED");
        }
        if (!ctx.yes && !ctx.dryRun) {
            const answer = (await deps.ask(`Type the stack name (${ctx.stack}) to delete its data: `)).trim();
            if (answer !== ctx.stack) throw new VerbError("not confirmed; nothing was changed");
        }
    } else if (platform === "swarm") {
        say(ctx, "data volumes are kept on the data node (Swarm made them; Pulumi does not manage them); the next npm run deploy mounts them again");
    } else {
        say(ctx, "data volumes are kept (retainDataVolumes); the next npm run deploy reattaches them");
    }
    await runPlan(ctx, stopPlan(platform, deleteData, volumes), deps);
}
