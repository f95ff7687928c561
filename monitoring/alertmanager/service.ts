import * as pulumi from "@pulumi/pulumi";
import { SecretSettings, Settings } from "../../components/platform/settings";
import { PlatformFacts, ServiceGroup } from "../../components/platform/service";
import { dockerTopology as t } from "../../components/platform/topology";
import { Workload, WorkloadFile } from "../../components/platform/workload";
import { renderAlertmanagerConfig } from "./alertmanagerConfig";

export const alertmanagerConfigPath = "/etc/alertmanager/alertmanager.yml";
export const smtpPasswordPath = "/etc/alertmanager/secrets/smtp_password";

/** Alertmanager: routes Prometheus' alerts to the operators; config checked by amtool and reloaded (SIGHUP). */
export function alertmanagerService(settings: Settings, secrets: SecretSettings, facts: PlatformFacts): ServiceGroup {
    const volumeName = `${facts.volumePrefix}-alertmanager-data`;
    return {
        name: "alerting",
        componentType: "clinicalbdd:platform:AlertmanagerServer",
        volumes: [{ key: volumeName, resourceName: "alerting-data", dockerName: volumeName, data: { retain: settings.monitoring.retainDataVolumes } }],
        declare: () => ({
            parts: [
                {
                    name: "alerting-alertmanager",
                    workload: alertmanagerWorkload(settings, alertmanagerConfig(settings, secrets), secrets.smtpPassword, volumeName),
                    exclusive: "data",
                    liveFiles: { name: "config", check: ["amtool", "check-config", alertmanagerConfigPath], reload: { signal: "HUP" } },
                },
            ],
        }),
    };
}

/** alertmanager.yml, secret because it holds the webhook URL; the SMTP password stays in its own file. */
function alertmanagerConfig(settings: Settings, secrets: SecretSettings): pulumi.Output<string> {
    return pulumi.secret(
        pulumi.output(secrets.alertWebhookUrl).apply((webhookUrl) =>
            renderAlertmanagerConfig(settings, { webhookUrl, smtpPasswordFile: secrets.smtpPassword ? smtpPasswordPath : undefined }),
        ),
    );
}

/** What Alertmanager runs: its config and the SMTP password (when set; Docker refuses empty uploads) as 0400 secret files. */
function alertmanagerWorkload(settings: Settings, config: pulumi.Input<string>, smtpPassword: pulumi.Input<string> | undefined, volumeName: string): Workload {
    const files: WorkloadFile[] = [
        { path: alertmanagerConfigPath, content: config, mode: "0400", owner: "65534", secret: true },
        ...(smtpPassword ? [{ path: smtpPasswordPath, content: smtpPassword, mode: "0400", owner: "65534", secret: true }] : []),
    ];
    return {
        image: settings.images.alertmanager,
        command: [`--config.file=${alertmanagerConfigPath}`, "--storage.path=/alertmanager", `--web.listen-address=:${t.alertmanager.port}`],
        files,
        limits: { memoryMb: 256, cpus: 0.2 },
        healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${t.alertmanager.port}/-/healthy`] },
        aliases: [t.alertmanager.alias],
        volumes: [{ volumeName, containerPath: "/alertmanager" }],
        ports: [{ internal: t.alertmanager.port, external: settings.ports.alertmanager, ip: settings.ports.monitoringBindAddress }],
        user: "65534:65534",
    };
}
