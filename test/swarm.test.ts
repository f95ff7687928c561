import { convergeCommand } from "../targets/swarm/convergence";
import { diffRuns, mockGenerated, ProgramRun, runProgram } from "./helpers/pulumiProgram";
import { deletesWhileInUse, plannedReplacements } from "./helpers/replacementPlan";

/**
 * The Swarm target on Pulumi's mocks: which services, configs and secrets the program
 * declares with `platform: swarm`, and what each operator's config change does to them.
 * A docker.Service is updated in place for every field but its name (the provider's
 * ForceNew), so "updated" below is a rolling service update; configs and secrets are
 * immutable and content-named, so a change replaces them (create first, delete last).
 */

const SERVICE = "docker:index/service:Service";
const CONFIG = "docker:index/serviceConfig:ServiceConfig";
const SECRET = "docker:index/secret:Secret";
const COMMAND = "command:local:Command";
const swarm = { platform: "swarm", appImage: "registry.example.org/clinical-bdd:1.2.0" };

let base: ProgramRun;
beforeAll(async () => {
    base = await runProgram(swarm);
}, 120_000);

const service = (run: ProgramRun, name: string) => run.one(SERVICE, name).inputs;
const configText = (run: ProgramRun, name: string) => Buffer.from(run.one(CONFIG, name).inputs.data, "base64").toString("utf8");

interface SwarmEffect {
    replaced: string[];
    updated: string[];
    added: string[];
    removed: string[];
}

function swarmEffect(before: ProgramRun, after: ProgramRun): SwarmEffect {
    const diff = diffRuns(before, after);
    const effect: SwarmEffect = { replaced: [], updated: [], added: diff.added.map((k) => k.split("::")[1]), removed: diff.removed.map((k) => k.split("::")[1]) };
    for (const change of diff.changed) {
        const [type, name] = change.key.split("::");
        // The convergence waits re-run with their services (checked apart, below).
        if (type === COMMAND) continue;
        // Service: only `name` forces a new one; configs, secrets, keys and passwords are replaced.
        if (type === SERVICE && !change.fields.includes("name")) effect.updated.push(name);
        else if (type === "tls:index/selfSignedCert:SelfSignedCert" && change.fields.every((f) => f === "earlyRenewalHours")) effect.updated.push(name);
        else effect.replaced.push(name);
    }
    for (const list of Object.values(effect)) list.sort();
    return effect;
}

