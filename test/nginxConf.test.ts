import * as fs from "fs";
import * as path from "path";
import { renderEdgeConf } from "../components/frontDoor/edgeConf";
import { NginxFacts, renderNginxConf } from "../components/frontDoor/nginxConf";
import { parseSettings } from "../components/platform/settings";
import { makeTempDir, runTool, writeSelfSignedCertificate } from "./helpers/tools";

const settingsWith = (values: Record<string, string>) => parseSettings((key) => values[key]);

function factsIn(dir: string, tls: { cert: string; key: string }): NginxFacts {
    return {
        resolver: "127.0.0.11",
        appUpstream: "app:3000",
        grafanaUpstream: "grafana:3000",
        listenHttp: "127.0.0.1:18080",
        listenHttps: "127.0.0.1:18443",
        listenStatus: "127.0.0.1:18081",
        publicHttpsPort: 443,
        certificateFile: tls.cert,
        privateKeyFile: tls.key,
        pidFile: path.join(dir, "nginx.pid"),
        tempDir: dir,
        accessLog: path.join(dir, "access.log"),
        errorLog: path.join(dir, "error.log"),
    };
}

describe("renderNginxConf checked by Debian's nginx -t", () => {
    let tmp: ReturnType<typeof makeTempDir>;
    let tls: { cert: string; key: string };
    beforeAll(() => {
        tmp = makeTempDir("nginx-conf");
        tls = writeSelfSignedCertificate(tmp.dir, ["localhost", "127.0.0.1"]);
    });
    afterAll(() => tmp.cleanup());

    const cases: [string, Record<string, string>][] = [
        ["defaults", {}],
        ["public Grafana, 8 MB bodies, 60 s timeout", { publicGrafana: "true", maxBodyMb: "8", requestTimeoutSeconds: "60" }],
    ];
    test.each(cases)("%s: nginx -t accepts the rendered file", (_label, values) => {
        const file = path.join(tmp.dir, "nginx.conf");
        fs.writeFileSync(file, renderNginxConf(settingsWith(values), factsIn(tmp.dir, tls)));
        const { code, output } = runTool("nginx", ["-t", "-q", "-e", path.join(tmp.dir, "startup.log"), "-c", file]);
        expect({ code, output }).toEqual({ code: 0, output: "" });
    });

    test("behind the Swarm edge proxy (PROXY-protocol listeners, the client's address from the header): nginx -t accepts the rendered file", () => {
        const file = path.join(tmp.dir, "behind-edge.conf");
        const facts = { ...factsIn(tmp.dir, tls), listenFromEdge: { http: "127.0.0.1:18088", https: "127.0.0.1:18448" } };
        fs.writeFileSync(file, renderNginxConf(settingsWith({}), facts));
        const { code, output } = runTool("nginx", ["-t", "-q", "-e", path.join(tmp.dir, "startup.log"), "-c", file]);
        expect({ code, output }).toEqual({ code: 0, output: "" });
    });

    test("the edge proxy's nginx.conf (stream module, loaded as Debian loads it): nginx -t accepts it", () => {
        const file = path.join(tmp.dir, "edge.conf");
        const conf = renderEdgeConf({ resolver: "127.0.0.11", frontDoorHost: "tasks.nginx", http: { listen: 18180, upstreamPort: 8080 }, https: { listen: 18543, upstreamPort: 8443 }, statusPort: 18181 });
        // jest's stdio are sockets, which nginx cannot open by /dev/std*; the container's are pipes.
        fs.writeFileSync(file, conf.replace(/\/dev\/std(out|err)/g, (_m, stream) => path.join(tmp.dir, `edge-${stream}.log`)).replace("/tmp/", `${tmp.dir}/`));
        const { code, output } = runTool("nginx", ["-t", "-q", "-e", path.join(tmp.dir, "startup.log"), "-c", file]);
        expect({ code, output }).toEqual({ code: 0, output: "" });
    });

    test("nginx -t rejects a certificate that does not exist (the check is real)", () => {
        const file = path.join(tmp.dir, "broken.conf");
        const facts = { ...factsIn(tmp.dir, tls), certificateFile: path.join(tmp.dir, "missing.pem") };
        fs.writeFileSync(file, renderNginxConf(settingsWith({}), facts));
        const { code, output } = runTool("nginx", ["-t", "-q", "-e", path.join(tmp.dir, "startup.log"), "-c", file]);
        expect(code).not.toBe(0);
        expect(output).toMatch(/missing\.pem/);
    });
});

describe("renderNginxConf content", () => {
    const facts = factsIn("/tmp/x", { cert: "/c.pem", key: "/k.pem" });
    const conf = (values: Record<string, string> = {}) => renderNginxConf(settingsWith(values), facts);

    test("only TLS 1.2 and 1.3", () => {
        expect(conf()).toMatch(/^\s*ssl_protocols TLSv1\.2 TLSv1\.3;$/m);
    });
    test("body size and timeouts follow the settings", () => {
        const c = conf({ maxBodyMb: "7", requestTimeoutSeconds: "42" });
        expect(c).toContain("client_max_body_size 7m;");
        expect(c).toContain("proxy_read_timeout 42s;");
    });
    test("HTTP redirects to HTTPS, with the port when it is not 443", () => {
        expect(conf()).toContain("return 301 https://$host$request_uri;");
        const other = renderNginxConf(settingsWith({ httpsPort: "8443" }), { ...facts, publicHttpsPort: 8443 });
        expect(other).toContain("return 301 https://$host:8443$request_uri;");
    });
    test("the production security headers and HSTS are sent on every answer", () => {
        for (const header of ["Strict-Transport-Security", "X-Frame-Options", "X-Content-Type-Options", "X-XSS-Protection", "Referrer-Policy"]) {
            expect(conf()).toMatch(new RegExp(`add_header ${header} .* always;`));
        }
    });
    test("/health goes to the app, /metrics is refused, the app is found through the resolver", () => {
        expect(conf()).toMatch(/location = \/health \{\s+proxy_pass \$app_upstream\/health;/);
        expect(conf()).toMatch(/location \^~ \/metrics \{\s+return 403;/);
        expect(conf()).toContain("resolver 127.0.0.11 valid=5s ipv6=off;");
        expect(conf()).toContain("proxy_next_upstream error timeout non_idempotent;");
    });
    test("Grafana is served under /grafana/ only when opted in", () => {
        expect(conf()).not.toContain("/grafana/");
        expect(conf({ publicGrafana: "true" })).toContain("location /grafana/");
    });
});
