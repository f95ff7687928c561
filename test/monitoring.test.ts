import * as fs from "fs";
import * as https from "https";
import type { AddressInfo } from "net";
import * as path from "path";
import { parse, stringify } from "yaml";
import {
    alertFor,
    alertRuleGroups,
    alertRulesFileName,
    productionGuideThresholds,
    renderAlertRules,
} from "../monitoring/prometheus/alertRules";
import { alertReceivers, renderAlertmanagerConfig } from "../monitoring/alertmanager/alertmanagerConfig";
import { renderBlackboxConfig } from "../monitoring/exporters/blackboxConfig";
import {
    dashboardFiles,
    prometheusDatasourceUid,
    renderGrafanaDashboardProvider,
    renderGrafanaDatasources,
} from "../monitoring/grafana/grafanaProvisioning";
import { PrometheusPaths, prometheusArgs, renderPrometheusConfig } from "../monitoring/prometheus/prometheusConfig";
import { parseSettings, Settings } from "../components/platform/settings";
import { dockerScrapeTargets, ScrapeTargets, swarmScrapeTargets } from "../components/platform/topology";
import {
    appMetricNames,
    dashboardExprs,
    exporterMetricLists,
    grafanaExprToPromQL,
    metricNamesIn,
    ruleTestsDir,
    ruleTestCoverage,
    ruleTestFiles,
    rulesForUnitTests,
    startBlackboxExporter,
} from "./helpers/monitoringTools";
import { Supervisor } from "../rehearsal/processes";
import { makeTempDir, runTool, startOnLoopback, writeSelfSignedCertificate } from "./helpers/tools";

const settingsWith = (values: Record<string, string> = {}): Settings => parseSettings((key) => values[key]);
const defaults = settingsWith();

const loopbackTargets: ScrapeTargets = {
    app: { dnsName: "app.rehearsal.test", port: 18000 },
    nginxExporter: "127.0.0.1:19113",
    nodeExporter: "127.0.0.1:19100",
    blackboxExporter: "127.0.0.1:19115",
    healthUrl: "https://127.0.0.1:18443/health",
    alertmanager: "127.0.0.1:19093",
    prometheus: "127.0.0.1:19090",
};

const pathsIn = (dir: string): PrometheusPaths => ({
    configFile: path.join(dir, "prometheus.yml"),
    rulesDir: path.join(dir, "rules"),
    storageDir: path.join(dir, "data"),
});

/** Writes prometheus.yml and the rules it loads into `dir`; returns the config file. */
function writePrometheusFiles(dir: string, settings: Settings, targets: ScrapeTargets): string {
    const paths = pathsIn(dir);
    fs.mkdirSync(paths.rulesDir, { recursive: true });
    fs.writeFileSync(path.join(paths.rulesDir, alertRulesFileName), renderAlertRules(settings));
    fs.writeFileSync(paths.configFile, renderPrometheusConfig(settings, targets, paths));
    return paths.configFile;
}

let tmp: ReturnType<typeof makeTempDir>;
let servers: Supervisor;
beforeAll(() => {
    tmp = makeTempDir("monitoring");
    servers = new Supervisor(tmp.dir);
});
afterAll(async () => {
    await servers.stopAll();
    tmp.cleanup();
});

/** A fresh directory inside this run's temp dir. */
function subdir(name: string): string {
    const dir = path.join(tmp.dir, name.replace(/[^A-Za-z0-9_.-]+/g, "-"));
    fs.mkdirSync(dir, { recursive: true });
    return dir;
}

