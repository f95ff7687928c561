import * as fs from "fs";
import { certificateExpiry } from "../components/frontDoor/tlsCertificate";
import { DeclaredResource, dependencyNames, diffRuns, mockGenerated, ProgramRun, runProgram, secretFilesRequest } from "./helpers/pulumiProgram";
import { makeTempDir, writeSelfSignedCertificate } from "./helpers/tools";

const CONTAINER = "docker:index/container:Container";
const isAppReplica = (r: DeclaredResource) => r.type === CONTAINER && /^app-replica-\d+$/.test(r.name);
const containers = (run: ProgramRun) => run.byType(CONTAINER);

describe("the platform on Pulumi's mocks, default config", () => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram();
    });

    test("declares two app replicas, nginx, Prometheus, Alertmanager, Grafana, four exporters and the backup job", () => {
        expect(containers(run).map((c) => c.name).sort()).toEqual([
            "alerting-alertmanager", "app-replica-0", "app-replica-1", "backups-job", "dashboards-grafana",
            "exporters-blackbox-exporter", "exporters-cadvisor", "exporters-nginx-exporter", "exporters-node-exporter",
            "front-door-nginx", "metrics-prometheus",
        ]);
    });

    test.each(["memory", "cpus", "healthcheck", "restart", "logOpts"])("every container sets %s", (field) => {
        const missing = containers(run).filter((c) => c.inputs[field] === undefined).map((c) => c.name);
        expect(missing).toEqual([]);
    });

    test("every container rotates json-file logs at 100m x 5, restarts unless stopped, and has no-new-privileges", () => {
        for (const c of containers(run)) {
            expect({ name: c.name, driver: c.inputs.logDriver, opts: c.inputs.logOpts }).toEqual({
                name: c.name, driver: "json-file", opts: { "max-size": "100m", "max-file": "5" },
            });
            expect({ name: c.name, restart: c.inputs.restart }).toEqual({ name: c.name, restart: "unless-stopped" });
            // A privileged container also declares label=disable, which the engine adds and reads back.
            const expected = c.inputs.privileged ? ["no-new-privileges:true", "label=disable"] : ["no-new-privileges:true"];
            expect({ name: c.name, securityOpts: c.inputs.securityOpts }).toEqual({ name: c.name, securityOpts: expected });
        }
    });

    test("each app replica gets 2048 MB, 2 CPUs, a non-root user, a read-only root and the alias app", () => {
        for (const r of run.resources.filter(isAppReplica)) {
            expect({ name: r.name, memory: r.inputs.memory, cpus: r.inputs.cpus, user: r.inputs.user, readOnly: r.inputs.readOnly })
                .toEqual({ name: r.name, memory: 2048, cpus: "2.0", user: "10001:10001", readOnly: true });
            expect(r.inputs.networksAdvanced[0].aliases).toEqual(["app"]);
            // A replaced replica is stopped gracefully (gunicorn drains), not killed.
            expect({ stop: r.inputs.stopTimeout, destroyGrace: r.inputs.destroyGraceSeconds }).toEqual({ stop: 35, destroyGrace: 35 });
            expect(r.inputs.wait).toBe(true);
        }
    });

    test("containers whose files are pushed later are waited for until healthy, so the first reload finds them serving", () => {
        const waited = containers(run).filter((c) => c.inputs.wait === true).map((c) => c.name).sort();
        expect(waited).toEqual([
            "alerting-alertmanager", "app-replica-0", "app-replica-1", "dashboards-grafana",
            "exporters-blackbox-exporter", "front-door-nginx", "metrics-prometheus",
        ]);
    });

    test("only 80 and 443 are published on all interfaces; monitoring binds to 127.0.0.1", () => {
        const published = containers(run).flatMap((c) => (c.inputs.ports ?? []).map((p: any) => ({ name: c.name, ip: p.ip, external: p.external })));
        expect(published.filter((p) => p.ip === "0.0.0.0").map((p) => p.external).sort()).toEqual([443, 80]);
        expect(published.filter((p) => p.ip !== "0.0.0.0")).toEqual([
            { name: "metrics-prometheus", ip: "127.0.0.1", external: 9090 },
            { name: "alerting-alertmanager", ip: "127.0.0.1", external: 9093 },
            { name: "dashboards-grafana", ip: "127.0.0.1", external: 3001 },
        ].sort((a, b) => published.findIndex((p) => p.name === a.name) - published.findIndex((p) => p.name === b.name)));
    });

    test("the generated certificate carries the domain and localhost, 365 days, renewal 30 days before expiry", () => {
        const cert = run.one("tls:index/selfSignedCert:SelfSignedCert", "tls-cert");
        expect(cert.inputs.dnsNames).toEqual(expect.arrayContaining(["localhost", "nginx"]));
        expect(cert.inputs.validityPeriodHours).toBe(365 * 24);
        expect(cert.inputs.earlyRenewalHours).toBe(30 * 24);
        expect(cert.opts.replacementTrigger).toBe(0);
    });

    test("Grafana's admin password comes from @pulumi/random through GF_SECURITY_ADMIN_PASSWORD__FILE", () => {
        const password = run.one("random:index/randomPassword:RandomPassword", "dashboards-admin-password");
        expect(password.inputs.length).toBeGreaterThanOrEqual(24);
        const grafana = run.one(CONTAINER, "dashboards-grafana");
        expect(grafana.inputs.envs).toContain("GF_SECURITY_ADMIN_PASSWORD__FILE=/etc/grafana/secrets/admin_password");
        expect(grafana.inputs.envs).toEqual(expect.arrayContaining(["GF_USERS_ALLOW_SIGN_UP=false", "GF_AUTH_ANONYMOUS_ENABLED=false"]));
        const file = grafana.inputs.uploads.find((u: any) => u.file === "/etc/grafana/secrets/admin_password");
        expect(file.content).toBe(mockGenerated("dashboards-admin-password"));
        expect(file.permissions).toBe("0400");
    });

    test("the app's secrets reach it as files in a read-only volume written by the daemon, generated when not configured", () => {
        const replica = run.one(CONTAINER, "app-replica-0");
        for (const name of ["SECRET_KEY", "JWT_SECRET", "ENCRYPTION_KEY"]) {
            expect(replica.inputs.envs).toContain(`${name}_FILE=/run/secrets/${name.toLowerCase()}`);
        }
        // Unset provider keys get no file and no variable: Docker refuses an empty upload.
        expect(replica.inputs.envs.join(" ")).not.toMatch(/OPENAI|ANTHROPIC/);
        // The read-only root refuses uploads, so the replica has none; the volume is mounted read-only.
        expect(replica.inputs.uploads).toEqual([]);
        expect(replica.inputs.volumes).toContainEqual(expect.objectContaining({ containerPath: "/run/secrets", readOnly: true }));
        const secretKey = secretFilesRequest(run).files.find((f: { path: string }) => f.path === "secret_key");
        expect(secretKey).toMatchObject({ content: mockGenerated("app-secrets-secret-key"), mode: "0400", owner: "10001" });
    });

    test("the stack outputs name the URLs, the expiry and the replica count; the password output is secret", () => {
        expect(run.outputs.healthUrl.value).toBe("https://localhost/health");
        expect(run.outputs.appUrl.value).toBe("https://localhost/");
        expect(run.outputs.grafanaUrl.value).toBe("http://127.0.0.1:3001/");
        expect(run.outputs.prometheusUrl.value).toBe("http://127.0.0.1:9090/");
        expect(run.outputs.replicas.value).toBe(2);
        expect(run.outputs.certificateExpiresAt.value).toBe("2027-11-28T00:00:00.000Z");
        expect(run.outputs.grafanaAdminPassword).toEqual({ value: mockGenerated("dashboards-admin-password"), secret: true });
    });

    test("data volumes are kept by destroy and have stack-scoped names", () => {
        const volumes = run.byType("docker:index/volume:Volume").filter((v) => v.name.endsWith("-data"));
        expect(volumes.map((v) => v.inputs.name).sort()).toEqual([
            "clinical-bdd-creator-test-alertmanager-data", "clinical-bdd-creator-test-grafana-data", "clinical-bdd-creator-test-prometheus-data",
        ]);
        for (const v of volumes) expect({ name: v.name, retain: v.opts.retainOnDelete }).toEqual({ name: v.name, retain: true });
    });
});

