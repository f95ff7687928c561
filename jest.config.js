/** Unit tests on Pulumi mocks, renderer tests checked by the real tools, and the real-engine tests. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testTimeout: 60000,
  // The Swarm real-engine tests run in a jest of their own beside this one (scripts/test.sh):
  // they mostly wait out rolling updates, so side by side they cost little wall time.
  // `npm run test:swarm` runs them alone.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/swarmEngine.test.ts", "<rootDir>/test/opsSwarmEngine.test.ts", "<rootDir>/test/swarmClusterEngine.test.ts"],
};
