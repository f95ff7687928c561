/**
 * What both targets hand their front door and Alertmanager, built once: the certificate
 * (generated, or the operator's), the rendered nginx.conf and the rendered alertmanager.yml.
 * The targets differ only in how these reach the running services.
 */
import * as pulumi from "@pulumi/pulumi";
import { renderAlertmanagerConfig } from "../monitoring/alertmanager/alertmanagerConfig";
import { smtpPasswordPath } from "../monitoring/alertmanager/alertmanagerServer";
import { dockerNginxFacts, renderNginxConf } from "../components/frontDoor/nginxConf";
import { SecretSettings, Settings } from "../components/platform/settings";
import { TlsCertificate } from "../components/frontDoor/tlsCertificate";
import { dockerTopology as t, edgeTopology } from "../components/platform/topology";

/** The certificate nginx serves: the operator's when both halves are set, else generated. */
export function frontDoorCertificate(settings: Settings, secrets: SecretSettings): TlsCertificate {
    return new TlsCertificate("tls", {
        domain: settings.domain,
        settings: settings.tls,
        extraDnsNames: [t.nginx.alias],
        providedCertificatePem: secrets.tlsCertificate,
        providedPrivateKeyPem: secrets.tlsPrivateKey,
    });
}

/**
 * nginx.conf for the platform network: the app and Grafana by their aliases; behind the edge
 * proxy (Swarm, host mode), also the PROXY-protocol listeners the edge forwards to.
 */
export function frontDoorNginxConf(settings: Settings, behindEdge = false): string {
    const facts = dockerNginxFacts(settings, {
        app: `${t.app.alias}:${t.app.port}`,
        grafana: `${t.grafana.alias}:${t.grafana.port}`,
        statusPort: t.nginx.statusPort,
    });
    const listenFromEdge = { http: String(edgeTopology.frontDoorHttpPort), https: String(edgeTopology.frontDoorHttpsPort) };
    return renderNginxConf(settings, behindEdge ? { ...facts, listenFromEdge } : facts);
}

/** alertmanager.yml, secret because it holds the webhook URL; the SMTP password stays in its own file. */
export function alertmanagerConfig(settings: Settings, secrets: SecretSettings): pulumi.Output<string> {
    return pulumi.secret(
        pulumi.output(secrets.alertWebhookUrl).apply((webhookUrl) =>
            renderAlertmanagerConfig(settings, { webhookUrl, smtpPasswordFile: secrets.smtpPassword ? smtpPasswordPath : undefined }),
        ),
    );
}
