/**
 * `npm run rehearse -- up [replicas]`: starts the rehearsal and keeps it running until
 * Ctrl-C (or SIGTERM), printing where everything answers; then stops every process.
 */
import { Rehearsal } from "./stack";

async function up(replicas: number): Promise<void> {
    const log = (line: string): void => void process.stdout.write(`rehearse: ${line}\n`);
    const rehearsal = await Rehearsal.start({ replicas, keepDir: false, log });
    const a = rehearsal.addresses;
    log(`ready. Try:
  curl --cacert ${rehearsal.caFile} --resolve ${rehearsal.settings.domain}:${a.https}:${a.front} https://${rehearsal.settings.domain}:${a.https}/health
  Prometheus ${rehearsal.prometheusUrl}   Alertmanager ${rehearsal.alertmanagerUrl}
  replicas on ${rehearsal.runningReplicas.map((i) => `${rehearsal.replicaAddress(i)}:${a.appPort}`).join(" ")}; resolver ${a.resolver}:53
  logs and rendered configs under ${rehearsal.dir}
Ctrl-C stops everything.`);
    await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
    });
    log("stopping");
    await rehearsal.stop();
}

function main(argv: string[]): Promise<void> {
    const [command, count] = argv;
    const replicas = count === undefined ? 2 : Number(count);
    if (command !== "up" || !Number.isInteger(replicas) || replicas < 1 || replicas > 9) {
        process.stderr.write("usage: npm run rehearse -- up [replicas 1-9]\n");
        process.exit(2);
    }
    return up(replicas);
}

main(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`rehearse: ${error.message}\n`);
    process.exit(1);
});