describe("platform swarm on Pulumi's mocks", () => {
    test("declares services, not containers: the app replicated, exporters on every node, stateful services pinned to the data node", () => {
        expect(base.byType("docker:index/container:Container")).toEqual([]);
        const modes = Object.fromEntries(base.byType(SERVICE).map((s) => [s.name, s.inputs.mode]));
        expect(modes).toEqual({
            app: { replicated: { replicas: 2 } },
            "front-door-nginx": { replicated: { replicas: 2 } },
            "front-door-edge": { global: true },
            "metrics-prometheus": { replicated: { replicas: 1 } },
            "alerting-alertmanager": { replicated: { replicas: 1 } },
            "dashboards-grafana": { replicated: { replicas: 1 } },
            "backups-job": { replicated: { replicas: 1 } },
            "exporters-node-exporter": { global: true },
            "exporters-cadvisor": { global: true },
            "exporters-nginx-exporter": { replicated: { replicas: 1 } },
            "exporters-blackbox-exporter": { replicated: { replicas: 1 } },
        });
        for (const name of ["metrics-prometheus", "alerting-alertmanager", "dashboards-grafana", "backups-job"]) {
            expect({ name, placement: service(base, name).taskSpec.placement }).toEqual({ name, placement: { constraints: ["node.labels.clinicalbdd.data==true"] } });
            expect({ name, order: service(base, name).updateConfig.order }).toEqual({ name, order: "stop-first" });
        }
        expect(service(base, "front-door-edge").taskSpec.placement).toEqual({ constraints: ["node.labels.clinicalbdd.edge==true"] });
        expect(service(base, "front-door-nginx").taskSpec.placement).toEqual({ constraints: ["node.labels.clinicalbdd.edge==true"] });
    });

    test("the app: limits of 2 GB and 2 CPUs, reservations of 256 MB and 0.25 CPU (what placing a task needs), restart policy, json-file rotation, the healthcheck", () => {
        const app = service(base, "app");
        const mb = 1024 * 1024;
        expect(app.taskSpec.resources).toEqual({ limits: { memoryBytes: 2048 * mb, nanoCpus: 2e9 }, reservation: { memoryBytes: 256 * mb, nanoCpus: 0.25e9 } });
        expect(app.taskSpec.restartPolicy).toEqual({ condition: "any", delay: "5s", maxAttempts: 0, window: "0s" });
        expect(app.taskSpec.logDriver).toEqual({ name: "json-file", options: { "max-size": "100m", "max-file": "5" } });
        expect(app.taskSpec.containerSpec.healthcheck).toMatchObject({ interval: "10s", timeout: "5s", retries: 3, startPeriod: "20s" });
        expect(app.taskSpec.containerSpec.readOnly).toBe(true);
        expect(app.taskSpec.containerSpec.user).toBe("10001:10001");
    });

    test("updates one task at a time, start-first, monitored longer than the healthcheck needs to fail, rolled back on failure", () => {
        const app = service(base, "app");
        // start period 20 s + 4 checks 10 s apart + the last check's 5 s timeout = 65 s.
        expect(app.updateConfig).toEqual({ parallelism: 1, delay: "0s", monitor: "1m5s", maxFailureRatio: "0.0", order: "start-first", failureAction: "rollback" });
        expect(app.rollbackConfig).toEqual({ ...app.updateConfig, failureAction: "pause" });
    });

    test("up waits for each replicated service to converge with the program's own wait, which names the tasks' reason; not the provider's, which deletes what it created", () => {
        const waits = base.byType(COMMAND).filter((c) => c.name.endsWith("-converged"));
        const replicated = base.byType(SERVICE).filter((s) => s.inputs.mode.replicated && s.name !== "backups-job").map((s) => s.name);
        expect(waits.map((c) => c.name.replace(/-converged$/, "")).sort()).toEqual(replicated.sort());
        for (const s of base.byType(SERVICE)) expect({ name: s.name, convergeConfig: s.inputs.convergeConfig }).toEqual({ name: s.name, convergeConfig: undefined });
        const app = base.one(COMMAND, "app-converged");
        expect(app.inputs.create).toBe(convergeCommand("test-app"));
        expect(app.inputs.triggers).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
        expect((app.opts.dependsOn as { __name?: string }[]).map((d) => d.__name)).toEqual(["app"]);
    });

    test("the wait runs again exactly when its service's spec changes", async () => {
        const trigger = (run: ProgramRun, name: string) => run.one(COMMAND, `${name}-converged`).inputs.triggers[0];
        const scaled = await runProgram({ ...swarm, replicas: "3" });
        expect(trigger(scaled, "app")).not.toBe(trigger(base, "app"));
        expect(trigger(scaled, "front-door-nginx")).toBe(trigger(base, "front-door-nginx"));
    });

    test("a reservation above its limit fails naming both keys", async () => {
        await expect(runProgram({ ...swarm, appCpus: "0.5", appCpuReservation: "1" })).rejects.toThrow(/appCpuReservation: got "1"; allowed: at most appCpus \(0.5\)/);
        await expect(runProgram({ ...swarm, appMemoryMb: "512", appMemoryReservationMb: "1024" })).rejects.toThrow(/appMemoryReservationMb: got "1024"; allowed: at most appMemoryMb \(512\)/);
    });

    test("host mode: the edge proxy publishes 80 and 443 on the edge nodes, stop-first; nothing else publishes a port", () => {
        const edge = service(base, "front-door-edge");
        expect(edge.endpointSpec).toEqual({
            mode: "dnsrr",
            ports: [
                { targetPort: 80, publishedPort: 80, protocol: "tcp", publishMode: "host" },
                { targetPort: 443, publishedPort: 443, protocol: "tcp", publishMode: "host" },
            ],
        });
        expect(edge.updateConfig.order).toBe("stop-first");
        const publishing = base.byType(SERVICE).filter((s) => s.inputs.endpointSpec.ports.length > 0).map((s) => s.name);
        expect(publishing).toEqual(["front-door-edge"]);
    });

    test("host mode: the front-door nginx behind the edge rolls start-first on the overlay, with PROXY-protocol listeners for the edge", () => {
        const nginx = service(base, "front-door-nginx");
        expect(nginx.updateConfig.order).toBe("start-first");
        expect(nginx.endpointSpec).toEqual({ mode: "dnsrr", ports: [] });
        const conf = configText(base, "front-door-nginx-nginx.conf");
        expect(conf).toContain("listen 8443 ssl http2 default_server proxy_protocol;");
        expect(conf).toContain("real_ip_header proxy_protocol;");
        const edgeConf = configText(base, "front-door-edge-nginx.conf");
        expect(edgeConf).toContain("set $front_door tasks.nginx:8443;");
        expect(edgeConf).toContain("proxy_protocol on;");
        // Nothing in it varies with a setting, so no config change restarts the edge.
        expect(edgeConf).not.toMatch(/ssl_certificate|client_max_body_size/);
    });

    test("swarmPublishMode ingress: the routing mesh publishes nginx itself (no edge proxy), start-first", async () => {
        const run = await runProgram({ ...swarm, swarmPublishMode: "ingress" });
        const nginx = service(run, "front-door-nginx");
        expect(run.byType(SERVICE).map((s) => s.name)).not.toContain("front-door-edge");
        expect(nginx.mode).toEqual({ replicated: { replicas: 2 } });
        expect(nginx.updateConfig.order).toBe("start-first");
        expect(nginx.endpointSpec.mode).toBe("vip");
        expect(nginx.endpointSpec.ports.map((p: { publishMode: string }) => p.publishMode)).toEqual(["ingress", "ingress"]);
        expect(configText(run, "front-door-nginx-nginx.conf")).not.toContain("proxy_protocol");
    });

    test("files are configs named by content hash; the key, passwords and app secrets are Swarm secrets", () => {
        const names = (type: string) => base.byType(type).map((r) => r.inputs.name as string);
        expect(names(CONFIG).every((n) => /-[0-9a-f]{12}$/.test(n))).toBe(true);
        expect(base.byType(SECRET).map((s) => s.name).sort()).toEqual(
            ["alerting-alertmanager-alertmanager.yml", "app-encryption_key", "app-jwt_secret", "app-secret_key", "dashboards-grafana-admin_password", "front-door-nginx-key.pem"].sort(),
        );
        const nginxSecrets = service(base, "front-door-nginx").taskSpec.containerSpec.secrets;
        expect(nginxSecrets).toEqual([expect.objectContaining({ fileName: "/etc/nginx/tls/key.pem", fileMode: 0o400 })]);
    });

    test("no secret value in a service, a config, a label or an output that is not marked secret", () => {
        const secretValues = ["app-secrets-secret-key", "app-secrets-jwt-secret", "app-secrets-encryption-key", "dashboards-admin-password", "tls-key"].map(mockGenerated);
        const visible = JSON.stringify([...base.byType(SERVICE), ...base.byType(CONFIG)].map((r) => r.inputs));
        const decodedConfigs = base.byType(CONFIG).map((c) => Buffer.from(c.inputs.data, "base64").toString("utf8")).join("\n");
        for (const value of secretValues) {
            expect({ value, inServices: visible.includes(value), inConfigs: decodedConfigs.includes(value) }).toEqual({ value, inServices: false, inConfigs: false });
        }
        for (const [key, output] of Object.entries(base.outputs)) {
            if (!output.secret) expect({ key, leaks: secretValues.some((v) => JSON.stringify(output.value).includes(v)) }).toEqual({ key, leaks: false });
        }
    });

    test("Prometheus finds the app's tasks and the exporter on every node by DNS (tasks.<service>)", () => {
        const config = base.byType(CONFIG).find((c) => c.name === "metrics-prometheus-prometheus.yml");
        const text = Buffer.from(config?.inputs.data, "base64").toString("utf8");
        for (const name of ["tasks.app", "tasks.node-exporter", "tasks.cadvisor"]) expect(text).toContain(`- ${name}`);
    });

    test("the same stack outputs as on one host", async () => {
        const docker = await runProgram();
        expect(Object.keys(base.outputs).sort()).toEqual(Object.keys(docker.outputs).sort());
        expect(base.outputs.grafanaAdminPassword.secret).toBe(true);
    });

    test("without appImage it fails naming the key: a local build exists on one node only", async () => {
        await expect(runProgram({ platform: "swarm" })).rejects.toThrow(/appImage: got ""; allowed: an image reference every Swarm node can pull/);
    });

    test("an unknown platform fails naming the key", async () => {
        await expect(runProgram({ platform: "kubernetes" })).rejects.toThrow(/platform: got "kubernetes"; allowed: docker \(one host\) or swarm/);
    });
});

