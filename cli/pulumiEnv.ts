/**
 * The Pulumi CLI check and the state backend and passphrase every Pulumi command of the
 * platform uses, as scripts/platform-env.sh sets them for deploy.sh: PULUMI_BACKEND_URL
 * defaults to the local file backend in .pulumi-state/, the passphrase to its file.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { VerbError } from "./io";

export const repoRoot = path.join(__dirname, "..");

export function onPath(tool: string, env: NodeJS.ProcessEnv = process.env): boolean {
    return (env.PATH ?? "").split(path.delimiter).some((dir) => {
        try {
            fs.accessSync(path.join(dir, tool), fs.constants.X_OK);
            return true;
        } catch {
            return false;
        }
    });
}

export function needPulumiCli(env: NodeJS.ProcessEnv = process.env): void {
    if (!onPath("pulumi", env)) {
        throw new VerbError(`the Pulumi CLI is not installed.
  Install it:   curl -fsSL https://get.pulumi.com | sh   (then open a new shell)
  or see https://www.pulumi.com/docs/install/ for packages (brew, choco, apt via the tarball).`);
    }
}

/** Sets PULUMI_BACKEND_URL and the passphrase file in `env` unless the operator set them; a missing one is an error. */
export function usePlatformBackend(env: NodeJS.ProcessEnv = process.env, root = repoRoot): void {
    if (!env.PULUMI_BACKEND_URL) {
        if (!fs.existsSync(path.join(root, ".pulumi-state"))) {
            throw new VerbError("no state in .pulumi-state/ and PULUMI_BACKEND_URL is not set: deploy first (npm run deploy) or export PULUMI_BACKEND_URL");
        }
        env.PULUMI_BACKEND_URL = `file://${path.join(root, ".pulumi-state")}`;
    }
    if (!env.PULUMI_CONFIG_PASSPHRASE && !env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        const file = path.join(env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), ".config"), "clinical-bdd-creator", "passphrase");
        if (!fs.existsSync(file)) throw new VerbError(`no stack passphrase: set PULUMI_CONFIG_PASSPHRASE(_FILE) or restore ${file}`);
        env.PULUMI_CONFIG_PASSPHRASE_FILE = file;
    }
}

export function needPulumi(env: NodeJS.ProcessEnv = process.env): void {
    needPulumiCli(env);
    usePlatformBackend(env);
}

/** One stack output, as `pulumi stack output` prints it (a secret stays hidden); undefined when there is none. */
export function stackOutput(stack: string, key: string): string | undefined {
    try {
        return execFileSync("pulumi", ["stack", "output", key, "--stack", stack], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 60_000 }).trim();
    } catch {
        return undefined;
    }
}
