import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderAlertmanagerConfig } from "../monitoring/alertmanager/alertmanagerConfig";
import { alertRulesFileName, renderAlertRules } from "../monitoring/prometheus/alertRules";
import { renderBlackboxConfig } from "../monitoring/exporters/blackboxConfig";
import { NginxFacts, renderNginxConf, resolverCacheSeconds } from "../components/frontDoor/nginxConf";
import { PrometheusPaths, prometheusArgs, renderPrometheusConfig } from "../monitoring/prometheus/prometheusConfig";
import { parseSettings, Settings } from "../components/platform/settings";
import type { ScrapeTargets } from "../components/platform/topology";
import { Answer, freePort, freePorts, randomLoopbackPrefix, request, RequestOptions, sleep } from "./net";
import { Supervisor } from "./processes";
import { LoopbackResolver } from "./resolver";
import { CertificateFiles, createAuthority, issueCertificate } from "./tls";

export const repoRoot = path.join(__dirname, "..");
export const appDir = path.join(repoRoot, "app");

export interface RehearsalOptions {
    /** Config values as `pulumi config set` would give them, over Pulumi.yaml's defaults. */
    readonly config?: Readonly<Record<string, string>>;
    /** App replicas started and published under `app`; default 2. */
    readonly replicas?: number;
    /** Start Prometheus, Alertmanager and the exporters; default true. */
    readonly monitoring?: boolean;
    /** Keep the working directory (configs, logs) after stop; default: REHEARSAL_KEEP=1. */
    readonly keepDir?: boolean;
    /** Progress lines go here; default nowhere. */
    readonly log?: (line: string) => void;
}

/** The loopback addresses and ports of one rehearsal. */
export interface RehearsalAddresses {
    /** nginx, Prometheus, Alertmanager and the exporters listen here, each on its own port. */
    readonly front: string;
    /** dnsmasq, on port 53. */
    readonly resolver: string;
    /** The port every replica listens on, each on its own address, as in Docker. */
    readonly appPort: number;
    readonly http: number;
    readonly https: number;
    readonly nginxStatus: number;
    readonly prometheus: number;
    readonly alertmanager: number;
    readonly nodeExporter: number;
    readonly nginxExporter: number;
    readonly blackboxExporter: number;
}

/** Most replicas a rehearsal can run (addresses .11 to .19 of its prefix). */
export const maxReplicas = 9;

/**
 * The platform rendered by the same renderers as the Pulumi program, run with the Debian
 * servers and the app's virtualenv on loopback. Only addresses, ports and paths differ
 * from the Docker deployment, and they are renderer inputs (NginxFacts, ScrapeTargets,
 * PrometheusPaths).
 */
export class Rehearsal {
    readonly supervisor: Supervisor;
    readonly certificate: CertificateFiles;
    private authority?: CertificateFiles;
    /** Replica indexes (1-based) currently running. */
    private readonly replicasUp = new Set<number>();
    private resolver?: LoopbackResolver;
    private certificateFingerprint = "";
    private nginxSettings: Settings;

    private constructor(
        readonly settings: Settings,
        readonly dir: string,
        readonly addresses: RehearsalAddresses,
        readonly prefix: string,
        private readonly options: RehearsalOptions,
    ) {
        this.supervisor = new Supervisor(this.path("logs"));
        this.certificate = { cert: this.path("tls", "cert.pem"), key: this.path("tls", "key.pem") };
        this.nginxSettings = settings;
    }

