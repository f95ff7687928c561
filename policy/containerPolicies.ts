import { ResourceValidationPolicy, UnknownValueError } from "@pulumi/policy";

/** The type token of the docker provider's container, the resource every check applies to. */
export const containerType = "docker:index/container:Container";

/** A container's inputs as the policy engine sees them (the docker provider's field names). */
export interface ContainerProps {
    readonly image?: string;
    readonly memory?: number;
    readonly cpus?: string;
    readonly logDriver?: string;
    readonly logOpts?: Readonly<Record<string, string>>;
    readonly restart?: string;
    readonly healthcheck?: { readonly tests?: readonly string[] };
    readonly privileged?: boolean;
    readonly ports?: readonly { readonly internal?: number; readonly external?: number; readonly ip?: string }[];
}

/**
 * The only containers allowed to run privileged, by resource name, each with the reason.
 * A new entry needs a reason a reviewer can check.
 */
export const privilegedAllowList: Readonly<Record<string, string>> = Object.freeze({
    "exporters-cadvisor":
        "cAdvisor reads every container's cgroups and the host's devices to report per-container CPU, memory and disk use",
});

/** Host ports that may be published on all interfaces: nginx's HTTP redirect and HTTPS. */
export const publicPorts: readonly number[] = [80, 443];

/** One guardrail: a name, what it demands, and a pure check returning the violations. */
export interface ContainerCheck {
    readonly name: string;
    readonly description: string;
    check(resourceName: string, props: ContainerProps): string[];
}

export function checkLimits(name: string, props: ContainerProps): string[] {
    const problems: string[] = [];
    if (!(typeof props.memory === "number" && props.memory > 0)) problems.push(`${name}: no memory limit (memory in MB)`);
    if (!(Number(props.cpus) > 0)) problems.push(`${name}: no CPU limit (cpus)`);
    return problems;
}

export function checkLogRotation(name: string, props: ContainerProps): string[] {
    const opts = props.logOpts ?? {};
    if (props.logDriver === "json-file" && opts["max-size"] && opts["max-file"]) return [];
    return [`${name}: logs are not rotated (want logDriver json-file with logOpts max-size and max-file; got ${props.logDriver ?? "the daemon's default"} ${JSON.stringify(opts)})`];
}

export function checkRestartPolicy(name: string, props: ContainerProps): string[] {
    const allowed = ["always", "unless-stopped", "on-failure"];
    return allowed.includes(props.restart ?? "") ? [] : [`${name}: restart policy ${JSON.stringify(props.restart ?? "no")}; want one of ${allowed.join(", ")}`];
}

export function checkHealthcheck(name: string, props: ContainerProps): string[] {
    const tests = props.healthcheck?.tests ?? [];
    if (tests.length === 0 || tests[0] === "NONE") return [`${name}: no healthcheck`];
    return [];
}

export function checkPrivileged(name: string, props: ContainerProps, allowList: Readonly<Record<string, string>> = privilegedAllowList): string[] {
    if (!props.privileged || allowList[name]) return [];
    return [`${name}: privileged, and not in the allow-list (${Object.keys(allowList).join(", ") || "empty"}); add it there with the reason, or drop privileged`];
}

export function checkPublicPorts(name: string, props: ContainerProps, allowed: readonly number[] = publicPorts): string[] {
    // Docker publishes on all interfaces when no address is given.
    const everywhere = (ip: string | undefined) => ip === undefined || ip === "" || ip === "0.0.0.0" || ip === "::";
    return (props.ports ?? [])
        .filter((p) => everywhere(p.ip) && !allowed.includes(p.external ?? p.internal ?? -1))
        .map((p) => `${name}: port ${p.external ?? p.internal} published on all interfaces (${p.ip || "no address"}); only ${allowed.join(" and ")} may be, bind it to 127.0.0.1`);
}

/** name:tag (not latest), name@sha256:…, or a local image ID sha256:…; never an untagged name. */
export function checkPinnedImage(name: string, props: ContainerProps): string[] {
    const image = props.image ?? "";
    if (/^sha256:[a-f0-9]{64}$/.test(image) || /@sha256:[a-f0-9]{64}$/.test(image)) return [];
    const tag = /:([^/:]+)$/.exec(image)?.[1];
    if (!tag) return [`${name}: image ${JSON.stringify(image)} has no tag; pin a version`];
    if (tag === "latest") return [`${name}: image ${image} uses the latest tag; pin a version`];
    return [];
}

export const containerChecks: readonly ContainerCheck[] = [
    { name: "container-resource-limits", description: "Every container has a memory and a CPU limit.", check: checkLimits },
    { name: "container-log-rotation", description: "Every container logs to json-file with max-size and max-file.", check: checkLogRotation },
    { name: "container-restart-policy", description: "Every container restarts by itself (always, unless-stopped or on-failure).", check: checkRestartPolicy },
    { name: "container-healthcheck", description: "Every container has a healthcheck.", check: checkHealthcheck },
    {
        name: "container-privileged-allow-list",
        description: `No privileged container except: ${Object.entries(privilegedAllowList).map(([n, why]) => `${n} (${why})`).join("; ")}.`,
        check: (name, props) => checkPrivileged(name, props),
    },
    { name: "container-public-ports", description: `Nothing but ports ${publicPorts.join(" and ")} is published on all interfaces.`, check: (name, props) => checkPublicPorts(name, props) },
    { name: "container-pinned-image", description: "No image with the latest tag or without a tag.", check: checkPinnedImage },
];

/** Every check as a mandatory policy on docker containers. */
export function guardrailPolicies(): ResourceValidationPolicy[] {
    return containerChecks.map((c) => ({
        name: c.name,
        description: c.description,
        enforcementLevel: "mandatory",
        validateResource: (args, reportViolation) => {
            if (args.type !== containerType) return;
            let problems: string[];
            try {
                problems = c.check(args.name, args.props as ContainerProps);
            } catch (error) {
                // During preview a locally built image's ID is not known yet; `pulumi up`
                // checks the same container once it is, so preview stays quiet here.
                if (error instanceof UnknownValueError) return;
                throw error;
            }
            for (const problem of problems) reportViolation(problem);
        },
    }));
}
