import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { yamlOptions } from "../prometheus/prometheusConfig";

/** The datasource uid every provisioned dashboard refers to. */
export const prometheusDatasourceUid = "prometheus";

/** Where the dashboards live in this repository. */
export const dashboardsDir = path.join(__dirname, "dashboards");

/** provisioning/datasources/prometheus.yml: Prometheus as the default datasource, read through Grafana's proxy. */
export function renderGrafanaDatasources(prometheusUrl: string): string {
    return stringify(
        {
            apiVersion: 1,
            datasources: [
                {
                    name: "Prometheus",
                    uid: prometheusDatasourceUid,
                    type: "prometheus",
                    access: "proxy",
                    url: prometheusUrl,
                    isDefault: true,
                    editable: false,
                    // Matches the scrape interval, so $__rate_interval never spans fewer than two samples.
                    jsonData: { timeInterval: "15s" },
                },
            ],
        },
        yamlOptions,
    );
}

/** provisioning/dashboards/clinical-bdd.yml: load every dashboard file in `dir` at start, read-only. */
export function renderGrafanaDashboardProvider(dir: string): string {
    return stringify(
        {
            apiVersion: 1,
            providers: [
                {
                    name: "clinical-bdd-creator",
                    orgId: 1,
                    folder: "Clinical BDD Creator",
                    type: "file",
                    // The files are the source of truth: edits in the UI would be lost on the next upload.
                    disableDeletion: true,
                    allowUiUpdates: false,
                    updateIntervalSeconds: 30,
                    options: { path: dir },
                },
            ],
        },
        yamlOptions,
    );
}

/** Every dashboard under monitoring/grafana/dashboards, for the component to upload next to the provider. */
export function dashboardFiles(dir: string = dashboardsDir): { name: string; content: string }[] {
    return fs
        .readdirSync(dir)
        .filter((name) => name.endsWith(".json"))
        .sort()
        .map((name) => ({ name, content: fs.readFileSync(path.join(dir, name), "utf8") }));
}