    /** Starts everything; on any failure stops what it started and rethrows. */
    static async start(options: RehearsalOptions = {}): Promise<Rehearsal> {
        const settings = parseSettings((key) => options.config?.[key]);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rehearsal-"));
        // nginx's workers run as nobody and must reach their temp directories.
        fs.chmodSync(dir, 0o755);
        for (const sub of ["logs", "tls", "nginx", "dns", "prometheus/rules", "prometheus/data", "alertmanager", "blackbox"]) {
            fs.mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o755 });
        }
        const prefix = randomLoopbackPrefix();
        const front = `${prefix}1`;
        const replicaAddresses = Array.from({ length: maxReplicas }, (_, i) => `${prefix}${11 + i}`);
        const [http, https, nginxStatus, prometheus, alertmanager, nodeExporter, nginxExporter, blackboxExporter] = await freePorts(front, 8);
        const addresses: RehearsalAddresses = {
            front,
            resolver: `${prefix}53`,
            appPort: await freePort(replicaAddresses),
            http, https, nginxStatus, prometheus, alertmanager, nodeExporter, nginxExporter, blackboxExporter,
        };
        const rehearsal = new Rehearsal(settings, dir, addresses, prefix, options);
        try {
            await rehearsal.startAll(options.replicas ?? 2, options.monitoring ?? true);
        } catch (error) {
            await rehearsal.stop();
            throw error;
        }
        return rehearsal;
    }

    path(...parts: string[]): string {
        return path.join(this.dir, ...parts);
    }

    replicaAddress(index: number): string {
        return `${this.prefix}${10 + index}`;
    }

    get httpsUrl(): string {
        return `https://${this.addresses.front}:${this.addresses.https}`;
    }

    get httpUrl(): string {
        return `http://${this.addresses.front}:${this.addresses.http}`;
    }

    get prometheusUrl(): string {
        return `http://${this.addresses.front}:${this.addresses.prometheus}`;
    }

    get alertmanagerUrl(): string {
        return `http://${this.addresses.front}:${this.addresses.alertmanager}`;
    }

    get fingerprint(): string {
        return this.certificateFingerprint;
    }

    /** The indexes of the running replicas, ascending. */
    get runningReplicas(): number[] {
        return [...this.replicasUp].sort((a, b) => a - b);
    }

    /** The PEM of the CA that issued nginx's certificate; clients trust it. */
    get caPem(): string {
        if (!this.authority) throw new Error("no certificate authority");
        return fs.readFileSync(this.authority.cert, "utf8");
    }

    get caFile(): string {
        if (!this.authority) throw new Error("no certificate authority");
        return this.authority.cert;
    }

    /** A request through nginx over HTTPS, verified against the rehearsal's CA for settings.domain. */
    https(pathAndQuery: string, options: RequestOptions = {}): Promise<Answer> {
        return request(`${this.httpsUrl}${pathAndQuery}`, { ca: this.caPem, servername: this.settings.domain, ...options });
    }

    private log(line: string): void {
        this.options.log?.(line);
    }

    private async startAll(replicas: number, monitoring: boolean): Promise<void> {
        this.log(`working directory ${this.dir}; loopback ${this.prefix}0/24`);
        this.authority = createAuthority(this.path("tls"));
        this.certificateFingerprint = issueCertificate(this.authority, this.certificate, this.certificateNames());
        const started = Array.from({ length: replicas }, (_, i) => i + 1);
        await Promise.all(started.map((index) => this.startReplica(index)));
        this.resolver = await LoopbackResolver.start(this.supervisor, this.addresses.resolver, this.path("dns"), this.dnsRecords(started));
        await this.startNginx();
        if (monitoring) await this.startMonitoring();
    }

    private certificateNames(): string[] {
        return [this.settings.domain, this.addresses.front];
    }

    /** The names the resolver answers, as Docker's network aliases would. */
    private dnsRecords(replicas: readonly number[]): Record<string, string[]> {
        return {
            app: replicas.map((index) => this.replicaAddress(index)),
            nginx: [this.addresses.front],
            prometheus: [this.addresses.front],
            alertmanager: [this.addresses.front],
        };
    }

    /** Starts replica `index` (gunicorn on its own address) and waits for its /health. */
    async startReplica(index: number, extraEnv: Readonly<Record<string, string>> = {}): Promise<void> {
        if (index < 1 || index > maxReplicas) throw new Error(`replica index ${index} is outside 1..${maxReplicas}`);
        const name = replicaName(index);
        const address = this.replicaAddress(index);
        const scratch = this.path(name);
        fs.rmSync(scratch, { recursive: true, force: true });
        fs.mkdirSync(path.join(scratch, "prometheus-multiproc"), { recursive: true });
        fs.mkdirSync(path.join(scratch, "slots"), { recursive: true });
        const app = this.settings.app;
        // The environment the Pulumi program gives each replica (components/app/appService.ts).
        const env: NodeJS.ProcessEnv = {
            PATH: process.env.PATH,
            LANG: "C.UTF-8",
            TMPDIR: scratch,
            PORT: String(this.addresses.appPort),
            GUNICORN_WORKERS: String(app.gunicornWorkers),
            MAX_CONCURRENT_REQUESTS: String(app.maxConcurrentRequests),
            REQUEST_TIMEOUT_SECONDS: String(app.requestTimeoutSeconds),
            GRACEFUL_TIMEOUT_SECONDS: "30",
            MAX_BODY_BYTES: String(app.maxBodyMb * 1024 * 1024),
            PROMETHEUS_MULTIPROC_DIR: path.join(scratch, "prometheus-multiproc"),
            CLINICAL_BDD_SLOT_DIR: path.join(scratch, "slots"),
            LOG_LEVEL: "warning",
            ...extraEnv,
        };
        const gunicorn = path.join(appDir, ".venv", "bin", "gunicorn");
        if (!fs.existsSync(gunicorn)) {
            throw new Error(`${gunicorn} is missing: create app/.venv with app/requirements.txt (npm test does)`);
        }
        // gunicorn.conf.py binds 0.0.0.0:$PORT; --bind on the command line overrides it, so each
        // replica has its own address and every replica the same port, as in Docker.
        const server = this.supervisor.start(name, gunicorn, ["-c", "gunicorn.conf.py", "--bind", `${address}:${this.addresses.appPort}`, "clinical_bdd.wsgi:app"], { cwd: appDir, env });
        this.replicasUp.add(index);
        void server.exited.then(() => this.replicasUp.delete(index));
        await this.waitReady(name, `http://${address}:${this.addresses.appPort}/health`, 30_000);
        this.log(`${name} up on ${address}:${this.addresses.appPort}`);
    }

    /** Stops replica `index` the way Docker stops a container: SIGTERM, in-flight requests finish. */
    async stopReplica(index: number): Promise<void> {
        await this.supervisor.stop(replicaName(index), 35_000);
        this.replicasUp.delete(index);
        this.log(`${replicaName(index)} stopped`);
    }

    /** Makes `app` resolve to exactly these replicas (Docker adds and removes a container's record). */
    /**
     * Makes `app` resolve to these replicas, and returns once every nginx worker has let its
     * cached answer expire (each keeps it for resolverCacheSeconds on its own), so nginx
     * sends requests to exactly these replicas from then on.
     */
    async publishReplicas(indexes: readonly number[]): Promise<void> {
        if (!this.resolver) throw new Error("the resolver is not running");
        await this.resolver.publish(this.dnsRecords(indexes));
        this.log(`app resolves to ${indexes.map((i) => this.replicaAddress(i)).join(", ")}`);
        await sleep((resolverCacheSeconds + 1) * 1000);
    }

    /**
     * Scales as `pulumi config set replicas N; pulumi up` does: new replicas start and become
     * healthy before they join `app`; removed replicas leave `app`, and stop gracefully once
     * nginx no longer sends them requests.
     */
    async scaleTo(count: number): Promise<void> {
        const current = this.runningReplicas;
        const wanted = Array.from({ length: count }, (_, i) => i + 1);
        for (const index of wanted.filter((i) => !current.includes(i))) await this.startReplica(index);
        await this.publishReplicas(wanted);
        const leaving = current.filter((i) => !wanted.includes(i));
        await Promise.all(leaving.map((index) => this.stopReplica(index)));
    }

    private nginxFacts(): NginxFacts {
        const a = this.addresses;
        const dir = this.path("nginx");
        return {
            resolver: a.resolver,
            appUpstream: `app:${a.appPort}`,
            grafanaUpstream: `grafana:3000`,
            listenHttp: `${a.front}:${a.http}`,
            listenHttps: `${a.front}:${a.https}`,
            listenStatus: `${a.front}:${a.nginxStatus}`,
            publicHttpsPort: a.https,
            certificateFile: this.certificate.cert,
            privateKeyFile: this.certificate.key,
            pidFile: path.join(dir, "nginx.pid"),
            tempDir: dir,
            accessLog: this.nginxAccessLog,
            errorLog: path.join(this.dir, "logs", "nginx-error.log"),
        };
    }

    get nginxAccessLog(): string {
        return this.path("logs", "nginx-access.log");
    }

    private get nginxConfFile(): string {
        return this.path("nginx", "nginx.conf");
    }

    /** Writes nginx.conf for `settings` and checks it with `nginx -t`. */
    private writeNginxConf(settings: Settings): void {
        const next = `${this.nginxConfFile}.next`;
        fs.writeFileSync(next, renderNginxConf(settings, this.nginxFacts()));
        const check = this.runNginx(["-t", "-q", "-c", next]);
        if (check.code !== 0) throw new Error(`nginx -t rejected the rendered nginx.conf:\n${check.output}`);
        fs.renameSync(next, this.nginxConfFile);
    }

    private runNginx(args: string[]): { code: number; output: string } {
        const result = spawnSync("nginx", ["-e", this.path("logs", "nginx-startup.log"), ...args], { encoding: "utf8", timeout: 30_000 });
        return { code: result.status ?? -1, output: `${result.stdout ?? ""}${result.stderr ?? ""}${result.error?.message ?? ""}` };
    }

    private async startNginx(): Promise<void> {
        this.writeNginxConf(this.nginxSettings);
        this.supervisor.start("nginx", "nginx", ["-e", this.path("logs", "nginx-startup.log"), "-c", this.nginxConfFile, "-g", "daemon off;"]);
        await this.waitReady("nginx", `${this.httpsUrl}/health`, 20_000);
        this.log(`nginx up: ${this.httpsUrl} and ${this.httpUrl}`);
    }

    /** SIGHUP to nginx's master: new workers with the files on disk, old ones finish their requests. */
    reloadNginx(): void {
        this.supervisor.signal("nginx", "SIGHUP");
    }

    /** Renders nginx.conf for other config values (a `pulumi config set`), checks it, reloads nginx. */
    reconfigureNginx(config: Readonly<Record<string, string>>): Settings {
        this.nginxSettings = parseSettings((key) => config[key] ?? this.options.config?.[key]);
        this.writeNginxConf(this.nginxSettings);
        this.reloadNginx();
        return this.nginxSettings;
    }

    /** Issues a new certificate over the old files and reloads nginx (the renewal path); returns its fingerprint. */
    replaceCertificate(): string {
        if (!this.authority) throw new Error("no certificate authority");
        this.certificateFingerprint = issueCertificate(this.authority, this.certificate, this.certificateNames());
        const check = this.runNginx(["-t", "-q", "-c", this.nginxConfFile]);
        if (check.code !== 0) throw new Error(`nginx -t failed with the new certificate:\n${check.output}`);
        this.reloadNginx();
        return this.certificateFingerprint;
    }

    /** The scrape targets as the rehearsal's Prometheus sees them. */
    scrapeTargets(): ScrapeTargets {
        const a = this.addresses;
        const at = (port: number): string => `${a.front}:${port}`;
        return {
            app: { dnsName: "app", port: a.appPort },
            nginxExporter: at(a.nginxExporter),
            nodeExporter: at(a.nodeExporter),
            blackboxExporter: at(a.blackboxExporter),
            healthUrl: `${this.httpsUrl}/health`,
            alertmanager: at(a.alertmanager),
            prometheus: at(a.prometheus),
        };
    }

    private async startMonitoring(): Promise<void> {
        const a = this.addresses;
        const at = (port: number): string => `${a.front}:${port}`;
        this.supervisor.start("nginx-exporter", "prometheus-nginx-exporter", [
            `-nginx.scrape-uri=http://${at(a.nginxStatus)}/stub_status`,
            `-web.listen-address=${at(a.nginxExporter)}`,
        ]);
        this.supervisor.start("node-exporter", "prometheus-node-exporter", [`--web.listen-address=${at(a.nodeExporter)}`]);

        const blackboxFile = this.path("blackbox", "blackbox.yml");
        // The probe verifies nginx's certificate against the rehearsal's CA for settings.domain.
        fs.writeFileSync(blackboxFile, renderBlackboxConfig(this.settings, { caFile: this.caFile }));
        this.supervisor.start("blackbox-exporter", "prometheus-blackbox-exporter", [`--config.file=${blackboxFile}`, `--web.listen-address=${at(a.blackboxExporter)}`]);

        const alertmanagerFile = this.path("alertmanager", "alertmanager.yml");
        fs.writeFileSync(alertmanagerFile, renderAlertmanagerConfig(this.settings, {}));
        this.supervisor.start("alertmanager", "prometheus-alertmanager", [
            `--config.file=${alertmanagerFile}`,
            `--storage.path=${this.path("alertmanager")}`,
            `--web.listen-address=${at(a.alertmanager)}`,
            // No gossip: a single Alertmanager, and nothing on 0.0.0.0:9094.
            "--cluster.listen-address=",
        ]);

        const paths: PrometheusPaths = {
            configFile: this.path("prometheus", "prometheus.yml"),
            rulesDir: this.path("prometheus", "rules"),
            storageDir: this.path("prometheus", "data"),
        };
        fs.writeFileSync(paths.configFile, renderPrometheusConfig(this.settings, this.scrapeTargets(), paths));
        fs.writeFileSync(path.join(paths.rulesDir, alertRulesFileName), renderAlertRules(this.settings));
        // dns_sd_configs asks the nameservers of /etc/resolv.conf on port 53 and has no option to
        // name another server. Prometheus gets a mount namespace of its own in which
        // /etc/resolv.conf names dnsmasq, as /etc/resolv.conf names 127.0.0.11 in a container.
        const resolvConf = this.path("prometheus", "resolv.conf");
        fs.writeFileSync(resolvConf, `nameserver ${a.resolver}\noptions timeout:1 attempts:2\n`);
        this.supervisor.start("prometheus", "unshare", [
            "--mount", "--propagation", "private", "--",
            "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec prometheus "$@"', resolvConf,
            ...prometheusArgs(this.settings, paths, at(a.prometheus)),
        ]);

        await Promise.all([
            this.waitReady("nginx-exporter", `http://${at(a.nginxExporter)}/metrics`, 20_000),
            this.waitReady("node-exporter", `http://${at(a.nodeExporter)}/metrics`, 20_000),
            this.waitReady("blackbox-exporter", `http://${at(a.blackboxExporter)}/metrics`, 20_000),
            this.waitReady("alertmanager", `${this.alertmanagerUrl}/-/ready`, 30_000),
            this.waitReady("prometheus", `${this.prometheusUrl}/-/ready`, 30_000),
        ]);
        this.log(`monitoring up: Prometheus ${this.prometheusUrl}, Alertmanager ${this.alertmanagerUrl}`);
    }

    /** Waits for a 200 from `url`; fails early, with the log's tail, if the server exits. */
    private async waitReady(name: string, url: string, timeoutMs: number): Promise<void> {
        const options: RequestOptions = url.startsWith("https:")
            ? { ca: this.caPem, servername: this.settings.domain, timeoutMs: 2000 }
            : { timeoutMs: 2000 };
        await this.supervisor.waitReady(name, `${name} at ${url}`, async () => (await request(url, options)).status === 200, timeoutMs);
    }

    /** Prometheus's HTTP API: GET /api/v1/<path>, the `data` of a success answer. */
    async prometheusApi<T>(apiPath: string): Promise<T> {
        const answer = await request(`${this.prometheusUrl}/api/v1/${apiPath}`, { timeoutMs: 5000 });
        const parsed = JSON.parse(answer.body) as { status: string; data: T; error?: string };
        if (parsed.status !== "success") throw new Error(`Prometheus ${apiPath}: ${answer.status} ${parsed.error ?? answer.body}`);
        return parsed.data;
    }

    /** Stops every process; removes the working directory unless asked to keep it. */
    async stop(): Promise<void> {
        await this.supervisor.stopAll(15_000);
        this.replicasUp.clear();
        const keep = this.options.keepDir ?? process.env.REHEARSAL_KEEP === "1";
        if (keep) this.log(`kept ${this.dir}`);
        else fs.rmSync(this.dir, { recursive: true, force: true });
    }

    /** The nginx access log as parsed JSON lines (the rendered `json` log_format). */
    accessLogEntries(): { status: number; upstream: string; path: string; upstream_status: string }[] {
        if (!fs.existsSync(this.nginxAccessLog)) return [];
        return fs
            .readFileSync(this.nginxAccessLog, "utf8")
            .split("\n")
            .filter((line) => line.startsWith("{"))
            .map((line) => JSON.parse(line) as { status: number; upstream: string; path: string; upstream_status: string });
    }
}

export function replicaName(index: number): string {
    return `app-${index}`;
}

