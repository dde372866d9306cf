// Builds the `webgpu-rbm` command: one ESM file for Node (dist/cli/webgpu-rbm.js).
// The sources import WGSL with `?raw`, which only a Vite build understands, so the
// CLI is bundled rather than run through tsc. Runtime dependencies stay external
// (webgpu is a native addon; fast-png and cli-progress come from node_modules).
import { builtinModules } from 'node:module';
import { defineConfig } from 'vite';

const external = [
  'webgpu',
  'fast-png',
  'cli-progress',
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
];

export default defineConfig({
  // No public/ copying and no .env lookups: this is a Node program.
  publicDir: false,
  envDir: false,
  logLevel: 'warn',
  build: {
    ssr: 'src/cli/main.ts',
    outDir: 'dist/cli',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    // The bin launcher imports this exact name.
    rolldownOptions: {
      external,
      output: { format: 'es', entryFileNames: 'webgpu-rbm.js' },
    },
  },
  ssr: { target: 'node', external: ['webgpu', 'fast-png', 'cli-progress'] },
});
