/**
 * logs [service] [--since D] [--follow]: container logs found by the stack and service
 * labels; on Swarm every task's, from every node, in time order.
 */
import { Engine } from "./engine";
import { Context, UsageError, VerbError, warn } from "./io";
import { checkService, findTarget, needDocker, noContainer, noEdgeOnOneHost } from "./target";

export interface LogsArgs {
    readonly service?: string;
    readonly since: string;
    readonly follow: boolean;
}

export function parseLogsArgs(args: readonly string[]): LogsArgs {
    let service: string | undefined;
    let since = "1h";
    let follow = false;
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a === "--since") {
            if (i + 1 >= args.length) throw new UsageError("--since needs a value (10m, 2h, 2024-01-01T00:00:00)");
            since = args[++i];
        } else if (a.startsWith("--since=")) since = a.slice("--since=".length);
        else if (a === "-f" || a === "--follow") follow = true;
        else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
        else {
            if (service !== undefined) throw new UsageError("one service at a time");
            checkService(a);
            service = a;
        }
    }
    sinceToUnix(since, 0);
    return { service, since, follow };
}

const units: Record<string, number> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** --since as the docker CLI reads it: a duration before now (10m, 1h30m), a Unix time, or a date and time (local unless it names a zone). */
export function sinceToUnix(since: string, nowSeconds: number): number {
    if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(since)) {
        let seconds = 0;
        for (const [, n, unit] of since.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) seconds += Number(n) * units[unit];
        return Math.floor(nowSeconds - seconds);
    }
    if (/^\d+(\.\d+)?$/.test(since)) return Math.floor(Number(since));
    const parsed = /^\d{4}-\d\d-\d\d/.test(since) ? Date.parse(since) : NaN;
    if (Number.isNaN(parsed)) throw new UsageError(`--since ${since}: not a duration (10m, 2h) or a time (2024-01-01T00:00:00)`);
    return Math.floor(parsed / 1000);
}

/** Sorts log lines by their leading timestamp, keeping the order of equal ones (sort -s -k1,1). */
export function inTimeOrder(text: string): string {
    const lines = text.split("\n").filter((l) => l !== "");
    const key = (l: string) => l.split(" ")[0];
    return lines
        .map((l, i) => ({ l, i }))
        .sort((a, b) => (key(a.l) < key(b.l) ? -1 : key(a.l) > key(b.l) ? 1 : a.i - b.i))
        .map(({ l }) => `${l}\n`)
        .join("");
}

export async function logs(ctx: Context, args: readonly string[], engine: Engine, now = () => Date.now() / 1000): Promise<void> {
    const { service, since, follow } = parseLogsArgs(args);
    await needDocker(engine);
    const opts = { since: sinceToUnix(since, now()), follow };
    const write = (chunk: string) => ctx.io.out(chunk);
    if ((await findTarget(ctx, engine)) === "swarm") {
        if (follow) {
            if (!service) throw new UsageError("--follow needs one service");
            const [s] = await engine.services(ctx.stack, service);
            if (!s) throw new VerbError(`no Swarm service for ${service} in stack ${ctx.stack} (is this a manager of the stack's cluster?)`);
            await engine.serviceLogs(s.name, opts, write);
            return;
        }
        const list = await engine.services(ctx.stack, service);
        if (list.length === 0) throw new VerbError(service ? `no Swarm service for ${service} in stack ${ctx.stack} (is this a manager of the stack's cluster?)` : `no Swarm service of stack ${ctx.stack}`);
        for (const s of list) {
            ctx.io.out(`==> ${s.name} (since ${since}, every task) <==\n`);
            let text = "";
            try {
                await engine.serviceLogs(s.name, { ...opts, follow: false }, (chunk) => (text += chunk));
            } catch (error) {
                // A task that never ran (never scheduled) has no log: the rest are still shown.
                warn(ctx, `some of ${s.name}'s task logs could not be read (${error instanceof Error ? error.message : String(error)}); the others are shown`);
            }
            ctx.io.out(inTimeOrder(text));
        }
        return;
    }
    noEdgeOnOneHost(ctx, service);
    const containers = await engine.containers(ctx.stack, service);
    if (containers.length === 0) throw noContainer(ctx, service);
    if (follow) {
        if (containers.length !== 1) throw new UsageError(`--follow needs one container; ${service ?? "all"} has ${containers.length}`);
        await engine.logs(containers[0].name, opts, write);
        return;
    }
    for (const c of containers) {
        ctx.io.out(`==> ${c.name} (since ${since}) <==\n`);
        await engine.logs(c.name, opts, write);
    }
}
