// Jest runs the test kit's Jest entry as a user's ESM project would: plain .mjs tests
// importing the built packages by name (run with --experimental-vm-modules).
export default {
  rootDir: '.',
  testMatch: ['<rootDir>/test-jest/**/*.test.mjs'],
  transform: {},
  testEnvironment: 'node',
};
