/** renew-cert: a new key and certificate now (tlsRotation + 1), then pulumi up. */
import { bumpPlan, ChangeDeps, configuredPlatform, runPlan } from "./changes";
import { Context, say, UsageError } from "./io";

export async function renewCert(ctx: Context, args: readonly string[], deps: ChangeDeps): Promise<void> {
    if (args.length > 0) throw new UsageError("renew-cert takes no arguments");
    deps.needPulumi();
    if ((await configuredPlatform(deps.stack)) === "swarm") {
        say(ctx, "a new key and certificate: a new secret and config; the front-door nginx tasks are replaced one at a time, each new one serving before the old stops (a rolling update pulumi up waits for)");
    } else {
        say(ctx, "a new key and certificate; nginx reloads them without a restart");
    }
    const { plan, note } = bumpPlan("tlsRotation", await deps.stack.getConfig("tlsRotation"));
    say(ctx, note);
    await runPlan(ctx, plan, deps);
    if (!ctx.dryRun) say(ctx, `expires: ${(await deps.stack.output("certificateExpiresAt")) ?? "(no output certificateExpiresAt)"}`);
}
