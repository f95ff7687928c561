// Composition root: settings → the target's composition → stack outputs.
import { loadSecretSettings, loadSettings } from "./components/platform/settings";
import { deployOnDocker } from "./targets/docker/deploy";
import { deployOnSwarm } from "./targets/swarm/deploy";

const settings = loadSettings();
const secrets = loadSecretSettings();
const outputs = settings.platform === "swarm" ? deployOnSwarm(settings, secrets) : deployOnDocker(settings, secrets);

export const healthUrl = outputs.healthUrl;
export const appUrl = outputs.appUrl;
export const grafanaUrl = outputs.grafanaUrl;
export const prometheusUrl = outputs.prometheusUrl;
export const alertmanagerUrl = outputs.alertmanagerUrl;
export const grafanaAdminPassword = outputs.grafanaAdminPassword;
export const certificateExpiresAt = outputs.certificateExpiresAt;
export const replicas = outputs.replicas;
export const appImage = outputs.appImage;
export const nginxConfigHash = outputs.nginxConfigHash;
export const backupContainer = outputs.backupContainer;
export const backupLocation = outputs.backupLocation;
