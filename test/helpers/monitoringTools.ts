import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { Supervisor } from "../../rehearsal/processes";
import { startOnLoopback } from "./tools";

export const repoRoot = path.join(__dirname, "..", "..");
export const monitoringDir = path.join(repoRoot, "monitoring");
/** The promtool unit tests of the alert rules, one file per alert. */
export const ruleTestsDir = path.join(monitoringDir, "prometheus", "tests");
/** The metric names each exporter exposes, one list per exporter. */
export const exporterMetricsDir = path.join(monitoringDir, "exporters", "exporter-metrics");

/** Grafana's interval variables, replaced by a plain duration so promtool can parse the expression. */
export function grafanaExprToPromQL(expr: string): string {
    return expr
        .replace(/\$__rate_interval|\$\{__rate_interval\}/g, "1m")
        .replace(/\$__interval|\$\{__interval\}/g, "1m")
        .replace(/\$__range|\$\{__range\}/g, "1h");
}

const promqlKeywords = new Set([
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "inf", "nan", "atan2",
]);

/**
 * The metric names a PromQL expression reads. A small lexer, enough for our expressions:
 * strings, label matchers, ranges and grouping clauses are removed first; what remains
 * that looks like an identifier, is not a keyword, not a function call and not part of a
 * number or duration, is a metric name.
 */
export function metricNamesIn(expr: string): string[] {
    let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
    s = s.replace(/\{[^}]*\}/g, " ");
    s = s.replace(/\[[^\]]*\]/g, " ");
    s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, " ");
    const names = new Set<string>();
    for (const match of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
        const start = match.index ?? 0;
        const word = match[0];
        const before = s.charAt(start - 1);
        const after = s.slice(start + word.length);
        if (/[0-9.]/.test(before)) continue; // 1e3, 5m
        if (/^\s*\(/.test(after)) continue; // a function call
        if (promqlKeywords.has(word.toLowerCase())) continue;
        names.add(word);
    }
    return [...names];
}

/** The names listed in a monitoring/exporters/exporter-metrics/*.txt file (comments and blanks skipped). */
export function readMetricList(file: string): string[] {
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("#"));
}

/** Every exporter's metric list, by file name. */
export function exporterMetricLists(): Map<string, Set<string>> {
    const dir = exporterMetricsDir;
    return new Map(
        fs
            .readdirSync(dir)
            .filter((name) => name.endsWith(".txt"))
            .map((name) => [name, new Set(readMetricList(path.join(dir, name)))]),
    );
}

/**
 * The metric names the app exports, read from the app itself
 * (`python -m clinical_bdd.metric_names` in app/'s virtualenv, or APP_PYTHON).
 */
export function appMetricNames(): string[] {
    const appDir = path.join(repoRoot, "app");
    const python = process.env.APP_PYTHON ?? path.join(appDir, ".venv", "bin", "python");
    if (!fs.existsSync(python)) {
        throw new Error(
            `${python} does not exist: the README's test command creates app/.venv from app/requirements.txt ` +
                "(or set APP_PYTHON to a Python that has them)",
        );
    }
    const { code, output } = runToolIn(appDir, python, ["-m", "clinical_bdd.metric_names"]);
    if (code !== 0) throw new Error(`python -m clinical_bdd.metric_names failed (${code}):\n${output}`);
    return output.split("\n").map((l) => l.trim()).filter((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(l));
}

function runToolIn(cwd: string, command: string, args: string[], timeoutMs = 30_000): { code: number; output: string } {
    const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: timeoutMs });
    if (result.error) throw new Error(`${command} could not run: ${result.error.message}`);
    return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

export interface DashboardExpr {
    readonly dashboard: string;
    readonly panel: string;
    readonly refId: string;
    readonly expr: string;
}

interface DashboardPanel {
    title?: string;
    targets?: { refId?: string; expr?: string }[];
    panels?: DashboardPanel[];
}

/** Every PromQL expression of every dashboard under monitoring/grafana/dashboards, with where it is. */
export function dashboardExprs(files: { name: string; content: string }[]): DashboardExpr[] {
    const found: DashboardExpr[] = [];
    const visit = (dashboard: string, panels: DashboardPanel[] = []): void => {
        for (const panel of panels) {
            for (const t of panel.targets ?? []) {
                if (t.expr) found.push({ dashboard, panel: panel.title ?? "(untitled)", refId: t.refId ?? "?", expr: t.expr });
            }
            visit(dashboard, panel.panels);
        }
    };
    for (const file of files) visit(file.name, (JSON.parse(file.content) as { panels?: DashboardPanel[] }).panels);
    return found;
}

/** The promtool unit tests under monitoring/prometheus/tests, one file per alert. */
export function ruleTestFiles(): string[] {
    const dir = ruleTestsDir;
    return fs.readdirSync(dir).filter((name) => name.endsWith(".test.yml")).sort();
}

interface RuleTestFile {
    tests?: { name?: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

/** For each alert name a test file checks: whether some case expects it firing, and some silent. */
export function ruleTestCoverage(file: string): Map<string, { fires: boolean; silent: boolean }> {
    const parsed = parse(fs.readFileSync(file, "utf8")) as RuleTestFile;
    const coverage = new Map<string, { fires: boolean; silent: boolean }>();
    for (const test of parsed.tests ?? []) {
        for (const check of test.alert_rule_test ?? []) {
            const seen = coverage.get(check.alertname) ?? { fires: false, silent: false };
            if ((check.exp_alerts ?? []).length > 0) seen.fires = true;
            else seen.silent = true;
            coverage.set(check.alertname, seen);
        }
    }
    return coverage;
}

/**
 * The rules file the unit tests run against: the rendered rules with each rule's
 * description dropped, so the tests state the summary (a rendered template) without
 * repeating every runbook text.
 */
export function rulesForUnitTests(renderedRules: string): string {
    const parsed = parse(renderedRules) as { groups: { rules: { annotations?: Record<string, string> }[] }[] };
    for (const group of parsed.groups) {
        for (const rule of group.rules) {
            if (rule.annotations) rule.annotations = { summary: rule.annotations.summary };
        }
    }
    return stringify(parsed, { lineWidth: 0 });
}

/** A running Debian blackbox exporter on loopback; `probe` returns the probe's samples by name. */
export interface RunningBlackbox {
    probe(target: string): Promise<Map<string, number>>;
    stop(): Promise<string>;
}

/** Starts prometheus-blackbox-exporter with `configFile` under `supervisor` and waits (at most 10 s) until it answers. */
export async function startBlackboxExporter(supervisor: Supervisor, configFile: string): Promise<RunningBlackbox> {
    const name = `blackbox-exporter-${path.basename(configFile, ".yml")}`;
    const base = await startOnLoopback(
        supervisor, name, "prometheus-blackbox-exporter",
        (listen) => [`--config.file=${configFile}`, `--web.listen-address=${listen}`], "/metrics", 10_000,
    );
    return {
        async probe(target: string) {
            const response = await fetch(`${base}/probe?module=http_2xx&target=${encodeURIComponent(target)}`, {
                signal: AbortSignal.timeout(15_000),
            });
            const samples = new Map<string, number>();
            for (const line of (await response.text()).split("\n")) {
                const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)$/.exec(line);
                if (match) samples.set(match[1], Number(match[2]));
            }
            return samples;
        },
        stop: () => supervisor.stop(name),
    };
}
