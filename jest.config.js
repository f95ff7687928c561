/** Unit tests on Pulumi mocks and renderer tests checked by the real tools. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testTimeout: 60000,
};
