/** Idle seconds after which the edge closes a connection: above the largest requestTimeoutSeconds. */
export const edgeIdleTimeoutSeconds = 3630;

/** Where the edge proxy listens and what it forwards to. */
export interface EdgeFacts {
    /** DNS server that answers the front door's task addresses (Docker's embedded resolver). */
    readonly resolver: string;
    /** A DNS name with one A record per front-door nginx task (tasks.nginx on Swarm). */
    readonly frontDoorHost: string;
    /** Ports the edge listens on (inside its container) → the front door's PROXY-protocol ports. */
    readonly http: { readonly listen: number; readonly upstreamPort: number };
    readonly https: { readonly listen: number; readonly upstreamPort: number };
    /** stub_status on loopback, for the healthcheck only. */
    readonly statusPort: number;
}

/**
 * The edge proxy's nginx.conf: TCP only (no TLS, no certificate, no routing) and no setting in
 * it, so it stays the same through every certificate, front-door config and setting change.
 * It holds the published ports while the front-door nginx tasks behind it roll start-first:
 * each connection goes to a task found by DNS at connect time and, when that task refuses (it
 * is stopping), to the next one. The PROXY protocol hands nginx the client's address.
 */
export function renderEdgeConf(facts: EdgeFacts): string {
    const forward = (listen: number, upstreamPort: number) => `
    server {
        listen ${listen};
        set $front_door ${facts.frontDoorHost}:${upstreamPort};
        proxy_pass $front_door;
    }
`;
    return `# Rendered by components/edgeConf.ts from the stack's settings; do not edit by hand.
# The stream module: compiled into the official image; a loadable module in Debian's nginx.
include /etc/nginx/modules-enabled/*.conf;
worker_processes auto;
pid /tmp/nginx.pid;
error_log /dev/stderr warn;

events {
    worker_connections 4096;
}

stream {
    # valid=1s: a task that stopped is out of the answer within a second.
    resolver ${facts.resolver} valid=1s ipv6=off;
    resolver_timeout 2s;

    log_format edge '{"time":"$time_iso8601","remote_addr":"$remote_addr","port":$server_port,'
        '"status":$status,"upstream":"$upstream_addr","bytes_in":$bytes_received,"bytes_out":$bytes_sent,'
        '"session_time":$session_time}';
    access_log /dev/stdout edge;

    proxy_protocol on;
    proxy_connect_timeout 1s;
    # Longer than the longest request timeout settings allow (requestTimeoutSeconds ≤ 3600), so
    # a slow analysis is never cut here and a timeout change never restarts the edge.
    proxy_timeout ${edgeIdleTimeoutSeconds}s;
    # A task that refuses or does not answer within a second costs the client nothing: try the next one.
    proxy_next_upstream on;
    proxy_next_upstream_tries 3;
    proxy_next_upstream_timeout 5s;
${forward(facts.http.listen, facts.http.upstreamPort)}${forward(facts.https.listen, facts.https.upstreamPort)}}

http {
    access_log off;
    client_body_temp_path /tmp/client_body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    server {
        listen 127.0.0.1:${facts.statusPort};
        location = /stub_status {
            stub_status;
        }
    }
}
`;
}
