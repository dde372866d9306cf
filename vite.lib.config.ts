// Builds the embeddable library: ESM, WGSL inlined, one browser entry
// (no Node built-ins) and one Node entry that adds Dawn's WebGPU.
// Types come from tsc (tsconfig.build.json) into dist/types.
import { defineConfig } from 'vite';

export default defineConfig({
  publicDir: false,
  envDir: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist/lib',
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: {
      entry: { index: 'src/index.ts', node: 'src/node.ts' },
      formats: ['es'],
    },
    rolldownOptions: {
      // Node built-ins stay imports of the Node entry (src/node.ts: Dawn, bundled assets read from disk).
      external: ['webgpu', /^node:/],
    },
  },
});
