/** Where the stack runs and the checks every Docker verb shares: the engine answers, the service exists, health waits. */
import { Engine } from "./engine";
import { Context, say, sleep, UsageError, VerbError, warn } from "./io";
import { edgeService, services } from "./platformFacts";

export async function needDocker(engine: Engine): Promise<void> {
    try {
        await engine.ping();
    } catch (error) {
        throw new VerbError(`no Docker engine answers (${error instanceof Error ? error.message : String(error)}).
  Start it:          sudo systemctl enable --now docker
  A remote engine:   export DOCKER_HOST=ssh://user@host   (the user must be in the docker group).`);
    }
}

export function checkService(service: string): void {
    if (!services.includes(service)) throw new UsageError(`unknown service '${service}'; one of: ${services.join(" ")}`);
}

export type Target = "docker" | "swarm";

/**
 * Where the stack runs, from the engine alone (no Pulumi CLI): swarm when this engine is a
 * Swarm manager holding services labelled with the stack, else docker (one host).
 */
export async function findTarget(ctx: Context, engine: Engine): Promise<Target> {
    const role = await engine.swarmRole();
    if (role.state !== "active") return "docker";
    if (role.manager) return (await engine.services(ctx.stack)).length > 0 ? "swarm" : "docker";
    if ((await engine.containers(ctx.stack)).length === 0) {
        throw new VerbError(`this engine is a Swarm worker and runs no container of stack ${ctx.stack}: run the verbs against a manager of the stack's cluster (DOCKER_HOST)`);
    }
    return "docker";
}

/** One host has no edge service: nginx holds 80/443 itself. */
export function noEdgeOnOneHost(ctx: Context, service: string | undefined): void {
    if (service === edgeService) {
        throw new UsageError(`edge is the Swarm target's TCP proxy in front of nginx; stack ${ctx.stack} runs on one Docker host, where nginx holds 80/443 itself: use nginx`);
    }
}

export const noContainer = (ctx: Context, service: string | undefined) =>
    new VerbError(`no ${service || "platform"} container of stack ${ctx.stack} on this Docker host (deployed? npm run status)`);

/**
 * Waits until a container's healthcheck says healthy (or it runs, without one); false (with a
 * message) when it is unhealthy, exited, gone, or still starting after healthWaitSeconds.
 */
export async function waitHealthy(ctx: Context, engine: Engine, name: string): Promise<boolean> {
    if (ctx.dryRun) {
        ctx.io.out(`would wait for ${name} to be healthy\n`);
        return true;
    }
    const started = Date.now();
    const seconds = () => Math.floor((Date.now() - started) / 1000);
    for (;;) {
        const state = await engine.health(name);
        if (state === "healthy" || state === "running") {
            say(ctx, `${name} is ${state} after ${seconds()} s`);
            return true;
        }
        if (["unhealthy", "exited", "dead", "missing"].includes(state)) {
            warn(ctx, `${name} is ${state}; see npm run logs`);
            return false;
        }
        if (seconds() >= ctx.healthWaitSeconds) {
            warn(ctx, `${name} is still ${state} after ${ctx.healthWaitSeconds} s; see npm run logs`);
            return false;
        }
        ctx.io.out(`${ctx.verb}: waiting for ${name} (${state}, ${seconds()} s)\n`);
        await sleep(ctx.pollMs ?? 2000);
    }
}
