// fit's defaults before they became the measured ones (src/rbm/fit-defaults.ts):
// CD-1, a constant learning rate 0.05, 'hinton' momentum, plain gradients. A
// test whose subject is not the defaults spreads these in, so it keeps
// training exactly as it did (golden hashes included); one that sets
// persistent: true also gives its chains (they were the batch size).
import type { FitOptions } from '../../src/rbm/fit';
import type { PTFitOptions } from '../../src/rbm/pt-train';

export const LEGACY_FIT_OPTIONS = {
  persistent: false,
  learningRate: 0.05,
  momentum: 'hinton',
  centered: false,
} as const satisfies Partial<FitOptions>;

/** The same for trainPT / fitPT (which has no persistent option; its chains were the batch size then as now). */
export const LEGACY_PT_FIT_OPTIONS = {
  learningRate: 0.05,
  momentum: 'hinton',
  centered: false,
} as const satisfies Partial<PTFitOptions>;
