import { stringify } from "yaml";
import { healthProbeModule, yamlOptions } from "../prometheus/prometheusConfig";
import type { Settings } from "../../components/platform/settings";

/** What a healthy /health body contains: the top-level status of the app's JSON answer. */
export const healthyBody = '"status":\\s*"ok"';

/** Facts the blackbox exporter's config needs besides the settings. */
export interface BlackboxOptions {
    /**
     * Path, inside the exporter, of the certificate nginx serves (it is self-signed, so it is
     * its own CA). Given, the probe verifies the certificate against it for settings.domain;
     * absent, it skips verification and still reports the certificate's expiry.
     */
    readonly caFile?: string;
}

/**
 * blackbox.yml: the http_2xx module fetches the health URL over HTTPS as a client would
 * (SNI = settings.domain, IPv4 first, plain HTTP refused), and wants a JSON object back.
 * probe_ssl_earliest_cert_expiry comes with every TLS probe, verified or not.
 */
export function renderBlackboxConfig(settings: Settings, options: BlackboxOptions = {}): string {
    const tls = options.caFile
        ? { ca_file: options.caFile, server_name: settings.domain }
        : { insecure_skip_verify: true, server_name: settings.domain };
    const config = {
        modules: {
            [healthProbeModule]: {
                prober: "http",
                timeout: "10s",
                http: {
                    method: "GET",
                    headers: { Accept: "application/json" },
                    preferred_ip_protocol: "ip4",
                    fail_if_not_ssl: true,
                    tls_config: tls,
                    // The app's own verdict in JSON ({"status": "ok", …} from app/clinical_bdd/api/ops.py),
                    // not an HTML page some proxy answered with a 2xx.
                    fail_if_header_not_matches: [{ header: "Content-Type", regexp: "application/json", allow_missing: false }],
                    fail_if_body_not_matches_regexp: [healthyBody],
                },
            },
        },
    };
    return stringify(config, yamlOptions);
}