describe("scaling under swarm", () => {
    test("replicas 1 and 3 differ only in the app service's replica count and the replica alert's threshold (a new rules config, Prometheus updated)", async () => {
        const one = await runProgram({ ...swarm, replicas: "1" });
        const three = await runProgram({ ...swarm, replicas: "3" });
        expect(service(one, "app").mode).toEqual({ replicated: { replicas: 1 } });
        expect(service(three, "app").mode).toEqual({ replicated: { replicas: 3 } });
        expect(swarmEffect(one, three)).toEqual({ added: [], removed: [], updated: ["app", "metrics-prometheus"], replaced: ["metrics-prometheus-clinical-bdd-alerts.yml"] });
        const { mode: _m1, ...appOne } = service(one, "app");
        const { mode: _m3, ...appThree } = service(three, "app");
        expect(appThree).toEqual(appOne);
    });
});

/** Each change of test/changes.test.ts's table, under swarm: what it replaces (immutable objects) and updates (services, rolling). */
const cases: { label: string; config: Record<string, string>; expected: SwarmEffect }[] = [
    { label: "appMemoryMb 2048 → 1024", config: { appMemoryMb: "1024" }, expected: { added: [], removed: [], replaced: [], updated: ["app"] } },
    { label: "appCpus 2.0 → 1.5", config: { appCpus: "1.5" }, expected: { added: [], removed: [], replaced: [], updated: ["app"] } },
    { label: "appImage → 1.2.1", config: { appImage: "registry.example.org/clinical-bdd:1.2.1" }, expected: { added: [], removed: [], replaced: [], updated: ["app"] } },
    {
        label: "tlsRotation 0 → 1",
        config: { tlsRotation: "1" },
        expected: { added: [], removed: [], replaced: ["front-door-nginx-cert.pem", "front-door-nginx-key.pem", "tls-cert", "tls-key"], updated: ["front-door-nginx"] },
    },
    {
        label: "tlsValidityDays 365 → 90",
        config: { tlsValidityDays: "90" },
        expected: { added: [], removed: [], replaced: ["front-door-nginx-cert.pem", "tls-cert"], updated: ["front-door-nginx"] },
    },
    {
        label: "tlsRenewBeforeDays 30 → 10",
        config: { tlsRenewBeforeDays: "10" },
        expected: { added: [], removed: [], replaced: ["metrics-prometheus-clinical-bdd-alerts.yml"], updated: ["metrics-prometheus", "tls-cert"] },
    },
    {
        label: "maxBodyMb 2 → 10",
        config: { maxBodyMb: "10" },
        expected: { added: [], removed: [], replaced: ["front-door-nginx-nginx.conf"], updated: ["app", "front-door-nginx"] },
    },
    {
        label: "requestTimeoutSeconds 300 → 60",
        config: { requestTimeoutSeconds: "60" },
        expected: { added: [], removed: [], replaced: ["front-door-nginx-nginx.conf"], updated: ["app", "front-door-nginx"] },
    },
    {
        label: "grafanaPasswordRotation 0 → 1",
        config: { grafanaPasswordRotation: "1" },
        expected: { added: [], removed: [], replaced: ["dashboards-admin-password", "dashboards-grafana-admin_password"], updated: ["dashboards-grafana"] },
    },
    { label: "prometheusRetention 200h → 15d", config: { prometheusRetention: "15d" }, expected: { added: [], removed: [], replaced: [], updated: ["metrics-prometheus"] } },
    {
        label: "alert receivers: e-mail via SMTP and a webhook",
        config: { alertEmailTo: "oncall@example.org", smtpSmarthost: "smtp.example.org:587", smtpUsername: "alertmanager" },
        expected: { added: ["alerting-alertmanager-smtp_password"], removed: [], replaced: ["alerting-alertmanager-alertmanager.yml"], updated: ["alerting-alertmanager"] },
    },
    {
        label: "backupRetention 48 → 96, backupIntervalMinutes 60 → 30",
        config: { backupRetention: "96", backupIntervalMinutes: "30" },
        expected: { added: [], removed: [], replaced: [], updated: ["backups-job"] },
    },
    // The edge runs the same nginx image: an upgrade restarts it, stop-first (two edge nodes keep the site up).
    { label: "nginxImage 1.27.3 → 1.27.4", config: { nginxImage: "nginx:1.27.4-alpine" }, expected: { added: [], removed: [], replaced: [], updated: ["front-door-edge", "front-door-nginx"] } },
];

