import { freePorts } from "../helpers/net";
import { Deployment } from "./deployment";

/** The host ports a test stack publishes, each free on 127.0.0.1 when it was chosen. */
export interface TestPorts {
    readonly http: number;
    readonly https: number;
    readonly grafana: number;
    readonly prometheus: number;
    readonly alertmanager: number;
}

/**
 * A Deployment of the program as the real-engine tests run it: replicas 2, every published
 * port free, so stacks of several test files can share one engine. Nothing is created yet.
 */
export async function testDeployment(stack: string, config: Record<string, string> = {}): Promise<{ deployment: Deployment; ports: TestPorts }> {
    const [http, https, grafana, prometheus, alertmanager] = await freePorts("127.0.0.1", 5);
    const deployment = new Deployment(stack, {
        replicas: "2",
        httpPort: String(http),
        httpsPort: String(https),
        grafanaPort: String(grafana),
        prometheusPort: String(prometheus),
        alertmanagerPort: String(alertmanager),
        ...config,
    });
    return { deployment, ports: { http, https, grafana, prometheus, alertmanager } };
}
