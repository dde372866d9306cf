// The embeddable module: build it, check what it contains, run both examples.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright';
import { CHROMIUM_PATH, CHROMIUM_WEBGPU_ARGS } from '../../vite.config';

const root = join(import.meta.dirname, '../..');
const lib = join(root, 'dist/lib');

beforeAll(() => {
  execFileSync('npm', ['run', 'build:lib'], { cwd: root, stdio: 'pipe' });
}, 180_000);

describe('library build', () => {
  it('has ESM browser and Node entries with types, WGSL inlined', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.exports['.'].browser).toBe('./dist/lib/index.js');
    expect(pkg.exports['.'].node).toBe('./dist/lib/node.js');
    expect(pkg.sideEffects).toBe(false);
    for (const f of ['dist/lib/index.js', 'dist/lib/node.js', 'dist/types/index.d.ts', 'dist/types/node.d.ts']) {
      expect(existsSync(join(root, f)), f).toBe(true);
    }
    const chunks = readdirSync(lib).filter((f) => f.endsWith('.js'));
    const all = chunks.map((f) => readFileSync(join(lib, f), 'utf8')).join('\n');
    expect(all).toContain('fn philox4x32_10');
    // Shader sources are inlined strings, not imports left for a bundler.
    expect(all).not.toMatch(/(import\s*\(|from\s*)["'][^"']*\.wgsl/);
    // The browser entry and what it imports: no Node built-ins, no Dawn.
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(join(lib, file), 'utf8');
      expect(text, file).not.toMatch(/from\s*["'](node:|webgpu["'])|require\(/);
      for (const m of text.matchAll(/from\s*["']\.\/([^"']+)["']/g)) visit(m[1]);
    };
    visit('index.js');
    const types = readFileSync(join(root, 'dist/types/index.d.ts'), 'utf8');
    expect(types).toMatch(/RBM/);
    expect(types).not.toMatch(/\bany\b/);
  });

  it('the Node entry reads the bundled digits from disk (Node built-ins stay imports of node.js)', () => {
    const script = "const m = await import('webgpu-rbm/node'); const d = await m.loadBundledMnistNode(); console.log(d.images.count);";
    expect(execFileSync('node', ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }).trim()).toBe('10000');
  });

  it('runs the Node example through the package name', () => {
    const out = mkdtempSync(join(tmpdir(), 'rbm-example-'));
    const stdout = execFileSync('node', ['examples/node/train.mjs', join(out, 'm.safetensors')], { cwd: root, encoding: 'utf8' });
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(result.recon_error).toHaveLength(2);
    expect(result.sampled).toBe(4 * 784);
    expect(existsSync(join(out, 'm.safetensors'))).toBe(true);
  }, 180_000);
});

describe('plain HTML page example', () => {
  let server: Server;
  let port = 0;
  const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' };
  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0])));
      const file = path.endsWith('/') ? join(path, 'index.html') : path;
      if (!file.startsWith(root) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(() => server?.close());

  it('trains and samples in headless Chromium from the built module', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_WEBGPU_ARGS });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/examples/browser/`);
      await page.waitForSelector('#out[data-done]', { timeout: 240_000 });
      const text = await page.textContent('#out');
      expect(await page.getAttribute('#out', 'data-done'), text ?? '').toBe('yes');
      expect(text).toMatch(/Trained on .*reconstruction error \d\.\d+ → \d\.\d+ → \d\.\d+/);
    } finally {
      await browser.close();
    }
  }, 300_000);
});
