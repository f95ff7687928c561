/**
 * How the platform runs on one Docker host: containers on a bridge network, files pushed into
 * running containers and reloaded (LiveFiles), app replicas rolled new-before-old.
 */
import * as pulumi from "@pulumi/pulumi";
import { AlertmanagerServer } from "../components/alertmanagerServer";
import { renderAlertRules } from "../monitoring/alertRules";
import { AppSecrets } from "../components/appSecrets";
import { appUid, AppService } from "../components/appService";
import { BackupJob } from "../components/backupJob";
import { renderBlackboxConfig } from "../monitoring/blackboxConfig";
import { Exporters } from "../components/exporters";
import { GrafanaServer } from "../components/grafanaServer";
import { PlatformNetwork } from "../components/platformNetwork";
import { prometheusArgs, renderPrometheusConfig } from "../monitoring/prometheusConfig";
import { PrometheusServer } from "../components/prometheusServer";
import { ReverseProxy } from "../components/reverseProxy";
import { SecretSettings, Settings } from "../components/settings";
import { dockerScrapeTargets, dockerTopology as t } from "../components/topology";
import { publicUrls } from "../components/urls";
import { alertmanagerConfig, frontDoorCertificate, frontDoorNginxConf } from "./sharedFiles";
import { StackOutputs } from "./stackOutputs";
import { stackLabel } from "../components/workload";

export function deployOnDocker(settings: Settings, secrets: SecretSettings): StackOutputs {
    const volumePrefix = `${settings.project}-${pulumi.getStack()}`;

    // The operator's verbs (cli/) find the stack's containers by these labels.
    const stackLabels = { [stackLabel]: pulumi.getStack() };
    const network = new PlatformNetwork("platform", { labels: stackLabels });
    const placement = { networkName: network.name, logs: settings.logs, labels: stackLabels };

    const appSecrets = new AppSecrets("app-secrets", { secrets, ownerUid: appUid });
    const app = new AppService("app", {
        app: settings.app,
        replicas: settings.replicas,
        placement,
        secretFiles: appSecrets.files,
        secretFileEnvs: appSecrets.fileEnvs,
        secretsDirectory: appSecrets.directory,
        alias: t.app.alias,
        port: t.app.port,
    });

    const certificate = frontDoorCertificate(settings, secrets);
    const proxy = new ReverseProxy("front-door", {
        image: settings.images.nginx,
        nginxConf: frontDoorNginxConf(settings),
        certificatePem: certificate.certificatePem,
        privateKeyPem: certificate.privateKeyPem,
        httpPort: settings.ports.http,
        httpsPort: settings.ports.https,
        statusPort: t.nginx.statusPort,
        placement,
        aliases: [t.nginx.alias],
    });

    const retain = settings.monitoring.retainDataVolumes;
    /** Port binding and stack-scoped data volume of Prometheus, Alertmanager and Grafana. */
    const dataService = (role: string, hostPort: number) => ({
        bindAddress: settings.ports.monitoringBindAddress,
        hostPort,
        volumeName: `${volumePrefix}-${role}-data`,
        retainVolume: retain,
        placement,
    });
    const prometheusInternalUrl = `http://${t.prometheus.alias}:${t.prometheus.port}`;
    const prometheus = new PrometheusServer("metrics", {
        image: settings.images.prometheus,
        config: renderPrometheusConfig(settings, dockerScrapeTargets()),
        alertRules: renderAlertRules(settings),
        args: prometheusArgs(settings),
        ...dataService("prometheus", settings.ports.prometheus),
    });
    new AlertmanagerServer("alerting", {
        image: settings.images.alertmanager,
        config: alertmanagerConfig(settings, secrets),
        smtpPassword: secrets.smtpPassword,
        ...dataService("alertmanager", settings.ports.alertmanager),
    });
    const urls = publicUrls(settings);
    const grafana = new GrafanaServer("dashboards", {
        image: settings.images.grafana,
        prometheusUrl: prometheusInternalUrl,
        passwordRotation: settings.monitoring.grafanaPasswordRotation,
        publicUrl: settings.monitoring.publicGrafana ? urls.grafanaUrl : undefined,
        ...dataService("grafana", settings.ports.grafana),
    });
    const backup = new BackupJob(
        "backups",
        {
            settings: settings.backup,
            prometheusUrl: prometheusInternalUrl,
            prometheusVolumeName: prometheus.volumeName,
            grafanaVolumeName: grafana.volumeName,
            backupVolumeName: `${volumePrefix}-backups`,
            retainVolume: retain,
            placement,
        },
        { dependsOn: [prometheus, grafana] },
    );
    new Exporters("exporters", {
        images: settings.images,
        blackboxConfig: renderBlackboxConfig(settings),
        nginxStatusUrl: `http://${t.nginx.alias}:${t.nginx.statusPort}/stub_status`,
        textfileVolumeName: backup.metricsVolumeName,
        placement,
    });

    return {
        ...publicUrls(settings),
        grafanaAdminPassword: grafana.adminPassword,
        certificateExpiresAt: certificate.expiresAt,
        replicas: settings.replicas,
        appImage: app.imageRef,
        nginxConfigHash: proxy.configHash,
        backupContainer: backup.containerName,
        backupLocation: backup.location,
    };
}
