/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { playwright } from '@vitest/browser-playwright';

// Headless Chromium with SwiftShader WebGPU (see ../shared/ENVIRONMENT.md).
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_WEBGPU_ARGS = [
  '--headless=new',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// Dawn in Node needs Mesa >= 25 lavapipe; prefer it when the caller has not chosen a driver.
const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';
if (!process.env.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = LAVAPIPE_ICD;

/**
 * Measurements behind docs/ (bench/*-measure.test.ts): not checks, so not part of `npm test`;
 * the project exists only when one is asked for, e.g.
 * `TRAJECTORY_MEASURE=exact npx vitest run --project measure`.
 */
const MEASURE_PROJECTS = process.env.TRAJECTORY_MEASURE
  ? [
      {
        extends: true as const,
        test: {
          name: 'measure',
          environment: 'node' as const,
          include: ['bench/*-measure.test.ts'],
          setupFiles: ['test/setup/node.ts'],
          testTimeout: 0,
          hookTimeout: 0,
          fileParallelism: false,
        },
      },
    ]
  : [];

export default defineConfig({
  test: {
    projects: [
      ...MEASURE_PROJECTS,
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.browser.test.ts'],
          setupFiles: ['test/setup/node.ts'],
          // Hang ceilings, not expectations: tests wait on results, never on a clock, and a
          // 2-core machine shared with other work may be several times slower than an idle one.
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // One Dawn instance per worker; lavapipe already uses every core.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: [
            'test/**/*.browser.test.ts',
            'test/kernels/*.test.ts',
            'test/gpu/*.test.ts',
            'test/rbm/updates.test.ts',
            'test/rbm/identities.test.ts',
            'test/rbm/sampler.test.ts',
            'test/rbm/fit.test.ts',
          ],
          setupFiles: ['test/setup/browser.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_WEBGPU_ARGS },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