describe("prometheus.yml and the alert rules, checked by Debian's promtool", () => {
    const cases: [string, Settings, ScrapeTargets][] = [
        ["Docker targets, defaults", defaults, dockerScrapeTargets()],
        ["Swarm targets (tasks.<service> by DNS), platform=swarm", settingsWith({ platform: "swarm", appImage: "registry.example.org/clinical-bdd:1.2.0" }), swarmScrapeTargets()],
        ["loopback targets without cAdvisor, replicas=3", settingsWith({ replicas: "3", tlsRenewBeforeDays: "14" }), loopbackTargets],
    ];
    test.each(cases)("%s: promtool check config accepts it and the rules it loads", (label, settings, targets) => {
        const config = writePrometheusFiles(subdir(`prometheus-${label}`), settings, targets);
        const { code, output } = runTool("promtool", ["check", "config", config]);
        expect({ file: config, code, output }).toEqual({ file: config, code: 0, output: expect.stringMatching(/SUCCESS: 1 rule files found/) });
        expect(output).toMatch(/SUCCESS: \d+ rules found/);
    });

    test("promtool check rules rejects a broken rule (the check is real)", () => {
        const file = path.join(subdir("broken-rules"), "broken.yml");
        fs.writeFileSync(file, stringify({ groups: [{ name: "x", rules: [{ alert: "Broken", expr: "sum(up" }] }] }));
        expect(runTool("promtool", ["check", "rules", file]).code).not.toBe(0);
    });

    const config = (targets: ScrapeTargets = dockerScrapeTargets()) =>
        parse(renderPrometheusConfig(defaults, targets)) as {
            global: Record<string, unknown>;
            rule_files: string[];
            alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
            scrape_configs: Record<string, any>[];
        };
    const job = (name: string, targets?: ScrapeTargets) => config(targets).scrape_configs.find((j) => j.job_name === name);

    test("scrapes and evaluates every 15 s, loads the rules directory, alerts Alertmanager", () => {
        const c = config();
        expect(c.global).toMatchObject({ scrape_interval: "15s", evaluation_interval: "15s" });
        expect(c.rule_files).toEqual(["/etc/prometheus/rules/*.yml"]);
        expect(c.alerting.alertmanagers[0].static_configs[0].targets).toEqual(["alertmanager:9093"]);
    });

    test("finds the app replicas by DNS A records of the alias, so scaling needs no config change", () => {
        expect(job("app")).toEqual({
            job_name: "app",
            dns_sd_configs: [{ names: ["app"], type: "A", port: 3000, refresh_interval: "15s" }],
        });
    });

    test("scrapes nginx's exporter, node-exporter, cAdvisor, Alertmanager and itself", () => {
        const targetsOf = (name: string) => job(name)?.static_configs?.[0]?.targets;
        expect(targetsOf("nginx")).toEqual(["nginx-exporter:9113"]);
        expect(targetsOf("node")).toEqual(["node-exporter:9100"]);
        expect(targetsOf("cadvisor")).toEqual(["cadvisor:8080"]);
        expect(targetsOf("alertmanager")).toEqual(["alertmanager:9093"]);
        expect(targetsOf("prometheus")).toEqual(["prometheus:9090"]);
        expect(job("cadvisor", loopbackTargets)).toBeUndefined();
    });

    test("probes the health URL over HTTPS through the blackbox exporter", () => {
        const blackbox = job("blackbox");
        expect(blackbox).toMatchObject({
            metrics_path: "/probe",
            params: { module: ["http_2xx"] },
            static_configs: [{ targets: ["https://nginx:443/health"] }],
        });
        expect(blackbox?.relabel_configs).toEqual([
            { source_labels: ["__address__"], target_label: "__param_target" },
            { source_labels: ["__param_target"], target_label: "instance" },
            { target_label: "__address__", replacement: "blackbox-exporter:9115" },
        ]);
    });

    test("prometheusArgs: retention from the settings, reload and snapshot APIs on", () => {
        expect(prometheusArgs(defaults)).toEqual([
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            "--storage.tsdb.retention.time=200h",
            "--web.listen-address=0.0.0.0:9090",
            "--web.enable-lifecycle",
            "--web.enable-admin-api",
        ]);
        const custom = prometheusArgs(settingsWith({ prometheusRetention: "15d" }), pathsIn("/r"), "127.0.0.1:19090");
        expect(custom).toContain("--storage.tsdb.retention.time=15d");
        expect(custom).toContain("--config.file=/r/prometheus.yml");
        expect(custom).toContain("--web.listen-address=127.0.0.1:19090");
    });
});

