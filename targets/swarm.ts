/**
 * How the platform runs on a Docker Swarm cluster: the same workloads as on one host
 * (components/*Workload), as services on an overlay network, their files as content-named
 * configs and secrets, every change a rolling service update that `pulumi up` waits for.
 * Prerequisites on the cluster (docs/swarm.md): one node labelled clinicalbdd.data=true
 * (Prometheus, Alertmanager, Grafana and the backups keep their local volumes there) and,
 * with swarmPublishMode=host, the nodes labelled clinicalbdd.edge=true, where the edge proxy
 * publishes 80/443 and passes connections to the front-door nginx.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { alertmanagerWorkload } from "../components/alertmanagerServer";
import { renderAlertRules } from "../monitoring/alertRules";
import { AppSecrets } from "../components/appSecrets";
import { appUid, appWorkload } from "../components/appService";
import { backupWorkload } from "../components/backupJob";
import { renderBlackboxConfig } from "../monitoring/blackboxConfig";
import { exporterWorkloads } from "../components/exporters";
import { grafanaAdminPassword, grafanaWorkload, resetAdminPassword } from "../components/grafanaServer";
import { buildLocalImage } from "../components/localImage";
import { prometheusArgs, renderPrometheusConfig } from "../monitoring/prometheusConfig";
import { prometheusWorkload } from "../components/prometheusServer";
import { nginxWorkload } from "../components/reverseProxy";
import { renderEdgeConf } from "../components/edgeConf";
import { edgeWorkload } from "../components/edgeProxy";
import { SecretSettings, Settings } from "../components/settings";
import { runOnSwarm, SwarmPlacement, SwarmRunOptions } from "../components/swarm/swarmService";
import { dockerTopology as t, edgeTopology, swarmScrapeTargets } from "../components/topology";
import { publicUrls } from "../components/urls";
import { stackLabel, WorkloadFile } from "../components/workload";
import { createHash } from "crypto";
import * as path from "path";
import { alertmanagerConfig, frontDoorCertificate, frontDoorNginxConf } from "./sharedFiles";
import { StackOutputs } from "./stackOutputs";

/** The node label that pins the stateful services to the node holding their volumes. */
export const dataNodeConstraint = "node.labels.clinicalbdd.data==true";
/** The node label of the nodes that publish 80/443 in host mode. */
export const edgeNodeConstraint = "node.labels.clinicalbdd.edge==true";

class SwarmStack extends pulumi.ComponentResource {
    constructor(name: string) {
        super("clinicalbdd:platform:SwarmStack", name, {});
    }
}

