/**
 * The figures `npm run bench` measures against, in one place: docs/testing.md states them and
 * test/docs-facts.test.ts keeps the two the same. Targets are checked here, as figures on the
 * machine that runs the bench, never as timed tests.
 */
export const BENCH_TARGETS = {
  /** The program's run over the floor's, per stack (the language host's path, and under mocks). */
  ratio: 1.5,
  /** Peak RSS of one stack's run, MB (the language host's path, and under mocks). */
  rssMb: 300,
  /** `npm run test:quick`, wall seconds on 2 idle cores (BENCH_ONLY=tests). */
  testQuickSeconds: 45,
  /** `npm test`, wall seconds on 2 idle cores (BENCH_ONLY=tests). */
  testSeconds: 150,
  /** `npm test`'s largest process, MB (BENCH_ONLY=tests). */
  testPeakMb: 1000,
} as const;
