import { Settings } from "../platform/settings";

/** Where nginx finds things; the Docker deployment and the rehearsal differ only here. */
export interface NginxFacts {
    /** DNS server nginx asks for the app's addresses (Docker's embedded resolver: 127.0.0.11). */
    readonly resolver: string;
    /** host:port of the app; the host resolves to every replica. */
    readonly appUpstream: string;
    /** host:port of Grafana, served under /grafana/ when settings.monitoring.publicGrafana. */
    readonly grafanaUpstream: string;
    /** Addresses nginx listens on: `[address:]port` strings. */
    readonly listenHttp: string;
    readonly listenHttps: string;
    /** stub_status for the exporter; never published. */
    readonly listenStatus: string;
    /**
     * Extra listeners for connections from an edge proxy (Swarm, host mode), which start with
     * the PROXY protocol header carrying the client's address; absent on one host.
     */
    readonly listenFromEdge?: { readonly http: string; readonly https: string };
    /** The HTTPS port clients use, for the redirect (omitted from the URL when 443). */
    readonly publicHttpsPort: number;
    readonly certificateFile: string;
    readonly privateKeyFile: string;
    readonly pidFile: string;
    /** Directory for nginx's request-body and proxy buffers. */
    readonly tempDir: string;
    readonly accessLog: string;
    readonly errorLog: string;
}

/** nginx's facts inside the platform's Docker network (official nginx image paths). */
export function dockerNginxFacts(settings: Settings, topology: { app: string; grafana: string; statusPort: number }): NginxFacts {
    return {
        resolver: "127.0.0.11",
        appUpstream: topology.app,
        grafanaUpstream: topology.grafana,
        listenHttp: "80",
        listenHttps: "443",
        listenStatus: String(topology.statusPort),
        publicHttpsPort: settings.ports.https,
        certificateFile: nginxCertificatePath,
        privateKeyFile: nginxPrivateKeyPath,
        pidFile: "/tmp/nginx.pid",
        tempDir: "/tmp",
        accessLog: "/dev/stdout",
        errorLog: "/dev/stderr",
    };
}

/** How long each nginx worker keeps a resolver answer: replicas added or removed are seen within it. */
export const resolverCacheSeconds = 5;

export const nginxConfPath = "/etc/nginx/nginx.conf";
export const nginxCertificatePath = "/etc/nginx/tls/cert.pem";
export const nginxPrivateKeyPath = "/etc/nginx/tls/key.pem";

/**
 * nginx.conf for the front door: HTTP→HTTPS redirect, TLS 1.2/1.3 only, the production
 * security headers, /health proxied to the app (so it reports the app's real health),
 * /metrics refused, body size and timeouts from the settings, and the app found through
 * DNS at request time so replicas can come and go without a reload.
 */
export function renderNginxConf(settings: Settings, facts: NginxFacts): string {
    const timeout = `${settings.app.requestTimeoutSeconds}s`;
    const httpsSuffix = facts.publicHttpsPort === 443 ? "" : `:${facts.publicHttpsPort}`;
    const grafana = settings.monitoring.publicGrafana ? grafanaLocation(facts) : "";
    return `# Rendered by components/nginxConf.ts from the stack's settings; do not edit by hand.
worker_processes auto;
pid ${facts.pidFile};
error_log ${facts.errorLog} warn;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    server_tokens off;
    sendfile on;
    keepalive_timeout 65s;

    client_body_temp_path ${facts.tempDir}/client_body;
    proxy_temp_path ${facts.tempDir}/proxy;
    fastcgi_temp_path ${facts.tempDir}/fastcgi;
    uwsgi_temp_path ${facts.tempDir}/uwsgi;
    scgi_temp_path ${facts.tempDir}/scgi;

    # JSON access log: no bodies and no query strings, which may carry patient data.
    log_format json escape=json '{"time":"$time_iso8601","request_id":"$request_id",'
        '"remote_addr":"$remote_addr","method":"$request_method","path":"$uri",'
        '"status":$status,"bytes":$body_bytes_sent,"request_time":$request_time,'
        '"upstream":"$upstream_addr","upstream_status":"$upstream_status"}';
    access_log ${facts.accessLog} json;

    client_max_body_size ${settings.app.maxBodyMb}m;
    client_body_timeout 60s;

    # Docker's resolver; valid= makes nginx see added or removed replicas within seconds.
    resolver ${facts.resolver} valid=${resolverCacheSeconds}s ipv6=off;
    resolver_timeout 2s;

${facts.listenFromEdge ? edgeRealIp : ""}    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Request-ID $request_id;
    # The app echoes the id nginx gave it; clients get it once, from nginx.
    proxy_hide_header X-Request-ID;
    proxy_connect_timeout 2s;
    proxy_send_timeout ${timeout};
    proxy_read_timeout ${timeout};
    # A replica that refuses or drops the connection costs no failed request: try the next
    # one. non_idempotent extends this to POSTs already sent: analyze has no side effects,
    # so a retry is safe, and a replica that stops closes its unaccepted connections.
    proxy_next_upstream error timeout non_idempotent;
    proxy_next_upstream_tries 3;
    proxy_next_upstream_timeout 10s;

    server {
        listen ${facts.listenHttp} default_server;
${facts.listenFromEdge ? `        listen ${facts.listenFromEdge.http} default_server proxy_protocol;\n` : ""}        server_name ${settings.domain};
        location / {
            return 301 https://$host${httpsSuffix}$request_uri;
        }
    }

    server {
        # "listen … http2" rather than "http2 on": Debian's nginx 1.22 predates the directive.
        listen ${facts.listenHttps} ssl http2 default_server;
${facts.listenFromEdge ? `        listen ${facts.listenFromEdge.https} ssl http2 default_server proxy_protocol;\n` : ""}        server_name ${settings.domain};

        ssl_certificate ${facts.certificateFile};
        ssl_certificate_key ${facts.privateKeyFile};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
        ssl_prefer_server_ciphers off;
        ssl_session_cache shared:TLS:10m;
        ssl_session_timeout 1d;
        ssl_session_tickets off;

        add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
        add_header X-Frame-Options "DENY" always;
        add_header X-Content-Type-Options "nosniff" always;
        add_header X-XSS-Protection "1; mode=block" always;
        add_header Referrer-Policy "strict-origin-when-cross-origin" always;
        add_header Content-Security-Policy "default-src 'none'; frame-ancestors 'none'" always;
        add_header X-Request-ID $request_id always;

        set $app_upstream http://${facts.appUpstream};

        # Metrics are for Prometheus on the internal network only.
        location ^~ /metrics {
            return 403;
        }

        location = /health {
            proxy_pass $app_upstream/health;
            proxy_read_timeout 5s;
        }

        location / {
            proxy_pass $app_upstream;
        }
${grafana}    }

    # stub_status for the nginx exporter; this port is never published.
    server {
        listen ${facts.listenStatus};
        access_log off;
        location = /stub_status {
            stub_status;
        }
        location / {
            return 404;
        }
    }
}
`;
}

// The edge proxy's connections carry the client's address; only the overlay (private
// addresses) reaches the PROXY-protocol listeners, which are never published.
const edgeRealIp = `    set_real_ip_from 10.0.0.0/8;
    set_real_ip_from 172.16.0.0/12;
    set_real_ip_from 192.168.0.0/16;
    real_ip_header proxy_protocol;

`;

function grafanaLocation(facts: NginxFacts): string {
    return `
        location /grafana/ {
            set $grafana_upstream http://${facts.grafanaUpstream};
            proxy_pass $grafana_upstream;
        }
`;
}
