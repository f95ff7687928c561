#!/usr/bin/env node
// Prints one "tests: N passed, N failed, N skipped" line over jest's JSON reports and
// pytest's JUnit XML, and fails when any report is missing or ran no test.
"use strict";
const fs = require("fs");

function jestCounts(file) {
    const report = JSON.parse(fs.readFileSync(file, "utf8"));
    return { passed: report.numPassedTests, failed: report.numFailedTests + report.numRuntimeErrorTestSuites, skipped: report.numPendingTests };
}

function pytestCounts(file) {
    const xml = fs.readFileSync(file, "utf8");
    const suite = xml.match(/<testsuite\b[^>]*>/);
    if (!suite) throw new Error(`${file}: no <testsuite>`);
    const attr = (name) => Number((suite[0].match(new RegExp(`\\b${name}="(\\d+)"`)) ?? [0, 0])[1]);
    const failed = attr("failures") + attr("errors");
    const skipped = attr("skipped");
    return { passed: attr("tests") - failed - skipped, failed, skipped };
}

// Arguments: label=file pairs, e.g. jest=jest.json jest-swarm=swarm.json pytest=pytest.xml;
// a label starting with "pytest" is JUnit XML, any other is jest's JSON.
const parts = [];
for (const arg of process.argv.slice(2)) {
    const [label, file] = arg.split(/=(.*)/s);
    const read = label.startsWith("pytest") ? pytestCounts : jestCounts;
    if (!fs.existsSync(file)) {
        console.log(`${label}: no report (${file}); the runner did not finish`);
        parts.push({ passed: 0, failed: 1, skipped: 0 });
        continue;
    }
    const counts = read(file);
    console.log(`${label}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
    parts.push(counts);
}
const total = parts.reduce((a, b) => ({ passed: a.passed + b.passed, failed: a.failed + b.failed, skipped: a.skipped + b.skipped }));
console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 || total.passed === 0 ? 1 : 0);
