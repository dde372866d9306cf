// Bundles bench/gpu/entry.ts with everything it imports (our sources with WGSL
// inlined, tfjs) into one ESM file; only Dawn's native module stays outside.
import { builtinModules } from 'node:module';
import { defineConfig } from 'vite';

export default defineConfig({
  publicDir: false,
  envDir: false,
  logLevel: 'warn',
  build: {
    ssr: 'bench/gpu/entry.ts',
    outDir: '.gpu-pack',
    emptyOutDir: false,
    target: 'node20',
    minify: false,
    rolldownOptions: {
      external: ['webgpu', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
      output: { format: 'es', entryFileNames: 'bench.mjs', codeSplitting: false },
    },
  },
  ssr: { target: 'node', noExternal: true, external: ['webgpu'] },
});
