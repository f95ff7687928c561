/** Output, errors and exit codes shared by the verbs: 0 done, 1 failed, 2 refused arguments. */

export interface Io {
    out(text: string): void;
    err(text: string): void;
}

export const processIo: Io = {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
};

/** A refused command line (exit 2), before anything ran. */
export class UsageError extends Error {}

/** A verb that failed (exit 1, or `code`); the message is printed as "<verb>: <message>". */
export class VerbError extends Error {
    constructor(message: string, readonly code = 1) {
        super(message);
    }
}

/** The options every verb takes, anywhere on the line. */
export interface GlobalOptions {
    readonly stack: string;
    readonly dryRun: boolean;
    readonly yes: boolean;
}

/** What a verb gets: its name (the prefix of its messages), its options and where it writes. */
export interface Context extends GlobalOptions {
    readonly verb: string;
    readonly io: Io;
    /** Seconds a container or task may take to turn healthy (OPS_HEALTH_WAIT_SECONDS, default 180). */
    readonly healthWaitSeconds: number;
    /** How often waits look again, in ms (default 2000; the tests make it short). */
    readonly pollMs?: number;
}

export const say = (ctx: Context, text: string): void => ctx.io.out(`${ctx.verb}: ${text}\n`);
export const warn = (ctx: Context, text: string): void => ctx.io.err(`${ctx.verb}: ${text}\n`);

export const pad = (text: string, width: number): string => text.padEnd(width);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
