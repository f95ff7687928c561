import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { Supervisor } from "../rehearsal/processes";
import { exporterMetricsDir, readMetricList, repoRoot } from "./helpers/monitoringTools";
import { makeTempDir, runTool, startOnLoopback } from "./helpers/tools";

/**
 * backup/backup.sh and backup/restore.sh, the scripts the backup job's container runs, run
 * here for real: Debian's prometheus with the admin API on loopback, a SQLite grafana.db
 * stand-in, archives written, checked and restored into fresh directories.
 */

const backupScript = path.join(repoRoot, "backup", "backup.sh");
const restoreScript = path.join(repoRoot, "backup", "restore.sh");

let servers: Supervisor;
let tmp: ReturnType<typeof makeTempDir>;
let prometheusUrl: string;
let prometheusData: string;
let grafanaData: string;
let backupDir: string;
let textfileDir: string;
/** A moment every sample before which is in the first backup. */
let beforeBackup: number;
let firstRun: { code: number; output: string; seconds: number };

function run(script: string, args: string[], env: Record<string, string>): { code: number; output: string; seconds: number } {
    const started = Date.now();
    const result = spawnSync("bash", [script, ...args], { encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "", ...env } });
    if (result.error) throw new Error(`${script} could not run: ${result.error.message}`);
    return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}`, seconds: (Date.now() - started) / 1000 };
}

const backupEnv = (overrides: Record<string, string> = {}): Record<string, string> => ({
    BACKUP_DIR: backupDir,
    PROMETHEUS_URL: prometheusUrl,
    PROMETHEUS_DATA_DIR: prometheusData,
    GRAFANA_DATA_DIR: grafanaData,
    BACKUP_TEXTFILE_DIR: textfileDir,
    ...overrides,
});

function sqlite(db: string, sql: string): string {
    const { code, output } = runTool("sqlite3", [db, sql]);
    if (code !== 0) throw new Error(`sqlite3 ${db}: ${output}`);
    return output;
}

/** The archives of a service in a backup directory, oldest first. */
function archives(dir: string, service: string): string[] {
    const sub = path.join(dir, service);
    if (!fs.existsSync(sub)) return [];
    return fs.readdirSync(sub).filter((f) => f.endsWith(".tar.gz")).sort().map((f) => path.join(sub, f));
}

/** A fresh directory inside this run's temp dir. */
function fresh(name: string): string {
    const dir = path.join(tmp.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
}

/** Starts Debian's prometheus on a free loopback port with the admin API; scrapes itself every second when `scrape`. */
async function startPrometheus(dataDir: string, scrape: boolean): Promise<string> {
    return startOnLoopback(servers, `prometheus-${path.basename(dataDir)}`, "prometheus", (listen) => {
        const config = path.join(tmp.dir, `prometheus-${path.basename(dataDir)}.yml`);
        const jobs = scrape ? [{ job_name: "prometheus", scrape_interval: "1s", static_configs: [{ targets: [listen] }] }] : [];
        fs.writeFileSync(config, stringify({ global: { scrape_interval: "1s" }, scrape_configs: jobs }));
        return [`--config.file=${config}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=${listen}`, "--web.enable-admin-api"];
    }, "/-/ready");
}

/** The value of `query` evaluated at `time` (unix seconds), or undefined when it has no result. */
async function queryAt(url: string, query: string, time: number): Promise<number | undefined> {
    const answer = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}&time=${time}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await answer.json()) as { data: { result: { value: [number, string] }[] } };
    const first = body.data.result[0];
    return first ? Number(first.value[1]) : undefined;
}

beforeAll(async () => {
    tmp = makeTempDir("backup");
    servers = new Supervisor(tmp.dir);
    prometheusData = fresh("prometheus-data");
    grafanaData = fresh("grafana-data");
    backupDir = fresh("backups");
    textfileDir = fresh("textfile");
    prometheusUrl = await startPrometheus(prometheusData, true);
    // Some seconds of its own samples, so the snapshot holds a series worth finding.
    const deadline = Date.now() + 20_000;
    for (;;) {
        beforeBackup = Date.now() / 1000;
        if (((await queryAt(prometheusUrl, 'count_over_time(up{job="prometheus"}[1m])', beforeBackup)) ?? 0) >= 4) break;
        if (Date.now() > deadline) throw new Error("prometheus scraped fewer than 4 samples of itself in 20 s");
        await new Promise((r) => setTimeout(r, 250));
    }
    sqlite(
        path.join(grafanaData, "grafana.db"),
        "CREATE TABLE dashboard (id INTEGER PRIMARY KEY, uid TEXT, title TEXT);" +
            "INSERT INTO dashboard (uid, title) VALUES ('clinical-bdd-overview', 'Platform overview'), ('ops', 'Operations — ünïcode');" +
            "CREATE TABLE user (id INTEGER PRIMARY KEY, login TEXT); INSERT INTO user (login) VALUES ('admin');",
    );
    fs.mkdirSync(path.join(grafanaData, "plugins", "panel"), { recursive: true });
    fs.writeFileSync(path.join(grafanaData, "plugins", "panel", "plugin.json"), '{"id":"panel"}\n');
    firstRun = run(backupScript, [], backupEnv());
}, 60_000);

afterAll(async () => {
    await servers?.stopAll();
    tmp?.cleanup();
});

describe("backup.sh", () => {
    test("writes one tar.gz per service with a sha256 file that matches it", () => {
        expect({ code: firstRun.code, output: firstRun.output }).toEqual({ code: 0, output: expect.stringMatching(/backup: done/) });
        for (const service of ["grafana", "prometheus"]) {
            const [archive, ...more] = archives(backupDir, service);
            expect({ service, more }).toEqual({ service, more: [] });
            expect(path.basename(archive)).toMatch(new RegExp(`^${service}-\\d{8}T\\d{6}Z\\.tar\\.gz$`));
            const digest = createHash("sha256").update(fs.readFileSync(archive)).digest("hex");
            expect(fs.readFileSync(`${archive}.sha256`, "utf8")).toBe(`${digest}  ${path.basename(archive)}\n`);
        }
    });

    test("writes the newest archive's time for node-exporter, with the metric names monitoring/ lists", () => {
        const text = fs.readFileSync(path.join(textfileDir, "clinical_bdd_backup.prom"), "utf8");
        const samples = [...text.matchAll(/^(\w+)\{service="(\w+)"\} (\d+)$/gm)].map((m) => ({ name: m[1], service: m[2], value: Number(m[3]) }));
        const listed = readMetricList(path.join(exporterMetricsDir, "backup-job.txt"));
        expect([...new Set(samples.map((s) => s.name))].sort()).toEqual([...listed].sort());
        const stamps = samples.filter((s) => s.name === "clinical_bdd_backup_last_success_timestamp_seconds");
        expect(stamps.map((s) => s.service).sort()).toEqual(["grafana", "prometheus"]);
        for (const s of stamps) {
            expect(s.value).toBeGreaterThanOrEqual(Math.floor(beforeBackup));
            expect(s.value).toBeLessThanOrEqual(Date.now() / 1000 + 1);
        }
        const lint = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8", timeout: 10_000 });
        expect({ code: lint.status, output: `${lint.stdout}${lint.stderr}` }).toEqual({ code: 0, output: "" });
    });

    test("removes the Prometheus snapshot it archived, so its hard links do not outlive retention", () => {
        const snapshots = path.join(prometheusData, "snapshots");
        expect(fs.existsSync(snapshots) ? fs.readdirSync(snapshots) : []).toEqual([]);
    });

    test("keeps BACKUP_RETENTION archives per service, the newest, with their checksums", () => {
        const dir = fresh("retention");
        // Leftovers of a run killed mid-way are removed by the next one.
        fs.mkdirSync(path.join(dir, ".staging-killed"));
        fs.mkdirSync(path.join(dir, "grafana"));
        fs.writeFileSync(path.join(dir, "grafana", ".grafana-20200101T000000Z.tar.gz.partial"), "half an archive");
        for (let i = 0; i < 3; i++) {
            const result = run(backupScript, [], backupEnv({ BACKUP_DIR: dir, BACKUP_RETENTION: "2" }));
            expect({ i, code: result.code, output: result.output }).toEqual({ i, code: 0, output: expect.any(String) });
        }
        expect(fs.readdirSync(dir).sort()).toEqual(["grafana", "prometheus"]);
        for (const service of ["grafana", "prometheus"]) {
            const kept = fs.readdirSync(path.join(dir, service)).sort();
            expect({ service, count: kept.length }).toEqual({ service, count: 4 });
            const names = kept.filter((f) => f.endsWith(".tar.gz"));
            expect(kept).toEqual([names[0], `${names[0]}.sha256`, names[1], `${names[1]}.sha256`]);
        }
        expect(run(backupScript, [], backupEnv({ BACKUP_DIR: dir, BACKUP_RETENTION: "2" })).output).toMatch(/pruned (grafana|prometheus)-\d{8}T\d{6}Z\.tar\.gz \(keeping 2\)/);
    }, 60_000);

    test("an unreachable Prometheus fails the run, names the API, and still backs up Grafana", () => {
        const dir = fresh("prometheus-down");
        const result = run(backupScript, [], backupEnv({ BACKUP_DIR: dir, PROMETHEUS_URL: "http://127.0.0.1:9" }));
        expect(result.code).toBe(1);
        expect(result.output).toMatch(/prometheus: POST http:\/\/127\.0\.0\.1:9\/api\/v1\/admin\/tsdb\/snapshot failed/);
        expect(archives(dir, "grafana")).toHaveLength(1);
        expect(archives(dir, "prometheus")).toHaveLength(0);
    });

    test("a run meeting another fails at once, or waits for it with BACKUP_LOCK_WAIT_SECONDS (npm run backup does)", async () => {
        const dir = fresh("locked");
        const { spawn } = await import("child_process");
        const other = spawn("sleep", ["3"]);
        fs.mkdirSync(path.join(dir, ".lock"));
        fs.writeFileSync(path.join(dir, ".lock", "pid"), String(other.pid));
        const refused = run(backupScript, [], backupEnv({ BACKUP_DIR: dir, BACKUP_SERVICES: "grafana" }));
        expect({ code: refused.code, output: refused.output.trim() }).toEqual({ code: 1, output: `backup: another backup (pid ${other.pid}) is running` });
        const waited = await new Promise<{ code: number | null; output: string }>((resolve) => {
            const child = spawn("bash", [backupScript], { env: { PATH: process.env.PATH ?? "", ...backupEnv({ BACKUP_DIR: dir, BACKUP_SERVICES: "grafana", BACKUP_LOCK_WAIT_SECONDS: "30" }) } });
            let output = "";
            child.stderr.on("data", (d) => (output += d));
            child.on("exit", (code) => resolve({ code, output }));
        });
        expect(waited).toEqual({ code: 0, output: expect.stringMatching(/waiting for the backup of pid \d+ to finish[\s\S]*backup: done/) });
        expect(archives(dir, "grafana")).toHaveLength(1);
    }, 30_000);

    test("a bad retention is refused with the variable's name", () => {
        const result = run(backupScript, [], backupEnv({ BACKUP_DIR: fresh("bad-retention"), BACKUP_RETENTION: "none" }));
        expect({ code: result.code, output: result.output.trim() }).toEqual({ code: 1, output: "backup: BACKUP_RETENTION must be a positive integer, got 'none'" });
    });
});

describe("restore.sh puts a backup back", () => {
    test("Grafana: the restored database has the same rows, and the other files come back", () => {
        const target = fresh("restored-grafana");
        fs.writeFileSync(path.join(target, "stale.txt"), "from before the restore");
        const result = run(restoreScript, [archives(backupDir, "grafana")[0]], { GRAFANA_DATA_DIR: target });
        expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: expect.stringMatching(/checksum [0-9a-f]{64} verified[\s\S]*restored/) });
        const dump = (dir: string) => sqlite(path.join(dir, "grafana.db"), ".dump");
        expect(dump(target)).toBe(dump(grafanaData));
        expect(sqlite(path.join(target, "grafana.db"), "SELECT title FROM dashboard ORDER BY id;")).toBe("Platform overview\nOperations — ünïcode\n");
        expect(fs.readFileSync(path.join(target, "plugins", "panel", "plugin.json"), "utf8")).toBe('{"id":"panel"}\n');
        expect(fs.readdirSync(target).sort()).toEqual(["grafana.db", "plugins"]);
    });

    test("Prometheus: a server started on the restored data has the samples the original had", async () => {
        const target = fresh("restored-prometheus");
        const result = run(restoreScript, [archives(backupDir, "prometheus")[0], "--service", "prometheus"], { PROMETHEUS_DATA_DIR: target });
        expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: expect.stringMatching(/restored/) });
        const restoredUrl = await startPrometheus(target, false);
        const query = 'count_over_time(up{job="prometheus"}[10m])';
        const original = await queryAt(prometheusUrl, query, beforeBackup);
        const restored = await queryAt(restoredUrl, query, beforeBackup);
        expect(original).toBeGreaterThanOrEqual(4);
        expect(restored).toBe(original);
    }, 60_000);

    describe("refuses, touching nothing, when the archive cannot be trusted", () => {
        let target: string;
        let corrupt: string;
        const listing = (dir: string) => fs.readdirSync(dir).sort().map((f) => `${f}:${fs.readFileSync(path.join(dir, f), "utf8")}`);
        beforeAll(() => {
            target = fresh("untouched-grafana");
            fs.writeFileSync(path.join(target, "grafana.db"), "the live database");
            const dir = fresh("corrupt");
            const good = archives(backupDir, "grafana")[0];
            corrupt = path.join(dir, path.basename(good));
            const bytes = fs.readFileSync(good);
            bytes[Math.floor(bytes.length / 2)] ^= 0xff;
            fs.writeFileSync(corrupt, bytes);
            fs.copyFileSync(`${good}.sha256`, `${corrupt}.sha256`);
        });

        test("a corrupted archive: checksum mismatch", () => {
            const result = run(restoreScript, [corrupt], { GRAFANA_DATA_DIR: target });
            expect(result.code).toBe(1);
            expect(result.output).toMatch(/checksum mismatch for grafana-\d{8}T\d{6}Z\.tar\.gz: expected [0-9a-f]{64}, got [0-9a-f]{64}; the archive is corrupt or was changed; nothing was touched/);
            expect(listing(target)).toEqual(["grafana.db:the live database"]);
        });

        test("an archive without its checksum file", () => {
            const lonely = path.join(fresh("no-checksum"), path.basename(corrupt));
            fs.copyFileSync(archives(backupDir, "grafana")[0], lonely);
            const result = run(restoreScript, [lonely], { GRAFANA_DATA_DIR: target });
            expect({ code: result.code, output: result.output }).toEqual({ code: 1, output: expect.stringMatching(/no checksum file .*nothing was touched/) });
            expect(listing(target)).toEqual(["grafana.db:the live database"]);
        });

        test("a Grafana archive given as Prometheus", () => {
            const result = run(restoreScript, [archives(backupDir, "grafana")[0], "--service", "prometheus"], { PROMETHEUS_DATA_DIR: target });
            expect({ code: result.code, output: result.output }).toEqual({ code: 1, output: expect.stringMatching(/is a grafana backup, not prometheus/) });
            expect(listing(target)).toEqual(["grafana.db:the live database"]);
        });

        test("no archive at the path, or no argument", () => {
            expect(run(restoreScript, [path.join(tmp.dir, "missing.tar.gz")], {}).output).toMatch(/restore: no archive at .*missing\.tar\.gz/);
            expect(run(restoreScript, [], {}).output).toMatch(/usage: restore\.sh \[--check\] <archive\.tar\.gz> \[--service grafana\|prometheus\]/);
        });
    });

    describe("leaves the data as they were when it cannot finish", () => {
        const live = () => {
            const target = fresh(`live-${Math.random().toString(36).slice(2)}`);
            fs.writeFileSync(path.join(target, "grafana.db"), "the live database");
            fs.mkdirSync(path.join(target, "plugins"));
            fs.writeFileSync(path.join(target, "plugins", "mine.json"), "{}");
            return target;
        };
        const tree = (dir: string): string[] =>
            fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
                e.isDirectory() ? [`${e.name}/`, ...tree(path.join(dir, e.name)).map((c) => `${e.name}/${c}`)] : [`${e.name}:${fs.readFileSync(path.join(dir, e.name), "utf8")}`],
            ).sort();
        const before = ["grafana.db:the live database", "plugins/", "plugins/mine.json:{}"];

        test("--check verifies checksum and contents and touches nothing", () => {
            const target = live();
            const result = run(restoreScript, ["--check", archives(backupDir, "grafana")[0]], { GRAFANA_DATA_DIR: target });
            expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: expect.stringMatching(/checksum [0-9a-f]{64} verified \(\d+ entries\)\n$/) });
            expect(tree(target)).toEqual(before);
        });

        test("an unpack that fails part way (a write refused, as on a full disk): exit 1, data unchanged, nothing left behind", () => {
            const target = live();
            // A file-size limit below grafana.db's size makes tar's write fail part way through.
            const size = fs.statSync(path.join(grafanaData, "grafana.db")).size;
            const started = Date.now();
            const result = spawnSync("bash", ["-c", `ulimit -f ${Math.floor(size / 2048)}; exec bash "$0" "$@"`, restoreScript, archives(backupDir, "grafana")[0]], {
                encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "", GRAFANA_DATA_DIR: target },
            });
            expect(Date.now() - started).toBeLessThan(60_000);
            expect({ code: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({
                code: 1, output: expect.stringMatching(/unpacking grafana-\d{8}T\d{6}Z\.tar\.gz failed \(disk full\?\); the data in .* are unchanged/),
            });
            expect(tree(target)).toEqual(before);
        });

        test("what a killed restore left (.restore-* directories) is removed by the next one", () => {
            const target = live();
            fs.mkdirSync(path.join(target, ".restore-new-killed"));
            fs.writeFileSync(path.join(target, ".restore-new-killed", "half"), "x");
            const result = run(restoreScript, [archives(backupDir, "grafana")[0]], { GRAFANA_DATA_DIR: target });
            expect({ code: result.code, output: result.code === 0 ? "" : result.output }).toEqual({ code: 0, output: "" });
            expect(fs.readdirSync(target).sort()).toEqual(["grafana.db", "plugins"]);
            expect(fs.existsSync(path.join(target, "plugins", "mine.json"))).toBe(false);
        });

        test("SIGTERM while it unpacks: exit 1, the old data in place, nothing left behind", async () => {
            const target = live();
            // A large archive, so the signal arrives while tar is still writing.
            const bigSource = fresh("big-source");
            fs.writeFileSync(path.join(bigSource, "grafana.db"), "restored");
            fs.writeFileSync(path.join(bigSource, "big.bin"), Buffer.alloc(200 * 1024 * 1024, 7));
            const archive = path.join(fresh("big"), "grafana-20260101T000000Z.tar.gz");
            expect(runTool("tar", ["-C", bigSource, "-czf", archive, "."], 60_000).code).toBe(0);
            const digest = createHash("sha256").update(fs.readFileSync(archive)).digest("hex");
            fs.writeFileSync(`${archive}.sha256`, `${digest}  ${path.basename(archive)}\n`);
            const { spawn } = await import("child_process");
            const child = spawn("bash", [restoreScript, archive], { env: { PATH: process.env.PATH ?? "", GRAFANA_DATA_DIR: target } });
            let output = "";
            child.stderr.on("data", (d) => (output += d));
            const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
            // Sent once the unpack has begun (its staging directory exists).
            for (let i = 0; i < 400 && !fs.readdirSync(target).some((f) => f.startsWith(".restore-new-")); i++) await new Promise((r) => setTimeout(r, 10));
            child.kill("SIGTERM");
            const code = await exited;
            // Either it stopped and put everything back, or it had already finished: never a mix.
            if (code === 0) {
                expect(fs.readFileSync(path.join(target, "grafana.db"), "utf8")).toBe("restored");
            } else {
                expect({ code, output }).toEqual({ code: 1, output: expect.stringMatching(/stopped by a signal/) });
                expect(tree(target)).toEqual(before);
            }
            expect(fs.readdirSync(target).filter((f) => f.startsWith(".restore-"))).toEqual([]);
        }, 60_000);
    });
});
