// Composition root: settings → the platform's service groups → the target → stack outputs.
import * as pulumi from "@pulumi/pulumi";
import { AppSecrets } from "./components/app/appSecrets";
import { appService, appUid } from "./components/app/service";
import { backupMetricsVolumeName, backupService } from "./components/backup/service";
import { frontDoorCertificate, frontDoorService } from "./components/frontDoor/service";
import { PlatformFacts } from "./components/platform/service";
import { loadSecretSettings, loadSettings } from "./components/platform/settings";
import { publicUrls } from "./components/platform/urls";
import { alertmanagerService } from "./monitoring/alertmanager/service";
import { exportersService } from "./monitoring/exporters/service";
import { grafanaService } from "./monitoring/grafana/service";
import { prometheusService } from "./monitoring/prometheus/service";
import { deployOnDocker } from "./targets/docker/deploy";
import { deployOnSwarm } from "./targets/swarm/deploy";

const settings = loadSettings();
const secrets = loadSecretSettings();
const facts: PlatformFacts = { volumePrefix: `${settings.project}-${pulumi.getStack()}` };

const appSecrets = new AppSecrets("app-secrets", { secrets, ownerUid: appUid });
const certificate = frontDoorCertificate(settings, secrets);
const groups = [
    appService(settings, appSecrets),
    frontDoorService(settings, certificate),
    prometheusService(settings, facts),
    alertmanagerService(settings, secrets, facts),
    grafanaService(settings, facts),
    backupService(settings, facts),
    exportersService(settings, backupMetricsVolumeName(facts)),
];
const ran = settings.platform === "swarm" ? deployOnSwarm(settings, groups) : deployOnDocker(settings, groups);

const urls = publicUrls(settings);
export const healthUrl = urls.healthUrl;
export const appUrl = urls.appUrl;
export const grafanaUrl = urls.grafanaUrl;
export const prometheusUrl = urls.prometheusUrl;
export const alertmanagerUrl = urls.alertmanagerUrl;
export const grafanaAdminPassword = ran.outputs.grafanaAdminPassword;
export const certificateExpiresAt = certificate.expiresAt;
export const replicas = settings.replicas;
export const appImage = ran.outputs.appImage;
export const nginxConfigHash = ran.outputs.nginxConfigHash;
export const backupContainer = ran.names["backups-job"];
export const backupLocation = ran.outputs.backupLocation;
