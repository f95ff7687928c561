/**
 * What a verb would change, as data: built by pure functions (unit tests compare the steps
 * exactly), printed by --dry-run, run by the verb otherwise.
 */
import type { OneShot } from "./engine";

export type Step =
    | { readonly kind: "signal"; readonly container: string; readonly service: string; readonly signal: string }
    | { readonly kind: "restart"; readonly container: string; readonly service: string }
    | { readonly kind: "service-update"; readonly service: string; readonly label: string; readonly force: true }
    | { readonly kind: "config-set"; readonly key: string; readonly value: string }
    | { readonly kind: "up" }
    | { readonly kind: "destroy" }
    | { readonly kind: "volume-rm"; readonly volume: string }
    | { readonly kind: "stop"; readonly containers: readonly string[] }
    | { readonly kind: "start"; readonly container: string }
    | { readonly kind: "service-scale"; readonly scales: readonly { readonly service: string; readonly replicas: number }[] }
    | { readonly kind: "run"; readonly spec: OneShot }
    | { readonly kind: "exec"; readonly container: string; readonly env: Record<string, string>; readonly command: readonly string[] };

export type Plan = readonly Step[];

/** One step as the command an operator would type for it. */
export function describeStep(step: Step, stack: string, yes = false): string {
    const y = yes ? " --yes" : "";
    switch (step.kind) {
        case "signal":
            return `docker kill --signal ${step.signal} ${step.container}`;
        case "restart":
            return `docker restart ${step.container}`;
        case "service-update":
            return `docker service update --force --detach=false --quiet ${step.service}`;
        case "config-set":
            return `pulumi config set ${step.key} ${step.value} --stack ${stack}`;
        case "up":
            return `pulumi up --stack ${stack}${y}`;
        case "destroy":
            return `pulumi destroy --stack ${stack}${y}`;
        case "volume-rm":
            return `docker volume rm ${step.volume}`;
        case "stop":
            return `docker stop ${step.containers.join(" ")}`;
        case "start":
            return `docker start ${step.container}`;
        case "service-scale":
            return `docker service scale --detach ${step.scales.map((s) => `${s.service}=${s.replicas}`).join(" ")}`;
        case "run":
            return runCommand(step.spec);
        case "exec":
            return `docker exec ${Object.entries(step.env).map(([k, v]) => `-e ${k}=${v} `).join("")}${step.container} ${step.command.join(" ")}`;
    }
}

/** A one-shot container as the docker run command line that starts the same. */
export function runCommand(spec: OneShot): string {
    return [
        "docker run",
        ...(spec.name ? [`--name ${spec.name}`] : []),
        "--rm",
        ...Object.entries(spec.labels).map(([k, v]) => `--label ${k}=${v}`),
        `--network ${spec.network}`,
        `--user ${spec.user}`,
        ...spec.securityOpt.map((o) => `--security-opt ${o}`),
        ...spec.capDrop.map((c) => `--cap-drop ${c}`),
        ...spec.capAdd.map((c) => `--cap-add ${c}`),
        ...(spec.ulimits ?? []).map((u) => `--ulimit ${u.Name}=${u.Soft}:${u.Hard}`),
        ...(spec.nanoCpus ? [`--cpus ${spec.nanoCpus / 1e9}`] : []),
        ...spec.binds.map((b) => `-v ${b}`),
        spec.image,
        ...spec.command,
    ].join(" ");
}

/** --dry-run: "would run: <command>"; else "+ <command>", before it runs. */
export const announce = (step: Step, stack: string, dryRun: boolean, yes = false): string => `${dryRun ? "would run:" : "+"} ${describeStep(step, stack, yes)}\n`;
