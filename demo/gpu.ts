// Getting a WebGPU device, and saying clearly what is missing when there is none.
import { acquireDevice, WebGPUUnavailableError, type AcquiredDevice } from '../src/index';

export interface GpuProblem {
  /** 'no-api': navigator.gpu missing; 'no-adapter': no usable GPU; 'insecure': not https/localhost; 'device': requestDevice failed; 'lost': device lost later. */
  kind: 'no-api' | 'no-adapter' | 'insecure' | 'device' | 'lost';
  title: string;
  detail: string;
  howTo: string[];
}

const HOW_TO_ENABLE = [
  'Chrome or Edge 113+ on Windows, macOS or ChromeOS, and Chrome 121+ on Android, have WebGPU on by default.',
  'Chrome on Linux: open <code>chrome://flags/#enable-unsafe-webgpu</code>, enable it (and <code>#enable-vulkan</code>), relaunch.',
  'Firefox 141+ on Windows has it on; elsewhere set <code>dom.webgpu.enabled</code> to true in <code>about:config</code> (Nightly).',
  'Safari 26 (macOS / iOS / iPadOS 26) has it on; older Safari: Develop → Feature Flags → WebGPU.',
];

const HOW_TO_ADAPTER = [
  'Turn on hardware acceleration (Chrome: Settings → System → “Use graphics acceleration when available”) and relaunch.',
  'Open <code>chrome://gpu</code>: “WebGPU” should read “Hardware accelerated”. A blocklisted GPU or driver can be overridden with <code>chrome://flags/#enable-unsafe-webgpu</code>.',
  'Update the GPU driver; in a VM or remote desktop the GPU is often not exposed.',
  'Without a GPU (CI, headless): launch Chromium with <code>--enable-unsafe-webgpu --use-webgpu-adapter=swiftshader</code>.',
];

export function problemFromError(e: unknown): GpuProblem {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof WebGPUUnavailableError && /navigator\.gpu is undefined/.test(message)) {
    return {
      kind: 'no-api',
      title: 'This browser does not offer WebGPU',
      detail: 'The page needs WebGPU to train the model on your GPU, but <code>navigator.gpu</code> is undefined here.',
      howTo: HOW_TO_ENABLE,
    };
  }
  if (e instanceof WebGPUUnavailableError) {
    return {
      kind: 'no-adapter',
      title: 'WebGPU is here, but no GPU adapter is available',
      detail: 'The browser supports WebGPU, but <code>requestAdapter()</code> returned nothing: the GPU is blocklisted, hardware acceleration is off, or there is no usable driver.',
      howTo: HOW_TO_ADAPTER,
    };
  }
  return {
    kind: 'device',
    title: 'The GPU device could not be created',
    detail: `requestDevice failed: ${escapeHtml(message)}`,
    howTo: ['Reload the page. If it keeps failing, close other GPU-heavy tabs, or check <code>chrome://gpu</code>.', ...HOW_TO_ADAPTER.slice(0, 2)],
  };
}

export function lostProblem(info: { reason: string; message: string }): GpuProblem {
  return {
    kind: 'lost',
    title: 'The GPU device was lost',
    detail: `WebGPU reported the device lost (reason: <code>${escapeHtml(info.reason || 'unknown')}</code>${
      info.message ? `, “${escapeHtml(info.message)}”` : ''
    }). Training and sampling have stopped; the model on the GPU is gone.`,
    howTo: [
      'Reload the page to start again (save the model first next time: a lost device cannot be read back).',
      'Devices are lost when the GPU driver resets or crashes, the GPU is removed, or the system reclaims it under memory pressure.',
    ],
  };
}

export function insecureProblem(): GpuProblem {
  return {
    kind: 'insecure',
    title: 'WebGPU needs a secure context',
    detail: `This page was opened from <code>${escapeHtml(location.origin)}</code>, which is not a secure context, so the browser hides WebGPU.`,
    howTo: ['Open the page over <code>https://</code>, or from <code>http://localhost</code> / <code>http://127.0.0.1</code> (what <code>npm start</code> prints).'],
  };
}

export type DeviceOutcome = ({ ok: true } & AcquiredDevice) | { ok: false; problem: GpuProblem };

/** Acquires the device; `simulateMissing` hides navigator.gpu first (the ?nogpu=1 page). */
export async function getDevice(simulateMissing: boolean): Promise<DeviceOutcome> {
  if (simulateMissing) {
    Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });
  }
  if (typeof isSecureContext !== 'undefined' && !isSecureContext && !('gpu' in navigator && navigator.gpu)) {
    return { ok: false, problem: insecureProblem() };
  }
  try {
    const got = await acquireDevice({ powerPreference: 'high-performance' });
    return { ok: true, ...got };
  } catch (e) {
    return { ok: false, problem: problemFromError(e) };
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