describe("Debian's prometheus runs with prometheusArgs and the rendered files", () => {
    let base: string;
    const targets: ScrapeTargets = { ...loopbackTargets, healthUrl: "https://127.0.0.1:18443/health" };
    beforeAll(async () => {
        const dir = subdir("prometheus-live");
        writePrometheusFiles(dir, defaults, targets);
        base = await startOnLoopback(servers, "prometheus", "prometheus", (listen) => prometheusArgs(defaults, pathsIn(dir), listen), "/-/ready");
    }, 30_000);
    afterAll(() => servers.stop("prometheus"));

    const api = async (pathAndQuery: string, method = "GET") => {
        const response = await fetch(`${base}${pathAndQuery}`, { method, signal: AbortSignal.timeout(10_000) });
        if (!response.ok) throw new Error(`${method} ${pathAndQuery}: ${response.status} ${await response.text()}\n${servers.logTail("prometheus")}`);
        return response.headers.get("content-type")?.includes("json") ? ((await response.json()) as any) : await response.text();
    };

    test("loads every alert rule", async () => {
        const groups = (await api("/api/v1/rules")).data.groups as { rules: { name: string }[] }[];
        const loaded = groups.flatMap((g) => g.rules.map((r) => r.name)).sort();
        expect(loaded).toEqual(alertRuleGroups(defaults).flatMap((g) => g.rules.map((r) => r.alert)).sort());
    });

    test("keeps samples for the configured retention", async () => {
        // Prometheus prints the flag back normalised (200h as 8d8h).
        const hours = (duration: string) =>
            [...duration.matchAll(/(\d+)(y|w|d|h)/g)].reduce((sum, [, n, unit]) => sum + Number(n) * { y: 8760, w: 168, d: 24, h: 1 }[unit as "y"], 0);
        expect(hours((await api("/api/v1/status/flags")).data["storage.tsdb.retention.time"])).toBe(200);
    });

    test("the blackbox job probes the health URL through the exporter", async () => {
        // The scrape manager picks up discovered targets a few seconds after start.
        type Target = { labels: Record<string, string>; scrapeUrl: string };
        const deadline = Date.now() + 15_000;
        let probe: Target | undefined;
        while (!probe && Date.now() < deadline) {
            const active = (await api("/api/v1/targets")).data.activeTargets as Target[];
            probe = active.find((t) => t.labels.job === "blackbox");
            if (!probe) await new Promise((r) => setTimeout(r, 250));
        }
        expect(probe?.labels.instance).toBe(targets.healthUrl);
        expect(probe?.scrapeUrl).toBe(`http://${targets.blackboxExporter}/probe?module=http_2xx&target=${encodeURIComponent(targets.healthUrl)}`);
    });

    test("reloads without a restart (--web.enable-lifecycle) and takes snapshots (--web.enable-admin-api)", async () => {
        await api("/-/reload", "POST");
        expect((await api("/api/v1/admin/tsdb/snapshot", "POST")).status).toBe("success");
    });
});

