import {
    checkHealthcheck,
    checkLimits,
    checkLogRotation,
    checkPinnedImage,
    checkPrivileged,
    checkPublicPorts,
    checkRestartPolicy,
    containerChecks,
    ContainerProps,
    containerType,
    guardrailPolicies,
    privilegedAllowList,
} from "../policy/containerPolicies";
import { unknownCheckingProxy } from "@pulumi/policy";
import { ProgramRun, runProgram } from "./helpers/pulumiProgram";

/** A container that obeys every guardrail; each failing case breaks exactly one thing. */
const good: ContainerProps = {
    image: "nginx:1.27.3-alpine",
    memory: 256,
    cpus: "0.50",
    logDriver: "json-file",
    logOpts: { "max-size": "100m", "max-file": "5" },
    restart: "unless-stopped",
    healthcheck: { tests: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8081/stub_status"] },
    privileged: false,
    ports: [
        { internal: 80, external: 80, ip: "0.0.0.0" },
        { internal: 443, external: 443, ip: "0.0.0.0" },
        { internal: 9090, external: 9090, ip: "127.0.0.1" },
    ],
};

describe("each guardrail passes a good container and names what is wrong with a bad one", () => {
    test.each(containerChecks.map((c) => [c.name, c] as const))("%s passes the good container", (_name, c) => {
        expect(c.check("web", good)).toEqual([]);
    });

    const failing: [string, (name: string, props: ContainerProps) => string[], Partial<ContainerProps>, RegExp][] = [
        ["no memory limit", checkLimits, { memory: undefined }, /^web: no memory limit/],
        ["memory 0", checkLimits, { memory: 0 }, /^web: no memory limit/],
        ["no CPU limit", checkLimits, { cpus: undefined }, /^web: no CPU limit/],
        ["the daemon's default log driver", checkLogRotation, { logDriver: undefined }, /^web: logs are not rotated .*got the daemon's default/],
        ["json-file without max-file", checkLogRotation, { logOpts: { "max-size": "100m" } }, /^web: logs are not rotated/],
        ["restart no", checkRestartPolicy, { restart: "no" }, /^web: restart policy "no"; want one of always, unless-stopped, on-failure/],
        ["no restart policy", checkRestartPolicy, { restart: undefined }, /^web: restart policy "no"/],
        ["no healthcheck", checkHealthcheck, { healthcheck: undefined }, /^web: no healthcheck$/],
        ["healthcheck NONE", checkHealthcheck, { healthcheck: { tests: ["NONE"] } }, /^web: no healthcheck$/],
        ["privileged, not allowed", checkPrivileged, { privileged: true }, /^web: privileged, and not in the allow-list \(exporters-cadvisor\)/],
        ["9090 on all interfaces", checkPublicPorts, { ports: [{ internal: 9090, external: 9090, ip: "0.0.0.0" }] }, /^web: port 9090 published on all interfaces \(0\.0\.0\.0\)/],
        ["a port with no address", checkPublicPorts, { ports: [{ internal: 3000, external: 3001 }] }, /^web: port 3001 published on all interfaces \(no address\)/],
        ["a port on IPv6 any", checkPublicPorts, { ports: [{ internal: 22, external: 2222, ip: "::" }] }, /^web: port 2222 published/],
        ["the latest tag", checkPinnedImage, { image: "nginx:latest" }, /^web: image nginx:latest uses the latest tag/],
        ["no tag", checkPinnedImage, { image: "nginx" }, /^web: image "nginx" has no tag/],
        ["a registry port but no tag", checkPinnedImage, { image: "registry.example.org:5000/team/app" }, /has no tag/],
    ];
    test.each(failing)("%s fails", (_label, check, change, message) => {
        const problems = check("web", { ...good, ...change } as ContainerProps);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(message);
    });

    test.each([
        ["a tag", "prom/prometheus:v2.53.3"],
        ["a registry with a port and a tag", "registry.example.org:5000/team/app:1.2.0"],
        ["a digest", `grafana/grafana@sha256:${"a".repeat(64)}`],
        ["a local image ID", `sha256:${"b".repeat(64)}`],
    ])("an image pinned by %s passes", (_label, image) => {
        expect(checkPinnedImage("web", { ...good, image })).toEqual([]);
    });

    test("the allow-list admits cAdvisor, by name, with a reason", () => {
        expect(checkPrivileged("exporters-cadvisor", { ...good, privileged: true })).toEqual([]);
        expect(privilegedAllowList["exporters-cadvisor"]).toMatch(/cgroups/);
        expect(checkPrivileged("exporters-cadvisor", { ...good, privileged: true }, {})).toHaveLength(1);
    });
});

describe("the policy pack's policies", () => {
    const validate = (type: string, name: string, props: ContainerProps) => {
        const reports: Record<string, string[]> = {};
        for (const policy of guardrailPolicies()) {
            const report = (message: string) => (reports[policy.name] ??= []).push(message);
            (policy.validateResource as (args: unknown, report: (m: string) => void) => void)({ type, name, props }, report);
        }
        return reports;
    };

    test("are all mandatory and cover the seven guardrails", () => {
        expect(guardrailPolicies().map((p) => [p.name, p.enforcementLevel])).toEqual(containerChecks.map((c) => [c.name, "mandatory"]));
        expect(containerChecks).toHaveLength(7);
    });

    test("stay quiet during preview about a locally built image whose ID is not known yet, and still check the rest", () => {
        // The policy engine hands unknown values behind a proxy that throws on access; the
        // sentinel for an unknown string is internal to @pulumi/policy, hence the require.
        const { unknownStringValue } = require("@pulumi/policy/proxy") as { unknownStringValue: string };
        const props = unknownCheckingProxy({ ...good, image: unknownStringValue, memory: undefined }) as ContainerProps;
        const reports = validate(containerType, "app-replica-0", props);
        expect(reports["container-pinned-image"]).toBeUndefined();
        expect(reports["container-resource-limits"]).toEqual(["app-replica-0: no memory limit (memory in MB)"]);
    });

    test("report every violation of a container to the engine, under the policy's name", () => {
        const reports = validate(containerType, "bad", { image: "redis:latest", privileged: true, ports: [{ internal: 6379, external: 6379, ip: "0.0.0.0" }] });
        expect(Object.keys(reports).sort()).toEqual(containerChecks.map((c) => c.name).sort());
    });

    test("leave other resource types alone", () => {
        expect(validate("docker:index/volume:Volume", "data", {})).toEqual({});
    });
});

describe("the program obeys every guardrail", () => {
    const configs: [string, Record<string, string>][] = [
        ["default config", {}],
        ["public Grafana, a prebuilt app image, backups on the host, 4 replicas", {
            publicGrafana: "true", appImage: "registry.example.org/clinical-bdd:1.2.0", backupHostPath: "/srv/backups", replicas: "4",
        }],
    ];
    test.each(configs)("%s: no container violates any policy", async (_label, config) => {
        const run: ProgramRun = await runProgram(config);
        const containers = run.byType(containerType);
        expect(containers.length).toBeGreaterThanOrEqual(11);
        const problems = containers.flatMap((c) => containerChecks.flatMap((check) => check.check(c.name, c.inputs as ContainerProps)));
        expect(problems).toEqual([]);
        // The allow-list is not a blank cheque: cAdvisor is the only privileged container.
        expect(containers.filter((c) => c.inputs.privileged).map((c) => c.name)).toEqual(["exporters-cadvisor"]);
    });
});
