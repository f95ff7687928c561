import { Settings } from "./settings";

/** The URLs an operator uses, as exported by the stack. */
export interface PublicUrls {
    readonly appUrl: string;
    /** Proxied to the app's own /health: its answer is the app's real health. */
    readonly healthUrl: string;
    readonly grafanaUrl: string;
    readonly prometheusUrl: string;
    readonly alertmanagerUrl: string;
}

export function publicUrls(settings: Settings): PublicUrls {
    const port = settings.ports.https === 443 ? "" : `:${settings.ports.https}`;
    const appUrl = `https://${settings.domain}${port}/`;
    const local = (hostPort: number) => `http://${settings.ports.monitoringBindAddress}:${hostPort}/`;
    return {
        appUrl,
        healthUrl: `${appUrl}health`,
        grafanaUrl: settings.monitoring.publicGrafana ? `${appUrl}grafana/` : local(settings.ports.grafana),
        prometheusUrl: local(settings.ports.prometheus),
        alertmanagerUrl: local(settings.ports.alertmanager),
    };
}
