import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { waitUntil } from "./net";

/** One server a test started, in its own process group. */
export interface Supervised {
    readonly name: string;
    readonly child: ChildProcess;
    readonly logFile: string;
    /** Resolves with the exit code (or signal name) once the process has exited. */
    readonly exited: Promise<string>;
}

/** Every process group started in this Node process, so a crash of the runner still ends them. */
const everyGroup = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
    if (exitHookInstalled) return;
    exitHookInstalled = true;
    process.once("exit", () => {
        for (const pid of everyGroup) signalGroup(pid, "SIGKILL");
    });
}

function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
    try {
        process.kill(-pid, signal);
        return true;
    } catch {
        return false;
    }
}

/**
 * Starts servers detached in their own process groups with output to a log file each, and
 * stops them by group: SIGTERM, then SIGKILL after a grace period. `stopAll` ends every
 * one still running, whatever state a test left them in.
 */
export class Supervisor {
    private readonly running = new Map<string, Supervised>();

    constructor(readonly logDir: string) {
        installExitHook();
    }

    start(name: string, command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Supervised {
        if (this.running.has(name)) throw new Error(`${name} is already running`);
        const logFile = path.join(this.logDir, `${name}.log`);
        const out = fs.openSync(logFile, "a");
        fs.writeSync(out, `\n$ ${command} ${args.join(" ")}\n`);
        const child = spawn(command, [...args], {
            cwd: options.cwd,
            env: options.env ?? process.env,
            detached: true,
            stdio: ["ignore", out, out],
        });
        fs.closeSync(out);
        const exited = new Promise<string>((resolve) => {
            child.once("error", (error) => resolve(`error: ${error.message}`));
            child.once("exit", (code, signal) => resolve(signal ?? String(code)));
        });
        const pid = child.pid;
        if (pid !== undefined) everyGroup.add(pid);
        const supervised: Supervised = { name, child, logFile, exited };
        this.running.set(name, supervised);
        void exited.then(() => {
            if (pid !== undefined) everyGroup.delete(pid);
            if (this.running.get(name) === supervised) this.running.delete(name);
        });
        return supervised;
    }

    get(name: string): Supervised {
        const found = this.running.get(name);
        if (!found) throw new Error(`${name} is not running`);
        return found;
    }

    isRunning(name: string): boolean {
        return this.running.has(name);
    }

    /** Sends a signal to the server's main process (SIGHUP: reload). */
    signal(name: string, signal: NodeJS.Signals): void {
        const pid = this.get(name).child.pid;
        if (pid === undefined) throw new Error(`${name} has no pid`);
        process.kill(pid, signal);
    }

    /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it has exited. */
    async stop(name: string, graceMs = 10_000): Promise<string> {
        const server = this.running.get(name);
        if (!server) return "not running";
        const pid = server.child.pid;
        if (pid === undefined) return server.exited;
        signalGroup(pid, "SIGTERM");
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<"late">((resolve) => {
            timer = setTimeout(() => resolve("late"), graceMs);
        });
        const outcome = await Promise.race([server.exited, late]);
        clearTimeout(timer);
        if (outcome === "late") {
            signalGroup(pid, "SIGKILL");
            return server.exited;
        }
        // Children that outlived the group leader (none expected) do not survive it.
        signalGroup(pid, "SIGKILL");
        return outcome;
    }

    /** Stops every server still running, in the reverse order of starting, concurrently. */
    async stopAll(graceMs = 10_000): Promise<void> {
        const names = [...this.running.keys()].reverse();
        await Promise.all(names.map((name) => this.stop(name, graceMs)));
    }

    /**
     * Polls `isReady` until it says true; fails at once, with the log's tail, when the server
     * exits first, and after `timeoutMs` otherwise.
     */
    async waitReady(name: string, what: string, isReady: () => Promise<boolean>, timeoutMs: number): Promise<void> {
        const server = this.get(name);
        let exit: string | undefined;
        void server.exited.then((code) => (exit = code));
        await waitUntil(
            what,
            async () => {
                if (exit !== undefined) throw new Error(`${name} exited (${exit})`);
                return (await isReady()) ? true : undefined;
            },
            timeoutMs,
            100,
        ).catch((error: Error) => {
            throw new Error(`${error.message}\n--- ${name} log ---\n${this.logTail(name)}`);
        });
    }

    /** The last lines of a server's log, for error messages. */
    logTail(name: string, lines = 20): string {
        const file = path.join(this.logDir, `${name}.log`);
        if (!fs.existsSync(file)) return "(no log)";
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    }
}
