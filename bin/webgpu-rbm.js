#!/usr/bin/env node
import('../dist/cli/webgpu-rbm.js').catch((e) => { if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.url).endsWith('/dist/cli/webgpu-rbm.js')) throw e; console.error('webgpu-rbm: the CLI is not built yet (dist/cli/webgpu-rbm.js is missing); run "npm run build:cli" first.'); process.exit(1); });