describe("the alert rules", () => {
    const rules = alertRuleGroups(defaults).flatMap((g) => g.rules);
    const byName = (name: string) => {
        const rule = rules.find((r) => r.alert === name);
        if (!rule) throw new Error(`no alert rule ${name}`);
        return rule;
    };

    test.each(rules.map((r) => [r.alert, r] as const))("%s has a for, a severity, a summary and a runbook step", (_name, rule) => {
        expect(rule.for).toBe(alertFor);
        expect(["critical", "warning"]).toContain(rule.labels.severity);
        expect(rule.annotations.summary.length).toBeGreaterThan(10);
        expect(rule.annotations.description).toMatch(/`(npm run [a-z]+|pulumi (up|config set)|df -h)[^`]*`/);
    });

    test("implement the production guide's numbers", () => {
        expect(productionGuideThresholds).toEqual({
            serviceDownFor: "5m",
            memoryUsedRatio: 0.9,
            errorRatio: 0.05,
            responseTimeSeconds: 10,
            slowP95Seconds: 5,
            diskUsedRatio: 0.85,
        });
        expect(byName("AppDown").for).toBe("5m");
        expect(byName("ContainerMemoryHigh").expr).toMatch(/container_memory_working_set_bytes.*container_spec_memory_limit_bytes.*> 0\.9$/);
        expect(byName("HostMemoryHigh").expr).toMatch(/> 0\.9$/);
        expect(byName("HighErrorRate").expr).toMatch(/status=~"5\.\."[\s\S]*> 0\.05$/);
        expect(byName("HighResponseTime").expr).toMatch(/histogram_quantile\(0\.95,[\s\S]*> 10$/);
        expect(byName("SlowResponses").expr).toMatch(/histogram_quantile\(0\.95,[\s\S]*> 5$/);
        expect(byName("HostDiskFull").expr).toMatch(/> 0\.85$/);
    });

    test("take the replica count and the renew window from the settings", () => {
        const custom = alertRuleGroups(settingsWith({ replicas: "5", tlsRenewBeforeDays: "14" })).flatMap((g) => g.rules);
        expect(custom.find((r) => r.alert === "AppReplicasBelowConfigured")?.expr).toMatch(/< 5$/);
        expect(custom.find((r) => r.alert === "TlsCertificateExpiringSoon")?.expr).toMatch(/< 14$/);
        expect(byName("AppReplicasBelowConfigured").expr).toMatch(/< 2$/);
    });
});

describe("promtool test rules: every alert fires and stays silent at its boundaries", () => {
    let dir: string;
    beforeAll(() => {
        dir = subdir("rule-tests");
        for (const file of ruleTestFiles()) fs.copyFileSync(path.join(ruleTestsDir, file), path.join(dir, file));
        fs.writeFileSync(path.join(dir, alertRulesFileName), rulesForUnitTests(renderAlertRules(defaults)));
    });

    test("the test files' assumptions hold: they were written for the default settings", () => {
        expect({ replicas: defaults.replicas, renewBeforeDays: defaults.tls.renewBeforeDays }).toEqual({ replicas: 2, renewBeforeDays: 30 });
    });

    test.each(ruleTestFiles())("monitoring/prometheus/tests/%s passes", (file) => {
        const { code, output } = runTool("promtool", ["test", "rules", path.join(dir, file)]);
        if (code !== 0) throw new Error(`promtool test rules monitoring/prometheus/tests/${file} failed:\n${output}`);
    });

    test("every alert has its own test file with a firing and a silent case", () => {
        const problems: string[] = [];
        for (const rule of alertRuleGroups(defaults).flatMap((g) => g.rules)) {
            const file = `${rule.alert}.test.yml`;
            if (!ruleTestFiles().includes(file)) {
                problems.push(`${rule.alert}: no monitoring/prometheus/tests/${file}`);
                continue;
            }
            const covered = ruleTestCoverage(path.join(ruleTestsDir, file)).get(rule.alert);
            if (!covered?.fires) problems.push(`${rule.alert}: monitoring/prometheus/tests/${file} has no case where it fires`);
            if (!covered?.silent) problems.push(`${rule.alert}: monitoring/prometheus/tests/${file} has no case where it stays silent`);
        }
        expect(problems).toEqual([]);
    });
});

describe("alertmanager.yml, checked by Debian's amtool", () => {
    const email = { alertEmailTo: "ops@example.org", smtpSmarthost: "smtp.example.org:587", smtpUsername: "alertmanager" };
    const webhookUrl = "https://hooks.example.org/services/T000/B000/XXXX";
    const cases: [string, Settings, { webhookUrl?: string; smtpPasswordFile?: string }][] = [
        ["no receivers configured", defaults, {}],
        ["webhook only", defaults, { webhookUrl }],
        ["e-mail only, with SMTP auth", settingsWith(email), { smtpPasswordFile: "/run/secrets/smtp-password" }],
        ["webhook and e-mail", settingsWith(email), { webhookUrl, smtpPasswordFile: "/run/secrets/smtp-password" }],
    ];
    const write = (label: string, settings: Settings, secrets: { webhookUrl?: string; smtpPasswordFile?: string }) => {
        const file = path.join(subdir(`alertmanager-${label}`), "alertmanager.yml");
        fs.writeFileSync(file, renderAlertmanagerConfig(settings, secrets));
        return file;
    };
    const receiverFor = (file: string, labels: string[]) => {
        const { code, output } = runTool("amtool", ["config", "routes", "test", `--config.file=${file}`, ...labels]);
        if (code !== 0) throw new Error(`amtool config routes test ${file}: ${output}`);
        // amtool 0.25 also warns that --config.file overrides --alertmanager.url; the receiver is the other line.
        return output.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("Warning:")).join("\n").trim();
    };

    test.each(cases)("%s: amtool check-config accepts it", (label, settings, secrets) => {
        const file = write(label, settings, secrets);
        const { code, output } = runTool("amtool", ["check-config", file]);
        expect({ file, code, output }).toEqual({ file, code: 0, output: expect.stringMatching(/SUCCESS/) });
    });

    test("critical alerts go to every receiver, warnings to e-mail", () => {
        const file = write("routing", settingsWith(email), { webhookUrl, smtpPasswordFile: "/run/secrets/smtp-password" });
        expect(receiverFor(file, ["alertname=AppDown", "severity=critical"])).toBe(alertReceivers.critical);
        expect(receiverFor(file, ["alertname=SlowResponses", "severity=warning"])).toBe(alertReceivers.warning);
        const receivers = (parse(fs.readFileSync(file, "utf8")) as { receivers: Record<string, unknown[]>[] }).receivers;
        const critical = receivers.find((r) => r.name === (alertReceivers.critical as unknown));
        expect(critical?.webhook_configs).toHaveLength(1);
        expect(critical?.email_configs).toHaveLength(1);
    });

    test("with no receiver configured, everything goes to the null receiver", () => {
        const file = write("null", defaults, {});
        expect(receiverFor(file, ["alertname=AppDown", "severity=critical"])).toBe("null");
        expect((parse(fs.readFileSync(file, "utf8")) as { receivers: unknown[] }).receivers).toEqual([{ name: "null" }]);
    });

    test("critical: first notification within 5 minutes of firing, repeated hourly; grouped by alert name", () => {
        const route = (parse(renderAlertmanagerConfig(defaults, { webhookUrl })) as { route: any }).route;
        expect(route.group_by).toEqual(["alertname"]);
        const critical = route.routes.find((r: any) => r.matchers.includes('severity="critical"'));
        expect(critical).toMatchObject({ group_wait: "30s", repeat_interval: "1h" });
        const warning = route.routes.find((r: any) => r.matchers.includes('severity="warning"'));
        expect(warning).toMatchObject({ repeat_interval: "12h" });
    });

    test("the SMTP password stays in its file; no field Alertmanager 0.25 lacks", () => {
        const text = renderAlertmanagerConfig(settingsWith(email), { webhookUrl, smtpPasswordFile: "/run/secrets/smtp-password" });
        expect(text).toContain("auth_password_file: /run/secrets/smtp-password");
        expect(text).not.toMatch(/auth_password:|url_file|&a\d|\*a\d/);
    });
});

describe("blackbox.yml, checked by Debian's blackbox exporter", () => {
    test.each([
        ["without a CA (verification skipped)", false],
        ["with the certificate as its CA", true],
    ])("%s: --config.check accepts it", (label, withCa) => {
        const dir = subdir(`blackbox-${label}`);
        const caFile = withCa ? writeSelfSignedCertificate(dir, ["localhost"]).cert : undefined;
        const file = path.join(dir, "blackbox.yml");
        fs.writeFileSync(file, renderBlackboxConfig(defaults, { caFile }));
        const { code, output } = runTool("prometheus-blackbox-exporter", ["--config.check", `--config.file=${file}`]);
        expect({ file, code, output }).toEqual({ file, code: 0, output: expect.stringMatching(/Config file is ok/) });
    });

    describe("probing a real HTTPS server on loopback", () => {
        let dir: string;
        let tls: { cert: string; key: string };
        let server: https.Server;
        let target: string;
        let body = "";
        let contentType = "application/json";
        beforeAll(async () => {
            dir = subdir("blackbox-live");
            tls = writeSelfSignedCertificate(dir, ["localhost", "127.0.0.1"]);
            server = https.createServer({ cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) }, (_req, res) => {
                res.writeHead(200, { "Content-Type": contentType });
                res.end(body);
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            target = `https://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
        });
        afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

        const probeWith = async (caFile: string | undefined, served: { body: string; contentType: string }) => {
            body = served.body;
            contentType = served.contentType;
            const file = path.join(dir, caFile ? "blackbox-ca.yml" : "blackbox.yml");
            fs.writeFileSync(file, renderBlackboxConfig(defaults, { caFile }));
            const exporter = await startBlackboxExporter(servers, file);
            try {
                return await exporter.probe(target);
            } finally {
                await exporter.stop();
            }
        };
        const healthy = { body: JSON.stringify({ checks: { generator: { status: "pass" } }, status: "ok", version: "1.0" }), contentType: "application/json" };

        test("a healthy JSON answer over a self-signed certificate succeeds and reports the expiry", async () => {
            const samples = await probeWith(undefined, healthy);
            expect(samples.get("probe_success")).toBe(1);
            const daysLeft = ((samples.get("probe_ssl_earliest_cert_expiry") ?? 0) - Date.now() / 1000) / 86400;
            expect(daysLeft).toBeGreaterThan(29);
            expect(daysLeft).toBeLessThan(31);
        });

        test("with the certificate as CA, the probe verifies it for settings.domain and succeeds", async () => {
            expect((await probeWith(tls.cert, healthy)).get("probe_success")).toBe(1);
        });

        test("an unhealthy or non-JSON answer fails the probe even with status 200", async () => {
            const failing = { body: JSON.stringify({ status: "fail" }), contentType: "application/json" };
            expect((await probeWith(undefined, failing)).get("probe_success")).toBe(0);
            expect((await probeWith(undefined, { body: "<html>ok</html>", contentType: "text/html" })).get("probe_success")).toBe(0);
        });
    });

    test("http_2xx: HTTPS only, IPv4 first, SNI of the domain, a JSON body", () => {
        const module = (parse(renderBlackboxConfig(settingsWith({ domain: "bdd.example.org" }))) as any).modules.http_2xx;
        expect(module.prober).toBe("http");
        expect(module.http).toMatchObject({
            preferred_ip_protocol: "ip4",
            fail_if_not_ssl: true,
            tls_config: { insecure_skip_verify: true, server_name: "bdd.example.org" },
        });
    });
});

