/**
 * What a verb would change, as data: built by pure functions (unit tests compare the steps
 * exactly), printed by --dry-run, run by the verb otherwise.
 */
export type Step =
    | { readonly kind: "signal"; readonly container: string; readonly service: string; readonly signal: string }
    | { readonly kind: "restart"; readonly container: string; readonly service: string }
    | { readonly kind: "service-update"; readonly service: string; readonly label: string; readonly force: true }
    | { readonly kind: "config-set"; readonly key: string; readonly value: string }
    | { readonly kind: "up" }
    | { readonly kind: "destroy" }
    | { readonly kind: "volume-rm"; readonly volume: string }
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
        case "exec":
            return `docker exec ${Object.entries(step.env).map(([k, v]) => `-e ${k}=${v} `).join("")}${step.container} ${step.command.join(" ")}`;
    }
}

/** --dry-run: "would run: <command>"; else "+ <command>", before it runs. */
export const announce = (step: Step, stack: string, dryRun: boolean, yes = false): string => `${dryRun ? "would run:" : "+"} ${describeStep(step, stack, yes)}\n`;
