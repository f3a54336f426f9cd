/**
 * Preloaded into a signer child process (`--import`) by tests that sign
 * documented vectors: when `IG_TEST_FIXED_CLOCK_MS` is set, `Date.now()`
 * returns it, so the signer's own clock (signing-plane-v1 §3a) stands at the
 * vector's time. Test-only: nothing in `src/` reads this variable.
 */
const fixed = Number(process.env.IG_TEST_FIXED_CLOCK_MS);
if (Number.isSafeInteger(fixed) && fixed > 0) Date.now = () => fixed;