describe("every PromQL expression parses and reads metrics that really exist", () => {
    const dashboards = dashboardFiles();
    const ruleExprs = alertRuleGroups(defaults)
        .flatMap((g) => g.rules)
        .map((r) => ({ where: `rule ${r.alert} (monitoring/prometheus/alertRules.ts)`, expr: r.expr }));
    const panelExprs = dashboardExprs(dashboards).map((d) => ({
        where: `dashboard monitoring/grafana/dashboards/${d.dashboard}, panel "${d.panel}" ${d.refId}`,
        expr: grafanaExprToPromQL(d.expr),
    }));

    test("the dashboards have expressions to check", () => {
        expect(panelExprs.length).toBeGreaterThan(10);
    });

    test.each(panelExprs.map((e) => [e.where, e.expr]))("%s: promtool parses it", (where, expr) => {
        const file = path.join(subdir("dashboard-exprs"), `${where.replace(/[^A-Za-z0-9]+/g, "-")}.yml`);
        fs.writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules: [{ record: "dashboard:expr", expr }] }] }));
        const { code, output } = runTool("promtool", ["check", "rules", file]);
        if (code !== 0) throw new Error(`${where}: promtool cannot parse ${expr}\n${output}`);
    });

    test("the lexer finds metric names and nothing else", () => {
        expect(
            metricNamesIn(
                'sum by (le) (rate(a_bucket{job="app",le=~"1e3"}[5m] offset 1m)) / on (instance) group_left (x) max(b) > 0.9 and c or vector(1e3)',
            ).sort(),
        ).toEqual(["a_bucket", "b", "c"]);
    });

    test("the app exports every clinical_bdd_* metric we read (names read from the app itself)", () => {
        const fromApp = new Set(appMetricNames());
        // The backup job's clinical_bdd_backup_* come through node-exporter (exporter-metrics/backup-job.txt).
        const fromExporters = new Set([...exporterMetricLists().values()].flatMap((s) => [...s]));
        const wanted = [...ruleExprs, ...panelExprs].flatMap((e) =>
            metricNamesIn(e.expr)
                .filter((n) => n.startsWith("clinical_bdd_") && !fromExporters.has(n))
                .map((n) => ({ ...e, name: n })),
        );
        expect(wanted.length).toBeGreaterThan(0);
        const missing = wanted.filter((w) => !fromApp.has(w.name)).map((w) => `${w.where}: ${w.name}`);
        expect(missing).toEqual([]);
    });

    test("every other metric is in an exporter's list (monitoring/exporters/exporter-metrics/*.txt)", () => {
        const lists = exporterMetricLists();
        const known = new Set([...lists.values()].flatMap((s) => [...s]));
        const unknown = [...ruleExprs, ...panelExprs].flatMap((e) =>
            metricNamesIn(e.expr)
                .filter((n) => !n.startsWith("clinical_bdd_") && !known.has(n))
                .map((n) => `${e.where}: ${n} is in none of ${[...lists.keys()].join(", ")}`),
        );
        expect(unknown).toEqual([]);
    });
});

