/** scale N: replicas = N (within the bounds components/settings.ts enforces), then pulumi up. */
import { ChangeDeps, runPlan } from "./changes";
import { Context, say, UsageError } from "./io";
import { replicasBounds } from "./platformFacts";
import { Plan } from "./plan";

export function scalePlan(args: readonly string[]): Plan {
    if (args.length !== 1) throw new UsageError("scale needs the number of replicas");
    const [n] = args;
    if (!/^\d+$/.test(n) || Number(n) < replicasBounds.min || Number(n) > replicasBounds.max) {
        throw new UsageError(`replicas must be a whole number from ${replicasBounds.min} to ${replicasBounds.max}, got '${n}'`);
    }
    return [{ kind: "config-set", key: "replicas", value: String(Number(n)) }, { kind: "up" }];
}

export async function scale(ctx: Context, args: readonly string[], deps: ChangeDeps): Promise<void> {
    const plan = scalePlan(args);
    deps.needPulumi();
    say(ctx, `replicas -> ${args[0]} (new replicas are added healthy; removed ones stop gracefully)`);
    await runPlan(ctx, plan, deps);
}
