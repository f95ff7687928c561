/**
 * Runs a plan of the verbs that change the stack through Pulumi (config set, up, destroy)
 * and of the volume removals after a Swarm destroy: each step announced ("+ …", or "would
 * run: …" with --dry-run, which runs none), up and destroy previewed and confirmed first
 * unless --yes, their progress streamed.
 */
import { Engine } from "./engine";
import { Context, say, sleep, VerbError, warn } from "./io";
import { announce, Plan, Step } from "./plan";
import { PulumiStack } from "./pulumiStack";

export interface ChangeDeps {
    readonly stack: PulumiStack;
    /** Asks the operator a question on the terminal and resolves to the answer. */
    readonly ask: (question: string) => Promise<string>;
    /** For volume removals (stop --delete-data on Swarm). */
    readonly engine?: Engine;
    /** The Pulumi CLI and its backend (needPulumi). */
    readonly needPulumi: () => void;
}

export async function runPlan(ctx: Context, plan: Plan, deps: ChangeDeps): Promise<void> {
    const out = (text: string) => ctx.io.out(text);
    const leftVolumes: string[] = [];
    for (const step of plan) {
        if (step.kind === "volume-rm") {
            await removeVolume(ctx, deps, step, leftVolumes);
            continue;
        }
        ctx.io.out(announce(step, ctx.stack, ctx.dryRun, ctx.yes));
        if (ctx.dryRun) continue;
        switch (step.kind) {
            case "config-set":
                await deps.stack.setConfig(step.key, step.value);
                break;
            case "up":
                if (!ctx.yes) await confirm(deps, () => deps.stack.preview(out), "update");
                await deps.stack.up(out);
                break;
            case "destroy":
                if (!ctx.yes) await confirm(deps, () => deps.stack.previewDestroy(out), "destroy");
                await deps.stack.destroy(out);
                break;
            default:
                throw new Error(`not a Pulumi step: ${step.kind}`);
        }
    }
    if (leftVolumes.length > 0) {
        say(ctx, `not on this node or not removed: ${leftVolumes.join(" ")}; on each other node that has them (node-exporter's is on every node): docker volume rm ${leftVolumes.join(" ")}`);
    }
}

/** As pulumi up/destroy without --yes: the preview, then a yes to go on. */
async function confirm(deps: ChangeDeps, preview: () => Promise<void>, what: string): Promise<void> {
    await preview();
    const answer = (await deps.ask(`Do you want to perform this ${what}? (yes/no) `)).trim();
    if (answer !== "yes") throw new VerbError(`not confirmed; the ${what} was not performed`);
}

/** A volume removed on this node, retried while the removed tasks still hold it (60 s); false when left. */
async function removeVolume(ctx: Context, deps: ChangeDeps, step: Step & { kind: "volume-rm" }, left: string[]): Promise<boolean> {
    const engine = deps.engine;
    if (!engine || !(await engine.volumeExists(step.volume))) {
        left.push(step.volume);
        return false;
    }
    ctx.io.out(announce(step, ctx.stack, ctx.dryRun));
    if (ctx.dryRun) return true;
    const started = Date.now();
    for (;;) {
        try {
            await engine.removeVolume(step.volume);
            return true;
        } catch {
            if (Date.now() - started >= 60_000) {
                warn(ctx, `could not remove ${step.volume} (still in use?): docker volume rm ${step.volume}`);
                left.push(step.volume);
                return false;
            }
            await sleep(ctx.pollMs ?? 2000);
        }
    }
}

/** The stack's `platform` config (docker unless set): what a change does differs, not how it is made. */
export async function configuredPlatform(stack: PulumiStack): Promise<string> {
    return (await stack.getConfig("platform")) || "docker";
}

/** An integer config key one up from its current value (0 when unset): the plan and what to say. */
export function bumpPlan(key: string, current: string | undefined): { plan: Plan; note: string } {
    const value = current ?? "0";
    if (!/^\d+$/.test(value)) throw new VerbError(`${key} is '${value}', not a number; fix it with pulumi config set ${key} <n>`);
    const next = String(Number(value) + 1);
    return { plan: [{ kind: "config-set", key, value: next }, { kind: "up" }], note: `${key} ${value} -> ${next}` };
}