export function deployOnSwarm(settings: Settings, secrets: SecretSettings): StackOutputs {
    const stack = pulumi.getStack();
    const volumePrefix = `${settings.project}-${stack}`;
    const parent = new SwarmStack("platform");
    const labels = { [stackLabel]: stack };
    // Attachable, so the operator's one-shot containers (restore) can join it.
    const network = new docker.Network("platform-overlay", { driver: "overlay", attachable: true, labels: [{ label: stackLabel, value: stack }] }, { parent });
    const placement: SwarmPlacement = { networkId: network.id, logs: settings.logs, stack, labels };
    const run = (name: string, workload: Parameters<typeof runOnSwarm>[1], how: SwarmRunOptions) => runOnSwarm(name, workload, placement, how, { parent });
    // One data node: stop-first, because two Prometheus cannot share one TSDB.
    const stateful: SwarmRunOptions = { mode: { replicas: 1 }, constraints: [dataNodeConstraint], order: "stop-first" };

    const appSecrets = new AppSecrets("app-secrets", { secrets, ownerUid: appUid });
    const appImage = pulumi.output(settings.app.image as string);
    run(
        "app",
        {
            ...appWorkload({ app: settings.app, secretFileEnvs: appSecrets.fileEnvs, alias: t.app.alias }, appImage, t.app.port),
            files: appSecrets.files.map((f) => ({ ...f, path: `${appSecrets.directory}/${f.path}` })),
        },
        { mode: { replicas: settings.replicas }, order: "start-first" },
    );

    const certificate = frontDoorCertificate(settings, secrets);
    const behindEdge = settings.swarm.publishMode === "host";
    const nginx = nginxWorkload({
        image: settings.images.nginx,
        nginxConf: frontDoorNginxConf(settings, behindEdge),
        certificatePem: certificate.certificatePem,
        privateKeyPem: certificate.privateKeyPem,
        httpPort: settings.ports.http,
        httpsPort: settings.ports.https,
        statusPort: t.nginx.statusPort,
        aliases: [t.nginx.alias],
    });
    // Two front-door tasks (spread over the edge nodes), rolled start-first: a certificate or
    // nginx.conf change starts each new task before its predecessor stops, and a drained or lost
    // node leaves the other task serving. (The nginx exporter reads whichever task DNS gives it.)
    // Host mode: the ports stay with the edge proxy on each edge node, which the front door's
    // changes never touch (a start-first nginx could not bind ports its predecessor holds); the
    // front door stays on the edge nodes too, where TLS ends.
    // Ingress: the routing mesh owns the ports and balances over the tasks.
    run(
        "front-door-nginx",
        behindEdge ? { ...nginx, ports: [] } : nginx,
        { mode: { replicas: 2 }, order: "start-first", ...(behindEdge ? { constraints: [edgeNodeConstraint] } : { publishMode: "ingress" as const }) },
    );
    if (behindEdge) {
        const edge = edgeWorkload({
            image: settings.images.nginx,
            edgeConf: renderEdgeConf({
                resolver: "127.0.0.11",
                frontDoorHost: `tasks.${t.nginx.alias}`,
                http: { listen: edgeTopology.httpPort, upstreamPort: edgeTopology.frontDoorHttpPort },
                https: { listen: edgeTopology.httpsPort, upstreamPort: edgeTopology.frontDoorHttpsPort },
                statusPort: edgeTopology.statusPort,
            }),
            httpPort: settings.ports.http,
            httpsPort: settings.ports.https,
        });
        // Stop-first per node (its successor could not bind the ports): only an nginx image
        // upgrade or a port change restarts it; zero failures then need two edge nodes.
        run("front-door-edge", edge, { mode: "global", constraints: [edgeNodeConstraint], order: "stop-first", publishMode: "host" });
    }

    const prometheusVolume = `${volumePrefix}-prometheus-data`;
    const grafanaVolume = `${volumePrefix}-grafana-data`;
    const prometheusInternalUrl = `http://${t.prometheus.alias}:${t.prometheus.port}`;
    const monitoringPort = (hostPort: number) => ({ hostPort, bindAddress: settings.ports.monitoringBindAddress });
    run(
        "metrics-prometheus",
        prometheusWorkload(
            {
                image: settings.images.prometheus,
                config: renderPrometheusConfig(settings, swarmScrapeTargets()),
                alertRules: renderAlertRules(settings),
                args: prometheusArgs(settings),
                ...monitoringPort(settings.ports.prometheus),
            },
            prometheusVolume,
        ),
        stateful,
    );
    run(
        "alerting-alertmanager",
        alertmanagerWorkload(
            {
                image: settings.images.alertmanager,
                config: alertmanagerConfig(settings, secrets),
                smtpPassword: secrets.smtpPassword,
                ...monitoringPort(settings.ports.alertmanager),
            },
            `${volumePrefix}-alertmanager-data`,
        ),
        stateful,
    );
    const urls = publicUrls(settings);
    const adminPassword = grafanaAdminPassword("dashboards-admin-password", settings.monitoring.grafanaPasswordRotation, parent);
    run(
        "dashboards-grafana",
        grafanaWorkload(
            {
                image: settings.images.grafana,
                prometheusUrl: prometheusInternalUrl,
                publicUrl: settings.monitoring.publicGrafana ? urls.grafanaUrl : undefined,
                ...monitoringPort(settings.ports.grafana),
            },
            adminPassword,
            grafanaVolume,
        ),
        // Grafana reads the password file only on its first start: a rotated one (a new secret,
        // so a rolling update) is set before the server starts, with no `docker exec`.
        { ...stateful, entrypoint: ["sh", "-c", `${resetAdminPassword} >/dev/null 2>&1 || true; exec /run.sh`] },
    );

    const metricsVolume = `${volumePrefix}-backup-metrics`;
    const archivesVolume = settings.backup.hostPath ? undefined : `${volumePrefix}-backups`;
    const backupImage = buildLocalImage("backups-image", "clinical-bdd-creator-backup:local", path.join(__dirname, "..", "backup"), parent);
    const backup = run(
        "backups-job",
        backupWorkload(
            { settings: settings.backup, prometheusUrl: prometheusInternalUrl, prometheusVolumeName: prometheusVolume, grafanaVolumeName: grafanaVolume },
            backupImage,
            pulumi.output(metricsVolume),
            archivesVolume ? pulumi.output(archivesVolume) : undefined,
        ),
        // Healthy only after its first run (minutes): waiting would hold every `pulumi up`; BackupTooOld watches it.
        { ...stateful, waitForConvergence: false },
    );

    const exporters = exporterWorkloads({
        images: settings.images,
        blackboxConfig: renderBlackboxConfig(settings),
        nginxStatusUrl: `http://${t.nginx.alias}:${t.nginx.statusPort}/stub_status`,
        textfileVolumeName: metricsVolume,
    });
    // One node-exporter and one cAdvisor on every node; Prometheus finds each by DNS.
    run("exporters-node-exporter", exporters.nodeExporter, { mode: "global", order: "stop-first" });
    run("exporters-cadvisor", exporters.cadvisor, { mode: "global", order: "stop-first" });
    run("exporters-nginx-exporter", exporters.nginxExporter, { mode: { replicas: 1 }, order: "start-first" });
    run("exporters-blackbox-exporter", exporters.blackboxExporter, { mode: { replicas: 1 }, order: "start-first" });

    return {
        ...urls,
        grafanaAdminPassword: adminPassword,
        certificateExpiresAt: certificate.expiresAt,
        replicas: settings.replicas,
        appImage,
        nginxConfigHash: filesHash(nginx.files ?? []),
        backupContainer: backup.name,
        backupLocation: pulumi.output(archivesVolume ?? (settings.backup.hostPath as string)),
    };
}

/** sha256 of the files' paths and contents, as the one-host LiveFiles reports it. */
function filesHash(files: readonly WorkloadFile[]): pulumi.Output<string> {
    return pulumi.unsecret(
        pulumi.all(files.map((f) => pulumi.output(f.content))).apply((texts) => {
            const hash = createHash("sha256");
            files.forEach((f, i) => hash.update(`${f.path}\0${texts[i]}\0`));
            return hash.digest("hex");
        }),
    );
}
