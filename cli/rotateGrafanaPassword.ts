/** rotate-grafana-password: a new Grafana admin password (grafanaPasswordRotation + 1), then pulumi up; never shown. */
import { bumpPlan, ChangeDeps, configuredPlatform, runPlan } from "./changes";
import { Context, say, UsageError } from "./io";

export async function rotateGrafanaPassword(ctx: Context, args: readonly string[], deps: ChangeDeps): Promise<void> {
    if (args.length > 0) throw new UsageError("rotate-grafana-password takes no arguments");
    deps.needPulumi();
    if ((await configuredPlatform(deps.stack)) === "swarm") {
        say(ctx, "a new Grafana admin password: a new secret, set as Grafana's task restarts (stop-first: Grafana answers nothing for those seconds)");
    } else {
        say(ctx, "a new Grafana admin password, set in the running Grafana");
    }
    const { plan, note } = bumpPlan("grafanaPasswordRotation", await deps.stack.getConfig("grafanaPasswordRotation"));
    say(ctx, note);
    await runPlan(ctx, plan, deps);
    say(ctx, `read it with: pulumi stack output grafanaAdminPassword --show-secrets --stack ${ctx.stack}`);
}