describe("Grafana provisioning", () => {
    test("the Prometheus datasource: uid prometheus, default, through Grafana's proxy", () => {
        expect(parse(renderGrafanaDatasources("http://prometheus:9090"))).toEqual({
            apiVersion: 1,
            datasources: [
                {
                    name: "Prometheus",
                    uid: "prometheus",
                    type: "prometheus",
                    access: "proxy",
                    url: "http://prometheus:9090",
                    isDefault: true,
                    editable: false,
                    jsonData: { timeInterval: "15s" },
                },
            ],
        });
    });

    test("the dashboard provider loads the files from the given directory", () => {
        const provider = (parse(renderGrafanaDashboardProvider("/var/lib/grafana/dashboards")) as any).providers[0];
        expect(provider).toMatchObject({ type: "file", options: { path: "/var/lib/grafana/dashboards" }, allowUiUpdates: false });
    });

    test("dashboardFiles returns every dashboard as valid JSON with a fixed uid", () => {
        const files = dashboardFiles();
        expect(files.map((f) => f.name)).toContain("platform-overview.json");
        for (const f of files) {
            const dashboard = JSON.parse(f.content) as { uid?: string; title?: string };
            expect({ file: f.name, uid: typeof dashboard.uid, title: typeof dashboard.title }).toEqual({ file: f.name, uid: "string", title: "string" });
        }
    });

    test("the platform overview shows what the issue lists, every panel on the provisioned datasource", () => {
        const file = dashboardFiles().find((f) => f.name === "platform-overview.json");
        const dashboard = JSON.parse(file?.content ?? "{}") as { uid: string; title: string; panels: any[] };
        expect(dashboard.uid).toBe("clinical-bdd-overview");
        expect(dashboard.title).toBe("Clinical BDD Creator — platform overview");
        const titles = dashboard.panels.map((p) => p.title);
        expect(titles).toEqual(
            expect.arrayContaining([
                "Request rate",
                "Error rate (5xx share)",
                "Latency p50 / p95 / p99",
                "In-flight requests vs concurrency limit",
                "Replicas up",
                "Container CPU vs limit",
                "Container memory vs limit",
                "Host disk used",
                "Certificate days left",
                "Alerts firing",
            ]),
        );
        const exprs = JSON.stringify(dashboard.panels);
        for (const needle of ["histogram_quantile(0.5,", "histogram_quantile(0.95,", "histogram_quantile(0.99,", "clinical_bdd_max_concurrent_requests", "ALERTS"]) {
            expect(exprs).toContain(needle);
        }
        const offDatasource = dashboard.panels
            .flatMap((p) => [{ title: p.title, ds: p.datasource }, ...p.targets.map((t: any) => ({ title: `${p.title} ${t.refId}`, ds: t.datasource }))])
            .filter((x) => x.ds?.uid !== prometheusDatasourceUid)
            .map((x) => x.title);
        expect(offDatasource).toEqual([]);
        expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    });
});