describe("backups", () => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram();
    });
    const mounts = (c: DeclaredResource) =>
        (c.inputs.volumes as any[]).map((v) => ({ source: v.volumeName ?? v.hostPath, at: v.containerPath, readOnly: v.readOnly }));

    test("every container carries the stack's and its service's labels, by which the operator's verbs find it", () => {
        for (const c of containers(run)) {
            const labels = Object.fromEntries((c.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));
            // App replicas also carry the version of the secret files they read at start.
            const { "clinicalbdd.secrets-version": secretsVersion, ...rest } = labels;
            expect({ name: c.name, labels: rest }).toEqual({ name: c.name, labels: { "clinicalbdd.stack": "test", "clinicalbdd.service": c.inputs.networksAdvanced[0].aliases[0] } });
            expect({ name: c.name, versioned: secretsVersion !== undefined }).toEqual({ name: c.name, versioned: isAppReplica(c) });
        }
        expect(run.one(CONTAINER, "backups-job").inputs.labels).toContainEqual({ label: "clinicalbdd.service", value: "backup" });
    });

    test("the job backs up hourly, keeps 48, reads Grafana read-only, and writes into a retained volume", () => {
        const job = run.one(CONTAINER, "backups-job");
        expect(job.inputs.envs).toEqual(expect.arrayContaining([
            "BACKUP_INTERVAL_MINUTES=60", "BACKUP_RETENTION=48", "PROMETHEUS_URL=http://prometheus:9090",
            "BACKUP_DIR=/backups", "GRAFANA_DATA_DIR=/data/grafana", "PROMETHEUS_DATA_DIR=/data/prometheus", "BACKUP_TEXTFILE_DIR=/textfile",
        ]));
        expect(mounts(job)).toEqual([
            { source: "clinical-bdd-creator-test-grafana-data", at: "/data/grafana", readOnly: true },
            { source: "clinical-bdd-creator-test-prometheus-data", at: "/data/prometheus", readOnly: false },
            { source: "backups-metrics-docker-name", at: "/textfile", readOnly: false },
            { source: "clinical-bdd-creator-test-backups", at: "/backups", readOnly: false },
        ]);
        expect(run.one("docker:index/volume:Volume", "backups-archives").opts.retainOnDelete).toBe(true);
        expect(run.one("docker:index/image:Image", "backups-image").inputs.build.context).toMatch(/\/backup$/);
        expect(run.outputs.backupLocation.value).toBe("clinical-bdd-creator-test-backups");
        expect(run.one(CONTAINER, "metrics-prometheus").inputs.command).toContain("--web.enable-admin-api");
    });

    test("node-exporter reads the job's metrics volume as its textfile directory", () => {
        const node = run.one(CONTAINER, "exporters-node-exporter");
        expect(node.inputs.command).toContain("--collector.textfile.directory=/textfile");
        expect(mounts(node)).toContainEqual({ source: "backups-metrics-docker-name", at: "/textfile", readOnly: true });
    });

    test("backupHostPath puts the archives in that host directory, writable, and declares no backup volume", async () => {
        const custom = await runProgram({ backupHostPath: "/srv/clinical-bdd/backups", backupIntervalMinutes: "30", backupRetention: "96" });
        const job = custom.one(CONTAINER, "backups-job");
        expect(mounts(job)).toContainEqual({ source: "/srv/clinical-bdd/backups", at: "/backups", readOnly: false });
        expect(job.inputs.envs).toEqual(expect.arrayContaining(["BACKUP_INTERVAL_MINUTES=30", "BACKUP_RETENTION=96"]));
        expect(custom.resources.find((r) => r.name === "backups-archives")).toBeUndefined();
        expect(custom.outputs.backupLocation.value).toBe("/srv/clinical-bdd/backups");
    });
});

