import { checkContainerArgs, packFiles, parseRequest, reloadArgs, removeArgs, seedContainerArgs } from "../targets/docker/dockerFiles";
import * as tar from "tar-stream";

/** The docker command lines targets/docker/dockerFiles.ts sends, built from a request (the real-engine tests run them). */
describe("dockerFiles: the commands it sends", () => {
    test("a check runs in a container of the same image and user, with no network and no healthcheck", () => {
        expect(checkContainerArgs("sha256:abc", "65534:65534", ["promtool", "check", "config", "/etc/prometheus/prometheus.yml"])).toEqual([
            "create", "--network", "none", "--no-healthcheck", "--entrypoint", "promtool", "--user", "65534:65534", "sha256:abc", "check", "config", "/etc/prometheus/prometheus.yml",
        ]);
        expect(checkContainerArgs("sha256:abc", "", ["nginx", "-t", "-q"])).toEqual(["create", "--network", "none", "--no-healthcheck", "--entrypoint", "nginx", "sha256:abc", "-t", "-q"]);
    });

    test("a throwaway container goes with its anonymous volumes", () => {
        expect(removeArgs("c0ffee")).toEqual(["rm", "--force", "--volumes", "c0ffee"]);
    });

    test("a volume is written through a container that only mounts it", () => {
        expect(seedContainerArgs("app-secrets-1a2b", "sha256:def")).toEqual(["create", "--network", "none", "--no-healthcheck", "--volume", "app-secrets-1a2b:/seed", "--entrypoint", "true", "sha256:def"]);
    });

    test("reload: a signal from the daemon, or a command as the container's user", () => {
        expect(reloadArgs("c1", { signal: "HUP" })).toEqual(["kill", "--signal", "HUP", "c1"]);
        expect(reloadArgs("c1", { exec: ["sh", "-c", "grafana cli x"], user: "472" })).toEqual(["exec", "--user", "472", "c1", "sh", "-c", "grafana cli x"]);
    });

    test("a bad request fails naming what is missing, before anything is touched", () => {
        expect(() => parseRequest('{"action":"push","files":[]}')).toThrow("push needs container and reload");
        expect(() => parseRequest('{"action":"seed","files":[],"volume":"v"}')).toThrow("seed needs volume and image");
        expect(() => parseRequest('{"action":"rm","files":[]}')).toThrow('unknown action "rm"');
        expect(() => parseRequest('{"action":"push"}')).toThrow("stdin must hold");
    });

    test("the archive carries each file's mode and owner, with paths relative to where it is extracted", async () => {
        const archive = await packFiles([{ path: "/etc/nginx/tls/key.pem", content: "k", mode: "0400", owner: "101" }, { path: "secret_key", content: "s" }]);
        const headers: tar.Headers[] = [];
        const extract = tar.extract();
        extract.on("entry", (header, stream, next) => {
            headers.push(header);
            stream.on("end", next);
            stream.resume();
        });
        await new Promise((resolve) => {
            extract.on("finish", resolve);
            extract.end(archive);
        });
        expect(headers.map((h) => [h.name, (h.mode ?? 0).toString(8), h.uid, h.gid])).toEqual([
            ["etc/nginx/tls/key.pem", "400", 101, 101],
            ["secret_key", "444", 0, 0],
        ]);
    });
});
