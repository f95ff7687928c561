import * as fs from "fs";
import * as path from "path";
import { Supervisor } from "../test/helpers/processes";
import { waitUntil } from "../test/helpers/net";
import * as dgram from "dgram";

/**
 * dnsmasq standing in for Docker's embedded DNS server: it answers only the names it is
 * given (no upstream, no /etc/hosts), one A record per replica behind a name, TTL 1 s.
 * Scaling rewrites the hosts file and sends SIGHUP, which makes dnsmasq re-read it, as
 * Docker updates its records when a container joins or leaves the network.
 */
export class LoopbackResolver {
    private readonly hostsFile: string;

    private constructor(
        private readonly supervisor: Supervisor,
        readonly address: string,
        dir: string,
    ) {
        this.hostsFile = path.join(dir, "hosts");
    }

    /** Starts dnsmasq on address:53 (glibc and Go resolvers only ask port 53). */
    static async start(supervisor: Supervisor, address: string, dir: string, records: Readonly<Record<string, readonly string[]>>): Promise<LoopbackResolver> {
        const resolver = new LoopbackResolver(supervisor, address, dir);
        resolver.writeHosts(records);
        supervisor.start("dnsmasq", "dnsmasq", [
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            `--addn-hosts=${resolver.hostsFile}`,
            `--listen-address=${address}`,
            "--bind-interfaces",
            "--port=53",
            `--pid-file=${path.join(dir, "dnsmasq.pid")}`,
            "--local-ttl=1",
            "--log-facility=-",
        ]);
        const first = Object.keys(records)[0];
        await waitUntil(`dnsmasq to answer ${first} on ${address}:53`, async () => ((await resolver.lookup(first)).length ? true : undefined), 10_000, 100);
        return resolver;
    }

    /** Replaces every record and has dnsmasq re-read them; resolves once it answers the new set. */
    async publish(records: Readonly<Record<string, readonly string[]>>): Promise<void> {
        this.writeHosts(records);
        this.supervisor.signal("dnsmasq", "SIGHUP");
        for (const [name, addresses] of Object.entries(records)) {
            const want = [...addresses].sort().join(",");
            await waitUntil(`dnsmasq to answer ${name} with ${want}`, async () => ((await this.lookup(name)).sort().join(",") === want ? true : undefined), 5_000, 50);
        }
    }

    /** The A records of `name`, asked over UDP like a stub resolver does. */
    lookup(name: string): Promise<string[]> {
        return queryA(this.address, name);
    }

    private writeHosts(records: Readonly<Record<string, readonly string[]>>): void {
        const lines = Object.entries(records).flatMap(([name, addresses]) => addresses.map((address) => `${address} ${name}`));
        const next = `${this.hostsFile}.next`;
        fs.writeFileSync(next, `${lines.join("\n")}\n`, { mode: 0o644 });
        fs.renameSync(next, this.hostsFile);
    }
}

/** A minimal DNS A query (RFC 1035), enough to check what the resolver answers. */
function queryA(server: string, name: string, timeoutMs = 1000): Promise<string[]> {
    const id = Math.floor(Math.random() * 0xffff);
    const labels = name.split(".").map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, "ascii")]));
    const header = Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    const query = Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
    return new Promise((resolve, reject) => {
        const socket = dgram.createSocket("udp4");
        const timer = setTimeout(() => {
            socket.close();
            reject(new Error(`no DNS answer from ${server} for ${name}`));
        }, timeoutMs);
        socket.on("error", (error) => {
            clearTimeout(timer);
            socket.close();
            reject(error);
        });
        socket.on("message", (message) => {
            clearTimeout(timer);
            socket.close();
            resolve(parseARecords(message, query.length));
        });
        socket.send(query, 53, server);
    });
}

function parseARecords(message: Buffer, questionEnd: number): string[] {
    const answers = message.readUInt16BE(6);
    const found: string[] = [];
    let offset = questionEnd;
    for (let i = 0; i < answers && offset < message.length; i++) {
        // Name: a compression pointer (2 bytes) or labels ending in 0.
        if ((message[offset] & 0xc0) === 0xc0) offset += 2;
        else {
            while (message[offset] !== 0) offset += message[offset] + 1;
            offset += 1;
        }
        const type = message.readUInt16BE(offset);
        const length = message.readUInt16BE(offset + 8);
        const data = message.subarray(offset + 10, offset + 10 + length);
        if (type === 1 && length === 4) found.push([...data].join("."));
        offset += 10 + length;
    }
    return found;
}