describe("each config change under swarm: new configs and secrets, services updated, none replaced", () => {
    test.each(cases.map((c) => [c.label, c] as const))("%s", async (_label, c) => {
        const secrets: Record<string, string> = c.label.startsWith("alert receivers") ? { smtpPassword: "smtp-secret-value", alertWebhookUrl: "https://hooks.example.org/T0/B0/secret-token" } : {};
        const after = await runProgram({ ...swarm, ...c.config }, secrets);
        const effect = swarmEffect(base, after);
        expect(effect).toEqual(c.expected);
        expect(effect.replaced.filter((name) => base.byType(SERVICE).some((s) => s.name === name))).toEqual([]);
        // up waits for every updated replicated service, and for no other.
        const waited = diffRuns(base, after).changed.map((c) => c.key.split("::")).filter(([type]) => type === COMMAND).map(([, name]) => name.replace(/-converged$/, ""));
        const replicated = (name: string) => service(after, name).mode.replicated !== undefined && name !== "backups-job";
        expect(waited.sort()).toEqual(effect.updated.filter((name) => after.byType(SERVICE).some((s) => s.name === name) && replicated(name)));
        // As the provider, the bridge and the engine decide it: every replaced config and secret is created first.
        expect(deletesWhileInUse(base, after)).toEqual([]);
        expect(plannedReplacements(base, after).filter((p) => p.deleteFirst).map((p) => p.resource.name)).toEqual([]);
    });
});