describe("secrets never appear in plain text", () => {
    const given = { secretKey: "given-secret-key-value", jwtSecret: "given-jwt-value", openaiApiKey: "sk-given-openai", smtpPassword: "given-smtp-password", alertWebhookUrl: "https://hooks.example.org/given-token" };
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram({ alertEmailTo: "oncall@example.org", smtpSmarthost: "smtp.example.org:587" }, given);
    });
    const secretValues = () => [...Object.values(given), mockGenerated("dashboards-admin-password"), mockGenerated("app-secrets-encryption-key"), mockGenerated("tls-key")];

    test("no container environment, command or label holds a secret value", () => {
        for (const c of containers(run)) {
            const visible = JSON.stringify({ envs: c.inputs.envs, command: c.inputs.command, labels: c.inputs.labels });
            for (const value of secretValues()) expect({ container: c.name, leaks: visible.includes(value) }).toEqual({ container: c.name, leaks: false });
        }
    });

    test("no stack output holds a secret value unless it is marked secret", () => {
        for (const [key, output] of Object.entries(run.outputs)) {
            if (output.secret) continue;
            for (const value of secretValues()) expect({ output: key, leaks: JSON.stringify(output.value).includes(value) }).toEqual({ output: key, leaks: false });
        }
    });

    test("configured secrets win over generated ones and land in 0400 files", () => {
        const file = (path: string) => secretFilesRequest(run).files.find((f: { path: string }) => f.path === path);
        expect(file("secret_key")).toMatchObject({ content: "given-secret-key-value", mode: "0400", owner: "10001" });
        expect(file("openai_api_key")).toMatchObject({ content: "sk-given-openai", mode: "0400" });
        expect(run.one(CONTAINER, "app-replica-0").inputs.envs).toContain("OPENAI_API_KEY_FILE=/run/secrets/openai_api_key");
    });
});

