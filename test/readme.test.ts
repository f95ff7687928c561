import * as fs from "fs";
import * as path from "path";
import { alertRuleGroups } from "../monitoring/prometheus/alertRules";
import { loadConfigSchema } from "../components/platform/configSchema";
import { parseSettings, secretKeys } from "../components/platform/settings";

// The README is the operator's reference: these tests keep it true to the code.
const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");

/** The README's configuration table: key → { type, default } as written. */
function configTable(): Map<string, { type: string; default: string }> {
    const rows = new Map<string, { type: string; default: string }>();
    for (const match of readme.matchAll(/^\| `(\w+)` \| (string|integer|boolean|array) \| ([^|]+) \|/gm)) {
        rows.set(match[1], { type: match[2], default: match[3].trim() });
    }
    return rows;
}

test("every key of Pulumi.yaml is in the README's config table with its type and default, and nothing else is", () => {
    const schema = loadConfigSchema();
    const expected = Object.fromEntries(
        Object.entries(schema).map(([key, s]) => [key, { type: s.type, default: s.default === "" ? "(empty)" : `\`${String(s.default)}\`` }]),
    );
    expect(Object.fromEntries(configTable())).toEqual(expected);
});

test("every secret config key is documented", () => {
    const undocumented = secretKeys.filter((key) => !readme.includes(`\`${key}\``));
    expect(undocumented).toEqual([]);
});

test("every alert rule is in the README's alert table", () => {
    const alerts = alertRuleGroups(parseSettings(() => undefined)).flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts.filter((alert) => !readme.includes(alert))).toEqual([]);
});

test("every operator verb of package.json is in the README's runbook", () => {
    const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")).scripts);
    const verbs = scripts.filter((s) => !["build", "test", "test:unit", "ops"].includes(s));
    expect(verbs.filter((verb) => !readme.includes(`npm run ${verb}`))).toEqual([]);
});

test("the README starts with the two commands: deploy and test", () => {
    const firstBlock = readme.slice(readme.indexOf("```bash"), readme.indexOf("```", readme.indexOf("```bash") + 7));
    expect(firstBlock).toMatch(/npm run deploy/);
    expect(firstBlock).toMatch(/npm test/);
});
