import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as path from "path";

/** How long `pulumi up` waits for a replicated service to converge before it fails. */
const convergeTimeoutSeconds = 300;

/** The command that waits for `serviceName` to converge (scripts/swarm-converge.sh), run from the project root. */
export function convergeCommand(serviceName: string, timeoutSeconds: number = convergeTimeoutSeconds): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(serviceName)) throw new Error(`convergeCommand: ${JSON.stringify(serviceName)} is not a Swarm service name`);
    return `bash scripts/swarm-converge.sh ${serviceName} ${timeoutSeconds}`;
}

/**
 * Makes `pulumi up` wait until the service runs its current spec on every replica, and fail
 * naming the tasks' reason when it does not (the provider's own converge wait says only "did
 * not converge after 5m0s", and deletes a service it has just created). Runs again whenever
 * the service's declared spec changes (`spec` is hashed, never shown).
 */
export function waitForConvergence(name: string, service: docker.Service, serviceName: string, spec: pulumi.Input<object>, parent: pulumi.Resource): command.local.Command {
    const specHash = pulumi.unsecret(pulumi.output(spec).apply((s) => createHash("sha256").update(JSON.stringify(s)).digest("hex")));
    return new command.local.Command(
        `${name}-converged`,
        { create: convergeCommand(serviceName), dir: path.join(__dirname, "..", ".."), triggers: [specHash], logging: "stderr" },
        { parent, dependsOn: [service] },
    );
}