describe("scaling changes only app containers", () => {
    let one: ProgramRun;
    let three: ProgramRun;
    beforeAll(async () => {
        one = await runProgram({ replicas: "1" });
        three = await runProgram({ replicas: "3" });
    });

    test("replicas 1 and 3 give exactly that many app containers", () => {
        expect(one.resources.filter(isAppReplica).map((r) => r.name)).toEqual(["app-replica-0"]);
        expect(three.resources.filter(isAppReplica).map((r) => r.name)).toEqual(["app-replica-0", "app-replica-1", "app-replica-2"]);
    });

    test("nothing else is added, removed or replaced; only the replica alert's threshold is reloaded into Prometheus", () => {
        const diff = diffRuns(one, three);
        expect(diff.added).toEqual([`${CONTAINER}::app-replica-1`, `${CONTAINER}::app-replica-2`]);
        expect(diff.removed).toEqual([]);
        // The alert "fewer replicas up than configured" needs the number; the rules file is
        // pushed into the running Prometheus and reloaded, its container ignores the upload.
        expect(diff.changed).toEqual([
            { key: `${CONTAINER}::metrics-prometheus`, fields: ["uploads"], ignored: true },
            { key: "command:local:Command::metrics-config-push", fields: ["stdin", "triggers"], ignored: false },
        ]);
    });

    test("replicas are created one after another, so a rollout replaces them one at a time", () => {
        const deps = (name: string) => dependencyNames(three.one(CONTAINER, name));
        expect(deps("app-replica-0")).toEqual(["app-secret-files"]);
        expect(deps("app-replica-1")).toEqual(["app-secret-files", "app-replica-0"]);
        expect(deps("app-replica-2")).toEqual(["app-secret-files", "app-replica-1"]);
    });
});

describe("config changes reach the resources that own them", () => {
    test("renewal window and validity reach the certificate; tlsRotation is its replacement trigger", async () => {
        const run = await runProgram({ tlsValidityDays: "90", tlsRenewBeforeDays: "10", tlsRotation: "3" });
        const cert = run.one("tls:index/selfSignedCert:SelfSignedCert", "tls-cert");
        expect(cert.inputs.validityPeriodHours).toBe(90 * 24);
        expect(cert.inputs.earlyRenewalHours).toBe(10 * 24);
        expect(cert.opts.replacementTrigger).toBe(3);
        expect(run.one("tls:index/privateKey:PrivateKey", "tls-key").opts.replacementTrigger).toBe(3);
    });

    test("limits and concurrency reach every app replica", async () => {
        const run = await runProgram({ appMemoryMb: "1024", appCpus: "1.5", maxConcurrentRequests: "4", requestTimeoutSeconds: "60" });
        for (const r of run.resources.filter(isAppReplica)) {
            expect(r.inputs.memory).toBe(1024);
            expect(r.inputs.cpus).toBe("1.5");
            expect(r.inputs.envs).toEqual(expect.arrayContaining(["MAX_CONCURRENT_REQUESTS=4", "REQUEST_TIMEOUT_SECONDS=60"]));
        }
    });

    test("publicGrafana serves Grafana under /grafana/ and says so in grafanaUrl", async () => {
        const run = await runProgram({ publicGrafana: "true", domain: "bdd.example.org" });
        expect(run.outputs.grafanaUrl.value).toBe("https://bdd.example.org/grafana/");
        expect(run.one(CONTAINER, "dashboards-grafana").inputs.envs).toContain("GF_SERVER_ROOT_URL=https://bdd.example.org/grafana/");
    });

    test("an operator's certificate replaces the generated one, and its expiry is reported", async () => {
        const tmp = makeTempDir("operator-cert");
        const files = writeSelfSignedCertificate(tmp.dir, ["bdd.example.org"], 10);
        const pem = fs.readFileSync(files.cert, "utf8");
        tmp.cleanup();
        const run = await runProgram({}, { tlsCertificate: pem, tlsPrivateKey: "operator-key" });
        const daysLeft = (Date.parse(run.outputs.certificateExpiresAt.value as string) - Date.now()) / 86_400_000;
        expect(Math.round(daysLeft)).toBe(10);
        const nginx = run.one(CONTAINER, "front-door-nginx");
        const upload = (path: string) => nginx.inputs.uploads.find((u: any) => u.file === path).content;
        expect(upload("/etc/nginx/tls/cert.pem")).toBe(pem);
        expect(upload("/etc/nginx/tls/key.pem")).toBe("operator-key");
    });
});

test("an operator's certificate that is not PEM fails naming the key", () => {
    expect(() => certificateExpiry("not a certificate")).toThrow(/clinical-bdd-creator:tlsCertificate: not a PEM X\.509 certificate/);
});

describe("a bad config value fails before anything is declared, naming the key", () => {
    const cases: [string, Record<string, string>, RegExp][] = [
        ["replicas 0", { replicas: "0" }, /clinical-bdd-creator:replicas: got "0"; allowed: an integer from 1 to 20/],
        ["replicas three", { replicas: "three" }, /clinical-bdd-creator:replicas: got "three"; allowed: an integer/],
        ["memory below gunicorn's need", { appMemoryMb: "128" }, /appMemoryMb: got "128"; allowed: an integer from 256/],
        ["CPUs not a number", { appCpus: "two" }, /appCpus: got "two"; allowed: a decimal number/],
        ["CPUs finer than the engine reads back", { appCpus: "0.25" }, /appCpus: got "0.25"; allowed: a decimal number from 0.2 to 64 with at most 1 decimal place/],
        ["an invalid domain", { domain: "bad_domain!" }, /domain: got "bad_domain!"; allowed: a DNS name/],
        ["renew window longer than validity", { tlsValidityDays: "30", tlsRenewBeforeDays: "45" }, /tlsRenewBeforeDays: got "45"; allowed: fewer days than tlsValidityDays \(30\)/],
        ["an unpinned image", { nginxImage: "nginx:latest" }, /nginxImage: got "nginx:latest"; allowed: an image reference with a pinned tag/],
        ["monitoring on all interfaces", { monitoringBindAddress: "0.0.0.0" }, /monitoringBindAddress: got "0.0.0.0"/],
        ["two services on one port", { grafanaPort: "443" }, /grafanaPort: got "443"; allowed: a port not already used by httpsPort/],
        ["a bad log size", { logMaxSize: "100MB" }, /logMaxSize: got "100MB"/],
        ["e-mail without a relay", { alertEmailTo: "oncall@example.org" }, /smtpSmarthost: got ""; allowed: host:port/],
        ["a backup interval of 0", { backupIntervalMinutes: "0" }, /backupIntervalMinutes: got "0"; allowed: an integer from 5 to 1440/],
        ["a backup interval over a day", { backupIntervalMinutes: "1441" }, /backupIntervalMinutes: got "1441"; allowed: an integer from 5 to 1440/],
        ["a retention that is not a number", { backupRetention: "many" }, /backupRetention: got "many"; allowed: an integer from 1 to 10000/],
        ["a relative backup path", { backupHostPath: "backups" }, /backupHostPath: got "backups"; allowed: empty, or an absolute host directory/],
        ["the root as backup path", { backupHostPath: "/" }, /backupHostPath: got "\/"; allowed: empty, or an absolute host directory other than \//],
        ["a backup path that climbs", { backupHostPath: "/srv/../etc" }, /backupHostPath: got "\/srv\/..\/etc"/],
    ];
    test.each(cases)("%s", async (_label, config, message) => {
        await expect(runProgram(config)).rejects.toThrow(message);
    });

    test("every bad key is reported at once", async () => {
        await expect(runProgram({ replicas: "0", appMemoryMb: "1" })).rejects.toThrow(/replicas[\s\S]*appMemoryMb/);
    });
});
