// The page: wires the training session to the views, the controls and the
// play-with-the-model panels. All GPU work of the views runs in ViewLoops, so
// a model swap can pause them, and nothing waits on the GPU synchronously.
import GUI, { type Controller } from 'lil-gui';
import { parallelTempering, sourceHead, sourceRows, type GibbsChains, type RBM, type RBMParamsF32 } from '../src/index';
import { LiveChart } from './charts';
import { reconstructOnCpu } from './cpu-model';
import { limitTrain, loadBundled, loadIdxFile, rows, threshold, type DemoData } from './data';
import { lostProblem, type GpuProblem } from './gpu';
import { Inpainter, OCCLUSIONS, type Occlusion } from './inpaint';
import { MainThreadMonitor, ViewLoop } from './loop';
import { DrawPad } from './pad';
import { DEFAULTS, GAUSSIAN_LEARNING_RATE, type DemoParams } from './params';
import { drawFilters, drawHeatStrip, drawImages, drawRateBars } from './render';
import { Session, startTile, type Hyper } from './session';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el as T;
};

/** Filters shown at most (the first units). */
const MAX_FILTERS = 100;
const RECON_SHOWN = 32;
/** Test digits reconstructed (128 or more share the free-energy view's tuned tile shapes). */
const RECON_ROWS = 128;
const FE_ROWS = 256;
const INPAINT_CHAINS = 8;
const TOP_FILTERS = 8;
/** The views with GPU kernels of their own, in the order they start (see App.viewStage). */
const GPU_VIEWS = ['reconstruction', 'free energy', 'fantasy', 'inpainting', 'pad'] as const;
type GpuView = (typeof GPU_VIEWS)[number];

/** Columns for n tiles: the smallest divisor of n at or above √n (a full rectangle), unless that is too wide. */
function gridCols(n: number): number {
  const root = Math.ceil(Math.sqrt(n));
  for (let c = root; c <= Math.min(n, root * 2); c++) if (n % c === 0) return c;
  return root;
}

export interface DemoState {
  ready: boolean;
  state: string;
  adapter: string;
  problem: GpuProblem['kind'] | null;
  steps: number;
  epochs: number;
  samplesPerSecond: number;
  hidden: number;
  batchSize: number;
  /** Test-batch reconstruction error over time: [updates, mse]. */
  recon: Array<[number, number]>;
  epochRecon: Array<[number, number]>;
  fgap: Array<[number, number]>;
  /** Parallel tempering: swap acceptance of each neighbouring pair, last epoch. */
  swapAcceptance: number[];
  /** 'bernoulli' or 'gaussian'. */
  visibleType: string;
  algorithm: string;
  fantasySweeps: number;
  inpaint: { sweeps: number; holeMean: number; digit: number; mode: string };
  pad: { evaluations: number; meanActivation: number };
  errors: string[];
  perf: Record<string, unknown>;
  /** When the page reached its milestones (see DemoTimings). */
  timings: DemoTimings;
  /** Each change of the status line's phase: when (ms since navigation start), the phase and its first text. */
  statusLog: Array<{ ms: number; phase: StatusPhase; text: string }>;
  loseDevice?: () => void;
}

/**
 * Milestones of the page's start, in milliseconds since navigation start
 * (performance.now()), each recorded once; also performance marks "demo:<name>".
 */
export interface DemoTimings {
  /** main.ts started running (the modules are loaded). */
  scriptMs?: number;
  deviceMs?: number;
  /** The bundled digits are loaded and split. */
  dataMs?: number;
  /** The App is built and the CPU-drawn part of the first frame is on the canvases. */
  appMs?: number;
  /** Data digits, the initial model's reconstructions (on the CPU) and its filters are drawn. */
  firstFrameMs?: number;
  /** Training was started (on load unless ?autostart=0). */
  trainStartMs?: number;
  /** The first chunk of training updates is back from the GPU. */
  firstUpdateMs?: number;
  /** The sampling views were let onto the GPU (after the first update, or when training is not running). */
  viewsOpenMs?: number;
  /** The first reconstruction by the GPU (the first frame's are the CPU's). */
  firstReconMs?: number;
  firstFreeEnergyMs?: number;
  firstFantasyMs?: number;
  firstInpaintMs?: number;
  firstPadMs?: number;
}

export type StatusPhase = 'loading' | 'compiling' | 'training' | 'paused' | 'idle' | 'unavailable' | 'lost';

/** Records a milestone once. */
export function markTiming(state: DemoState, name: keyof DemoTimings): void {
  if (state.timings[name] !== undefined) return;
  state.timings[name] = Math.round(performance.now());
  performance.mark(`demo:${name}`);
}

/** The status line under the header: what the page is doing, in words. */
export function setStatus(state: DemoState, phase: StatusPhase, text: string): void {
  const line = document.getElementById('status-line');
  const el = document.getElementById('status-text');
  if (!line || !el) return;
  if (el.textContent !== text) el.textContent = text;
  if (line.dataset.phase !== phase || state.statusLog.length === 0) {
    line.dataset.phase = phase;
    state.statusLog.push({ ms: Math.round(performance.now()), phase, text });
  }
}

export function showProblem(problem: GpuProblem, state: DemoState): void {
  const box = $('gpu-message');
  box.innerHTML = `
    <h2>${problem.title}</h2>
    <p>${problem.detail}</p>
    <p><strong>${problem.kind === 'lost' ? 'What now' : 'How to get it'}:</strong></p>
    <ul>${problem.howTo.map((s) => `<li>${s}</li>`).join('')}</ul>
    ${problem.kind === 'lost' ? '<button type="button" id="reload">Reload the page</button>' : ''}
    <p class="muted">The panels below need WebGPU; everything else on the page still works.</p>`;
  box.hidden = false;
  box.dataset.kind = problem.kind;
  document.getElementById('reload')?.addEventListener('click', () => location.reload());
  document.body.classList.add('no-webgpu');
  const s = problem.kind === 'lost' ? 'lost' : 'unavailable';
  document.body.dataset.state = s;
  const stateEl = $('stat-state');
  stateEl.textContent = problem.kind === 'lost' ? 'device lost' : 'no WebGPU';
  stateEl.dataset.state = s;
  if (problem.kind !== 'lost') $('stat-adapter').textContent = 'none';
  state.state = s;
  state.problem = problem.kind;
  $<HTMLButtonElement>('run-toggle').disabled = true;
  setStatus(state, s, problem.kind === 'lost' ? 'the GPU device was lost: training and sampling have stopped' : `no WebGPU: ${problem.title.toLowerCase()}`);
}

/**
 * The held-out digits, and the same digits faded where their reconstructions will be
 * (until the weights are read back): drawn as soon as the data are loaded, before any GPU work.
 */
export function drawData(d: DemoData): void {
  const V = d.width * d.height;
  const shown = Math.min(RECON_SHOWN, d.nTest);
  const data = d.test.subarray(0, shown * V);
  drawImages($<HTMLCanvasElement>('cv-data'), data, shown, d.width, d.height, { cols: 8 });
  const recon = $<HTMLCanvasElement>('cv-recon');
  drawImages(recon, data, shown, d.width, d.height, { cols: 8 });
  recon.classList.add('placeholder');
  $('recon-meta').textContent = 'reading the weights…';
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;
export function toast(message: string, ok = false): void {
  const el = $('toast');
  el.textContent = message;
  el.classList.toggle('ok', ok);
  el.hidden = false;
  if (toastTimer) clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), ok ? 3500 : 9000);
}

const VISIBLE_CHOICES = { binary: 'bernoulli', Gaussian: 'gaussian' };

/** Controls shown before (or without) a GPU: the same panel, disabled. */
export function buildDisabledGui(params: DemoParams): GUI {
  const gui = new GUI({ container: $('gui'), title: 'Training', width: 258 });
  const h = { reset: () => {}, hidden: params.hidden, k: params.k, algorithm: params.algorithm, visible: params.visible, learningRate: params.learningRate };
  gui.add(h, 'reset').name('↺ Reset').disable();
  gui.add(h, 'visible', VISIBLE_CHOICES).name('visible units').disable();
  gui.add(h, 'hidden', 16, 1024, 16).name('hidden units').disable();
  gui.add(h, 'algorithm', ['CD', 'PCD', 'PT']).name('algorithm').disable();
  gui.add(h, 'k', 1, 20, 1).name('Gibbs steps k').disable();
  gui.add(h, 'learningRate', 0.001, 0.5, 0.001).name('learning rate').disable();
  return gui;
}

export class App {
  readonly session: Session;
  readonly monitor: MainThreadMonitor;
  private readonly loops: ViewLoop[] = [];
  private gui!: GUI;
  /** The Start / Pause / Resume button in the run bar (outside the controls, always in view). */
  private readonly runToggle: HTMLButtonElement;
  /**
   * Whether the views that need GPU kernels of their own (GPU_VIEWS) may run. Closed from load
   * until the first training update is back, so their pipeline compiles and tile tuning do not
   * queue ahead of training's on a slow adapter; open at once when the page does not train on load.
   */
  private viewsOpen = false;
  /**
   * Once open, the GPU views start one after another (GPU_VIEWS order): each compiles its kernels
   * and tunes its tile shapes on first use, and on a software adapter one at a time gets the
   * first of them on screen sooner than all at once. Views before this index have started.
   */
  private viewStage = 0;
  /** Training starts on load, right after the first frame (see the constructor). */
  private autostartPending = false;
  /** A weights readback for the filters is in flight (the constructor starts the first). */
  private filtersBusy = false;
  private kCtrl!: Controller;
  private replicasCtrl!: Controller;
  private betaMinCtrl!: Controller;
  private readonly hyperUI: Hyper;
  private readonly charts: { recon: LiveChart; rate: LiveChart; fgap: LiveChart };
  private readonly pad: DrawPad;
  private readonly inpaint: Inpainter;
  private fantasy?: { chains: GibbsChains; model: RBM };
  private params?: { model: RBM; steps: number; p: RBMParamsF32 };
  private lastRecon = { gen: -1, steps: -1 };
  private lastFe = { gen: -1, steps: -1 };
  private lastParamsRead = { gen: -1, steps: -1 };
  private lastPad = { gen: -1, steps: -1, t: 0 };
  private fantasyRestart = false;
  /** "Sample with PT" asked for a tempered sample; `ptShown` holds the fantasy view on it until a restart. */
  private ptSample = false;
  private ptShown = false;
  private applying: Promise<void> = Promise.resolve();
  private dead = false;
  private padDigit = 0;
  readonly sample = { sweepsPerFrame: 2 };

  constructor(
    readonly device: GPUDevice,
    readonly adapterName: string,
    data: DemoData,
    readonly opts: DemoParams,
    readonly state: DemoState,
  ) {
    this.monitor = new MainThreadMonitor();
    this.sample.sweepsPerFrame = opts.sweeps;
    this.hyperUI = {
      hidden: opts.hidden,
      k: opts.k,
      // Parallel tempering trains binary models only.
      algorithm: opts.visible === 'gaussian' && opts.algorithm === 'PT' ? 'PCD' : opts.algorithm,
      replicas: opts.replicas,
      betaMin: opts.betaMin,
      visibleType: opts.visible,
      learningRate: opts.learningRate,
      momentum: opts.momentum,
      weightDecay: opts.weightDecay,
      batchSize: opts.batch,
      updatesPerSubmit: opts.chunk,
    };
    this.session = new Session(device, data, { ...this.hyperUI }, opts.seed, {
      progress: () => this.onProgress(),
      epoch: (_s, e) => {
        this.charts.recon.push(e.step, [null, e.reconError]);
        this.state.epochRecon.push([e.step, e.reconError]);
        if (e.swapAcceptance) this.showSwaps(e.swapAcceptance);
      },
      state: () => this.onState(),
      model: () => this.onModelChanged(),
      error: (_s, e) => this.reportError('training', e),
    }, startTile(adapterName));
    this.charts = {
      recon: new LiveChart($('chart-recon'), {
        xLabel: 'updates',
        yLabel: 'MSE',
        series: [
          { label: 'test digits (live)', stroke: '#2f5bd3' },
          { label: 'training batches (per epoch)', stroke: '#e8590c', points: true, width: 1.5, dash: [4, 4] },
        ],
      }),
      rate: new LiveChart($('chart-rate'), {
        xLabel: 'updates',
        yLabel: 'samples/s',
        series: [{ label: 'samples/s', stroke: '#1a7f37' }],
        yFormat: (v) => (v >= 1000 ? `${+(v / 1000).toPrecision(3)}k` : String(Math.round(v))),
      }),
      fgap: new LiveChart($('chart-fgap'), {
        xLabel: 'updates',
        yLabel: 'ΔF',
        series: [{ label: 'F(test) − F(train)', stroke: '#c2255c' }],
      }),
    };
    this.pad = new DrawPad($<HTMLCanvasElement>('cv-pad'), data.width, data.height);
    this.inpaint = new Inpainter(data.width, data.height, INPAINT_CHAINS);
    this.buildGui();
    this.wirePanels();
    this.wireFiles();
    device.lost.then((info) => this.onDeviceLost(info));
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.state.errors.push(`uncaptured WebGPU error: ${e.message}`);
      console.error('WebGPU error:', e.message);
    });
    this.state.loseDevice = () => device.destroy();
    this.describeModel();
    this.runToggle = $<HTMLButtonElement>('run-toggle');
    this.runToggle.addEventListener('click', () => {
      this.autostartPending = false;
      this.session.toggle();
    });
    this.runToggle.disabled = false;
    this.drawFirstFrame();
    markTiming(state, 'appMs');
    // Training starts once the initial weights are read back and drawn: its data upload and
    // pipeline compiles would otherwise queue ahead of that readback (on a software adapter
    // compiles hold up everything else in the GPU process), and the first frame would wait.
    this.autostartPending = opts.autostart;
    void this.refreshFilters()
      .catch((e: unknown) => this.reportError('filters view', e))
      .finally(() => {
        if (!this.autostartPending || this.dead) return;
        this.autostartPending = false;
        this.session.start();
      });
    this.startLoops();
    this.onState();
    this.state.ready = true;
  }

  /**
   * What needs no GPU, drawn at once: the test digits, the same digits faded where their
   * reconstructions will be, the drawing pad and the inpainting digit with its hole.
   * The initial filters follow as soon as the weights are read back (no kernel needed).
   */
  private drawFirstFrame(): void {
    drawData(this.session.data);
    $('fantasy-meta').textContent = 'chains start after the first update';
    this.pad.setImage(this.testDigit(0));
    this.inpaint.prepare(this.testDigit(this.inpaint.digit));
    this.inpaint.drawOriginal($<HTMLCanvasElement>('cv-inpaint-orig'));
    this.inpaint.drawInput($<HTMLCanvasElement>('cv-inpaint-input'));
    this.inpaint.drawCompletions($<HTMLCanvasElement>('cv-inpaint-out'), 4);
    this.inpaint.drawMean($<HTMLCanvasElement>('cv-inpaint-mean'));
  }

  /** Lets the GPU views run (once; see viewsOpen). */
  private openViews(): void {
    if (this.viewsOpen) return;
    this.viewsOpen = true;
    markTiming(this.state, 'viewsOpenMs');
    for (const l of this.loops) l.poke();
  }

  // ---------------------------------------------------------------- controls

  private buildGui(): void {
    const gui = new GUI({ container: $('gui'), title: 'Training', width: 258 });
    this.gui = gui;
    const actions = {
      reset: () => this.swap(async () => {
        await this.session.reset();
        toast('Model reset: new random weights.', true);
      }),
      save: () => void this.save(),
      load: () => $<HTMLInputElement>('file-model').click(),
      loadIdx: () => $<HTMLInputElement>('file-idx').click(),
      bundled: () => void this.useBundled(),
      restartFantasy: () => {
        this.fantasyRestart = true;
        this.ptShown = false;
      },
      samplePT: () => {
        if (this.session.gaussian) {
          toast('Parallel-tempering sampling needs binary visible units.');
          return;
        }
        this.ptSample = true;
      },
    };
    gui.add(actions, 'reset').name('↺ Reset model');
    const h = this.hyperUI;
    const apply = (): void => this.applyHyper();
    const visibleCtrl = gui.add(h, 'visibleType', VISIBLE_CHOICES).name('visible units');
    gui.add(h, 'hidden', 16, 1024, 16).name('hidden units').onFinishChange(apply);
    const algoCtrl = gui.add(h, 'algorithm', ['CD', 'PCD', 'PT']).name('algorithm');
    this.kCtrl = gui.add(h, 'k', 1, 20, 1).name('Gibbs steps k').onFinishChange(apply);
    this.replicasCtrl = gui.add(h, 'replicas', 2, 32, 1).name('PT temperatures').onFinishChange(apply);
    this.betaMinCtrl = gui.add(h, 'betaMin', 0, 0.95, 0.05).name('PT lowest β').onFinishChange(apply);
    const lrCtrl = gui.add(h, 'learningRate', 0.001, 0.5, 0.001).name('learning rate').onFinishChange(apply);
    const momentumCtrl = gui.add(h, 'momentum', 0, 0.95, 0.05).name('momentum').onFinishChange(apply);
    algoCtrl.onFinishChange(() => {
      if (h.algorithm === 'PT' && h.visibleType === 'gaussian') {
        h.algorithm = 'PCD';
        algoCtrl.updateDisplay();
        toast('Parallel tempering trains binary visible units only; switch "visible units" to binary first.');
      }
      this.showAlgorithmControls();
      apply();
    });
    visibleCtrl.onFinishChange(() => {
      // Standardised pixels need much smaller steps than binary ones.
      if (h.visibleType === 'gaussian') {
        h.learningRate = GAUSSIAN_LEARNING_RATE;
        h.momentum = 0.5;
        if (h.algorithm === 'PT') {
          h.algorithm = 'PCD';
          toast('Parallel tempering trains binary visible units only: using PCD for the Gaussian model.');
        }
      } else {
        h.learningRate = DEFAULTS.learningRate;
      }
      lrCtrl.updateDisplay();
      momentumCtrl.updateDisplay();
      algoCtrl.updateDisplay();
      this.showAlgorithmControls();
      apply();
    });
    this.showAlgorithmControls();
    const batches = [10, 20, 50, 100, 200, 500];
    if (!batches.includes(h.batchSize)) batches.push(h.batchSize);
    gui.add(h, 'batchSize', batches.sort((a, b) => a - b)).name('batch size').onFinishChange(apply);
    const decays = [0, 1e-5, 1e-4, 1e-3];
    if (!decays.includes(h.weightDecay)) decays.push(h.weightDecay);
    gui.add(h, 'weightDecay', decays.sort((a, b) => a - b)).name('weight decay').onFinishChange(apply);
    gui.add(h, 'updatesPerSubmit', 1, 32, 1).name('updates / submit').onFinishChange(apply);

    const fs = gui.addFolder('Sampling');
    fs.add(this.sample, 'sweepsPerFrame', 1, 50, 1).name('sweeps / frame');
    fs.add(actions, 'restartFantasy').name('Restart fantasies from noise');
    fs.add(actions, 'samplePT').name('Sample with PT (200 sweeps)');

    const fd = gui.addFolder('Data & model files');
    fd.add(actions, 'bundled').name('Use bundled MNIST');
    fd.add(actions, 'loadIdx').name('Load IDX images…');
    fd.add(actions, 'save').name('⤓ Save model (.safetensors)');
    fd.add(actions, 'load').name('⤒ Load model…');
  }

  private showAlgorithmControls(): void {
    const pt = this.hyperUI.algorithm === 'PT';
    this.kCtrl.show(!pt);
    this.replicasCtrl.show(pt);
    this.betaMinCtrl.show(pt);
  }

  /** Draws the last epoch's swap acceptance rates (parallel tempering). */
  private showSwaps(rates: number[]): void {
    if (this.dead) return;
    this.state.swapAcceptance = rates.slice();
    $('fig-swap').hidden = false;
    drawRateBars($<HTMLCanvasElement>('cv-swap'), rates, rates.map((_, m) => `${m + 1}↔${m + 2}`));
    const mean = rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length);
    const el = $('swap-readout');
    el.textContent = `${rates.length + 1} temperatures, β 1 → ${this.session.hyper.betaMin} · mean acceptance ${mean.toFixed(2)} · min ${Math.min(...rates).toFixed(2)}`;
    el.dataset.rates = rates.map((r) => r.toFixed(4)).join(',');
  }

  /** Labels that depend on the kind of visible units. */
  private describeModel(): void {
    const gaussian = this.session.gaussian;
    $('recon-caption').textContent = gaussian
      ? 'Reconstruction error (mean squared per pixel, in standardised units)'
      : 'Reconstruction error (mean squared, per pixel)';
    $('recon-formula').textContent = gaussian ? 'reconstruction σ(vW + c)Wᵀ + b, un-standardised' : 'reconstruction σ(σ(vW + c)Wᵀ + b)';
    this.state.visibleType = this.session.model.visibleType;
    if (this.session.hyper.algorithm !== 'PT') $('fig-swap').hidden = true;
    this.describeData();
  }

  private applyHyper(): void {
    this.applying = this.applying.then(async () => {
      const next = { ...this.hyperUI };
      const prev = this.session.hyper;
      if (next.hidden !== prev.hidden || next.visibleType !== prev.visibleType) {
        const kindChanged = next.visibleType !== prev.visibleType;
        await this.swap(async () => {
          await this.session.setHyper(next);
        });
        toast(
          kindChanged
            ? `New model: ${next.visibleType === 'gaussian' ? 'Gaussian' : 'binary'} visible units, ${next.hidden} hidden units.`
            : `New model with ${next.hidden} hidden units.`,
          true,
        );
        this.describeModel();
      } else {
        await this.session.setHyper(next);
      }
    }).catch((e: unknown) => this.reportError('settings', e));
  }

  private wirePanels(): void {
    $('pad-clear').addEventListener('click', () => this.pad.clear());
    $('pad-digit').addEventListener('click', () => {
      this.padDigit = (this.padDigit + 1) % this.session.data.nTest;
      this.pad.setImage(this.testDigit(this.padDigit));
    });
    const mode = $<HTMLSelectElement>('inpaint-mode');
    mode.innerHTML = OCCLUSIONS.map((o) => `<option value="${o}">${o}</option>`).join('');
    mode.value = this.inpaint.mode;
    mode.addEventListener('change', () => {
      this.inpaint.mode = mode.value as Occlusion;
      this.restartInpaint();
    });
    $('inpaint-next').addEventListener('click', () => {
      this.inpaint.digit = (this.inpaint.digit + 1) % this.session.data.nTest;
      this.restartInpaint();
    });
    $('inpaint-resample').addEventListener('click', () => this.restartInpaint());
    const play = $('inpaint-play');
    play.addEventListener('click', () => {
      this.inpaint.running = !this.inpaint.running;
      if (this.inpaint.running && this.inpaint.sweeps >= this.inpaint.maxSweeps) this.restartInpaint();
      play.textContent = this.inpaint.running ? 'Pause' : 'Play';
    });
    // Drag a rectangle on "what the model sees" to hide it.
    const input = $<HTMLCanvasElement>('cv-inpaint-input');
    let start: { x: number; y: number } | undefined;
    const toPixel = (e: PointerEvent): { x: number; y: number } => {
      const r = input.getBoundingClientRect();
      return {
        x: Math.max(0, Math.min(this.inpaint.width, Math.round(((e.clientX - r.left) / r.width) * this.inpaint.width))),
        y: Math.max(0, Math.min(this.inpaint.height, Math.round(((e.clientY - r.top) / r.height) * this.inpaint.height))),
      };
    };
    input.style.touchAction = 'none';
    input.addEventListener('pointerdown', (e) => {
      input.setPointerCapture(e.pointerId);
      start = toPixel(e);
    });
    input.addEventListener('pointermove', (e) => {
      if (!start) return;
      const p = toPixel(e);
      this.inpaint.mode = 'custom rectangle';
      mode.value = this.inpaint.mode;
      this.inpaint.rect = { x0: Math.min(start.x, p.x), y0: Math.min(start.y, p.y), x1: Math.max(start.x, p.x), y1: Math.max(start.y, p.y) };
      this.previewInpaintMask();
    });
    input.addEventListener('pointerup', () => {
      if (!start) return;
      start = undefined;
      const r = this.inpaint.rect;
      if (this.inpaint.mode === 'custom rectangle' && (r.x1 - r.x0 < 1 || r.y1 - r.y0 < 1)) return;
      this.restartInpaint();
    });
  }

  private restartInpaint(): void {
    this.inpaint.needsSetup = true;
    this.inpaint.running = true;
    $('inpaint-play').textContent = 'Pause';
  }

  /** While dragging: show the hole without touching the GPU. */
  private previewInpaintMask(): void {
    const r = this.inpaint.hole();
    const w = this.inpaint.width;
    for (let i = 0; i < this.inpaint.mask.length; i++) {
      const x = i % w;
      const y = Math.floor(i / w);
      this.inpaint.mask[i] = x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1 ? 0 : 1;
    }
    this.inpaint.drawInput($<HTMLCanvasElement>('cv-inpaint-input'));
  }

  private wireFiles(): void {
    const idx = $<HTMLInputElement>('file-idx');
    idx.addEventListener('change', () => {
      const f = idx.files?.[0];
      idx.value = '';
      if (f) void this.useFile(f);
    });
    const model = $<HTMLInputElement>('file-model');
    model.addEventListener('change', () => {
      const f = model.files?.[0];
      model.value = '';
      if (f) void this.loadModel(f);
    });
    let depth = 0;
    document.addEventListener('dragenter', (e) => {
      e.preventDefault();
      depth++;
      document.body.classList.add('dragging');
    });
    document.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) document.body.classList.remove('dragging');
    });
    document.addEventListener('dragover', (e) => e.preventDefault());
    document.addEventListener('drop', (e) => {
      e.preventDefault();
      depth = 0;
      document.body.classList.remove('dragging');
      const f = e.dataTransfer?.files?.[0];
      if (!f) return;
      if (/\.safetensors$/i.test(f.name)) void this.loadModel(f);
      else void this.useFile(f);
    });
  }

  // ---------------------------------------------------------------- data & files

  private async useFile(file: File): Promise<void> {
    if (/\.safetensors$/i.test(file.name)) return this.loadModel(file);
    try {
      toast(`Reading ${file.name}…`, true);
      const data = await loadIdxFile(file, this.opts.testSize, this.opts.seed);
      await this.setData(data);
      toast(`Training data: ${data.name}.`, true);
    } catch (e) {
      this.reportError(`could not use ${file.name}`, e);
    }
  }

  private async useBundled(): Promise<void> {
    try {
      await this.setData(limitTrain(await loadBundled(this.opts.testSize, this.opts.seed), this.opts.trainRows));
      toast('Training data: the bundled MNIST digits.', true);
    } catch (e) {
      this.reportError('could not load the bundled digits', e);
    }
  }

  private async setData(data: DemoData): Promise<void> {
    // New data is what the visitor wants trained: a run in progress goes on with it.
    const wasTraining = this.session.state === 'training';
    await this.swap(async () => {
      await this.session.setData(data);
      this.pad.resize(data.width, data.height);
      this.inpaint.resize(data.width, data.height);
      this.inpaint.digit = 0;
      this.padDigit = 0;
      this.pad.setImage(this.testDigit(0));
    });
    this.describeModel();
    if (wasTraining) this.session.start();
  }

  private async loadModel(file: File): Promise<void> {
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      let meta: Record<string, string> = {};
      await this.swap(async () => {
        meta = await this.session.load(bytes);
      });
      this.hyperUI.hidden = this.session.hyper.hidden;
      this.hyperUI.visibleType = this.session.hyper.visibleType;
      this.hyperUI.algorithm = this.session.hyper.algorithm;
      if (this.session.gaussian && this.hyperUI.learningRate > 0.01) {
        this.hyperUI.learningRate = GAUSSIAN_LEARNING_RATE;
        this.hyperUI.momentum = 0.5;
      }
      this.gui.controllersRecursive().forEach((c) => c.updateDisplay());
      this.showAlgorithmControls();
      this.describeModel();
      toast(`Loaded ${file.name}: ${this.session.model.visible}×${this.session.model.hidden}${meta.updates ? `, ${meta.updates} updates` : ''}.`, true);
    } catch (e) {
      this.reportError(`could not load ${file.name}`, e);
    }
  }

  private async save(): Promise<void> {
    try {
      const bytes = await this.session.save();
      const m = this.session.model;
      const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `rbm-${m.visible}x${m.hidden}-${this.session.steps}updates.safetensors`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      toast(`Saved ${a.download} (${(bytes.length / 1024).toFixed(0)} KiB).`, true);
    } catch (e) {
      this.reportError('could not save the model', e);
    }
  }

  private describeData(): void {
    const d = this.session.data;
    $('data-name').textContent = d.name;
    const how = this.session.gaussian
      ? 'standardised per pixel (zero mean, unit variance) for the Gaussian visible units'
      : 'binarised stochastically each epoch';
    $('data-split').textContent = `${d.nTrain.toLocaleString('en-US')} for training, ${d.nTest.toLocaleString('en-US')} held out for testing; ${d.width}×${d.height} pixels, ${how}.`;
  }

  private testDigit(i: number): Float32Array {
    const V = this.session.visible;
    return rows(this.session.data.test, V, i, 1);
  }

  // ---------------------------------------------------------------- session events

  /** Runs `fn` (which may replace the model) with every view loop paused. */
  private async swap(fn: () => Promise<void>): Promise<void> {
    await Promise.all(this.loops.map((l) => l.suspend()));
    try {
      await fn();
    } finally {
      this.loops.forEach((l) => l.resume());
    }
  }

  private onModelChanged(): void {
    // Called inside swap(): the loops are paused, so the old model is idle.
    this.fantasy?.chains.dispose();
    this.fantasy = undefined;
    this.inpaint.dispose();
    this.inpaint.needsSetup = true;
    this.params = undefined;
    this.charts.recon.clear();
    this.charts.rate.clear();
    this.charts.fgap.clear();
    this.state.recon = [];
    this.state.epochRecon = [];
    this.state.fgap = [];
    this.state.swapAcceptance = [];
    $('fig-swap').hidden = true;
    $('swap-readout').textContent = 'waiting for the first epoch…';
    this.pad.dirty = true;
    this.state.fantasySweeps = 0;
    this.onProgress();
  }

  private onProgress(): void {
    const s = this.session;
    this.state.steps = s.steps;
    this.state.epochs = s.epochs;
    this.state.samplesPerSecond = s.samplesPerSecond;
    if (s.steps > 0 && s.state === 'training' && this.state.timings.firstUpdateMs === undefined) {
      markTiming(this.state, 'firstUpdateMs');
      this.showStatus();
      this.openViews();
    }
  }

  private onState(): void {
    if (this.dead) return;
    const s = this.session.state;
    const label = s === 'training' ? 'training' : s === 'paused' ? 'paused' : 'ready';
    const el = $('stat-state');
    el.textContent = label;
    el.dataset.state = s;
    document.body.dataset.state = s;
    this.state.state = s;
    this.runToggle.textContent = s === 'training' ? '❚❚ Pause training' : s === 'paused' ? '▶ Resume training' : '▶ Start training';
    if (s === 'training') markTiming(this.state, 'trainStartMs');
    // Not training (and not about to): nothing to wait for, the views may compile.
    else if (!this.autostartPending) this.openViews();
    if (s === 'training' && this.monitor.trainingSince < 0) this.monitor.trainingSince = performance.now();
    this.showStatus();
  }

  /** The status line: compiling, training (epoch, updates, rate), paused or ready. */
  private showStatus(): void {
    if (this.dead) return;
    const s = this.session;
    const epoch = `epoch ${Math.floor(s.epochs) + 1} (${s.epochs.toFixed(2)} done)`;
    const updates = `${s.steps.toLocaleString('en-US')} updates`;
    if (this.autostartPending) {
      setStatus(this.state, 'loading', 'reading the initial weights…');
    } else if (s.state === 'training' && s.steps === 0) {
      // The run's first chunk is not back: on the first run that is pipeline compilation and the
      // choice of GEMM tile shapes for this adapter; later (a reset, new settings) only dispatches.
      setStatus(
        this.state,
        'compiling',
        this.state.timings.firstUpdateMs === undefined
          ? `compiling GPU kernels and choosing tile shapes for ${this.adapterName || 'this adapter'}… (once per page; seconds on a GPU, longer on a software adapter)`
          : 'starting training…',
      );
    } else if (s.state === 'training') {
      const rate = s.samplesPerSecond > 0 ? ` · ${Math.round(s.samplesPerSecond).toLocaleString('en-US')} samples/s` : '';
      const views = this.viewsPending();
      setStatus(this.state, 'training', `training: ${epoch} · ${updates}${rate}${views ? ` · compiling the ${views} view${views.includes(',') || views.includes(' and ') ? 's' : ''}…` : ''}`);
    } else if (s.state === 'paused') {
      setStatus(this.state, 'paused', `paused at ${updates}, ${epoch}`);
    } else {
      setStatus(this.state, 'idle', s.steps > 0 ? `stopped at ${updates}` : 'ready: the button on the left starts training');
    }
  }

  /** The GPU views still waiting for their first result, in words ('' when all have drawn). */
  private viewsPending(): string {
    const t = this.state.timings;
    const names = [
      t.firstReconMs === undefined ? 'reconstruction' : '',
      t.firstFantasyMs === undefined ? 'fantasy' : '',
      t.firstInpaintMs === undefined ? 'inpainting' : '',
      t.firstPadMs === undefined ? 'drawing-pad' : '',
    ].filter(Boolean);
    if (names.length <= 1) return names.join('');
    return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  }

  private onDeviceLost(info: GPUDeviceLostInfo): void {
    if (this.dead) return;
    this.dead = true;
    for (const l of this.loops) l.stop();
    this.session.kill();
    showProblem(lostProblem(info), this.state);
    this.gui.controllersRecursive().forEach((c) => c.disable());
  }

  private reportError(what: string, e: unknown): void {
    if (this.dead) return;
    if (e instanceof DOMException && (e.name === 'AbortError' || e.name === 'OperationError')) {
      // A readback aborted because the device is going away: device.lost settles
      // a moment later and explains it; report only if it does not.
      setTimeout(() => this.reportNow(what, e), 500);
      return;
    }
    this.reportNow(what, e);
  }

  private reportNow(what: string, e: unknown): void {
    if (this.dead) return;
    const msg = e instanceof Error ? e.message : String(e);
    this.state.errors.push(`${what}: ${msg}`);
    console.error(what, e);
    toast(`${what[0].toUpperCase()}${what.slice(1)}: ${msg}`);
  }

  // ---------------------------------------------------------------- views

  /** Whether view `name` may use the GPU now (see viewsOpen, viewStage). */
  private mayRun(name: GpuView): boolean {
    return this.viewsOpen && GPU_VIEWS.indexOf(name) <= this.viewStage;
  }

  /** View `name` has run once (or failed): the next one may start. */
  private viewStarted(name: string): void {
    const i = GPU_VIEWS.indexOf(name as GpuView);
    if (i >= 0 && this.viewStage <= i) {
      this.viewStage = i + 1;
      for (const l of this.loops) l.poke();
    }
  }

  private startLoops(): void {
    const err = (name: string, e: unknown): void => {
      // A failed view must not hold back the ones after it.
      this.viewStarted(name);
      if (this.dead) return;
      // A view that raced a model swap just tries again next time.
      if (e instanceof Error && e.name === 'DisposedError') return;
      this.reportError(`${name} view`, e);
    };
    const add = (name: string, interval: () => number, body: () => Promise<void> | void): ViewLoop => {
      const loop = new ViewLoop(name, interval, body, err).start();
      this.loops.push(loop);
      return loop;
    };
    add('filters', () => 500, () => this.refreshFilters());
    add('reconstruction', () => (this.session.state === 'training' ? 700 : 250), () => this.refreshRecon());
    add('free energy', () => 2500, () => this.refreshFreeEnergy());
    add('fantasy', () => 33, () => this.stepFantasy());
    add('inpainting', () => 50, () => this.stepInpaint());
    add('pad', () => 60, () => this.refreshPad());
    add('status', () => 250, () => this.refreshStatus());
  }

  private async refreshFilters(): Promise<void> {
    if (this.filtersBusy) return;
    this.filtersBusy = true;
    try {
      await this.readAndDrawFilters();
    } finally {
      this.filtersBusy = false;
    }
  }

  private async readAndDrawFilters(): Promise<void> {
    const s = this.session;
    if (this.lastParamsRead.gen === s.generation && this.lastParamsRead.steps === s.steps) return;
    const model = s.model;
    const steps = s.steps;
    const gen = s.generation;
    const p = await model.readParams();
    if (gen !== s.generation) return;
    this.params = { model, steps, p };
    this.lastParamsRead = { gen, steps };
    const H = model.hidden;
    const n = Math.min(H, MAX_FILTERS);
    const units = Array.from({ length: n }, (_, j) => j);
    this.monitor.timed('draw filters', () =>
      drawFilters($<HTMLCanvasElement>('cv-filters'), p.W, H, units, s.data.width, s.data.height, gridCols(n)),
    );
    $('filters-meta').textContent = n < H ? `first ${n} of ${H} units` : `${H} units`;
    if (this.lastRecon.gen !== gen) {
      // This model's first reconstructions, from the weights just read, on the CPU: on screen
      // at once, while the GPU's reconstruction kernels may still be compiling.
      const { data, input } = this.reconInput();
      const out = this.monitor.timed('reconstruct on the CPU', () => reconstructOnCpu(p, input, model.visible, H, s.gaussian));
      this.showRecon(gen, steps, data, input, out);
    }
    // With the data drawn (main.ts) and the reconstructions and filters here, the first frame is complete.
    markTiming(this.state, 'firstFrameMs');
  }

  private async refreshRecon(): Promise<void> {
    if (!this.mayRun('reconstruction')) return;
    const s = this.session;
    if (this.lastRecon.gen === s.generation && this.lastRecon.steps === s.steps) {
      // Up to date (the CPU's first reconstructions of an untrained model): nothing to wait for.
      this.viewStarted('reconstruction');
      return;
    }
    const gen = s.generation;
    const steps = s.steps;
    const { data, input } = this.reconInput();
    const out = await s.model.reconstruct(input);
    // (The CPU's reconstructions of a new model may have landed meanwhile, at the same step.)
    if (gen !== s.generation || (this.lastRecon.gen === gen && this.lastRecon.steps === steps)) return;
    this.showRecon(gen, steps, data, input, out);
    markTiming(this.state, 'firstReconMs');
    this.viewStarted('reconstruction');
  }

  /** The test digits the reconstruction view shows, and what the model reads of them. */
  private reconInput(): { data: Float32Array; input: Float32Array } {
    const s = this.session;
    const V = s.visible;
    const n = Math.min(RECON_ROWS, s.data.nTest);
    const data = s.data.test.subarray(0, n * V);
    // Gaussian units: the error is measured where the model lives (standardised units).
    return { data, input: s.toModel(data) };
  }

  /** Draws reconstructions `out` of `input` (model units) and adds their error to the chart. */
  private showRecon(gen: number, steps: number, data: Float32Array, input: Float32Array, out: Float32Array): void {
    const s = this.session;
    const V = s.visible;
    const n = data.length / V;
    this.lastRecon = { gen, steps };
    let se = 0;
    for (let i = 0; i < out.length; i++) {
      const d = out[i] - input[i];
      se += d * d;
    }
    const recon = s.toPixels(out);
    const mse = se / recon.length;
    this.charts.recon.push(steps, [mse, null]);
    this.state.recon.push([steps, mse]);
    document.body.dataset.recon = mse.toFixed(5);
    $('stat-recon').textContent = mse.toFixed(4);
    const shown = Math.min(RECON_SHOWN, n);
    const w = s.data.width;
    const h = s.data.height;
    this.monitor.timed('draw reconstructions', () => {
      drawImages($<HTMLCanvasElement>('cv-data'), data, shown, w, h, { cols: 8 });
      const canvas = $<HTMLCanvasElement>('cv-recon');
      drawImages(canvas, recon, shown, w, h, { cols: 8 });
      canvas.classList.remove('placeholder');
    });
    $('recon-meta').textContent = `MSE ${mse.toFixed(4)}`;
  }

  private async refreshFreeEnergy(): Promise<void> {
    if (!this.mayRun('free energy')) return;
    const s = this.session;
    if (this.lastFe.gen === s.generation && this.lastFe.steps === s.steps) return;
    const gen = s.generation;
    const steps = s.steps;
    const V = s.visible;
    const n = Math.min(FE_ROWS, s.data.nTest, s.data.nTrain);
    const gaussian = s.gaussian;
    const test = gaussian ? s.toModel(s.data.test.subarray(0, n * V)) : threshold(s.data.test.subarray(0, n * V));
    const trainRows = sourceRows(sourceHead(s.data.train, V, n), V);
    const train = gaussian ? s.toModel(trainRows) : threshold(trainRows);
    const [ft, fr] = await Promise.all([s.model.freeEnergy(test), s.model.freeEnergy(train)]);
    if (gen !== s.generation) return;
    this.lastFe = { gen, steps };
    const mean = (a: Float32Array): number => a.reduce((x, y) => x + y, 0) / a.length;
    const gap = mean(ft) - mean(fr);
    this.charts.fgap.push(steps, [gap]);
    this.state.fgap.push([steps, gap]);
    markTiming(this.state, 'firstFreeEnergyMs');
    this.viewStarted('free energy');
  }

  private async stepFantasy(): Promise<void> {
    if (!this.mayRun('fantasy')) return;
    const s = this.session;
    const model = s.model;
    if (this.ptSample) {
      this.ptSample = false;
      const h = s.hyper;
      const n = this.opts.chains;
      const steps = 200;
      const r = await parallelTempering(model, {
        chains: n,
        replicas: h.replicas,
        betaMin: h.betaMin,
        steps,
        seed: (this.opts.seed * 104729 + s.steps) >>> 0,
      });
      if (model !== s.model) return;
      this.ptShown = true;
      this.monitor.timed('draw fantasies', () =>
        drawImages($<HTMLCanvasElement>('cv-fantasy'), r.probabilities, n, s.data.width, s.data.height, { cols: gridCols(n) }),
      );
      const mean = r.swapAcceptance.reduce((a, b) => a + b, 0) / Math.max(1, r.swapAcceptance.length);
      $('fantasy-meta').textContent = `PT sample · ${r.betas.length} temperatures · ${steps} sweeps · swaps ${mean.toFixed(2)}`;
      toast('Parallel-tempering sample shown; "Restart fantasies from noise" goes back to the Gibbs chains.', true);
      return;
    }
    if (this.ptShown && this.fantasy?.model === model) return;
    this.ptShown = false;
    if (!this.fantasy || this.fantasy.model !== model || this.fantasyRestart) {
      this.fantasy?.chains.dispose();
      this.fantasy = { chains: await model.createChains({ chains: this.opts.chains, init: 'noise', seed: (this.opts.seed * 7919 + this.state.fantasySweeps) >>> 0 }), model };
      this.fantasyRestart = false;
      this.state.fantasySweeps = 0;
    }
    const f = this.fantasy;
    const sweeps = Math.max(1, Math.round(this.sample.sweepsPerFrame));
    const { probabilities: out } = await f.chains.run(sweeps);
    if (this.fantasy !== f) return;
    const probabilities = s.toPixels(out);
    this.state.fantasySweeps += sweeps;
    const n = this.opts.chains;
    this.monitor.timed('draw fantasies', () =>
      drawImages($<HTMLCanvasElement>('cv-fantasy'), probabilities, n, s.data.width, s.data.height, { cols: gridCols(n) }),
    );
    $('fantasy-meta').textContent = `${n} chains · ${this.state.fantasySweeps.toLocaleString('en-US')} sweeps`;
    markTiming(this.state, 'firstFantasyMs');
    this.viewStarted('fantasy');
  }

  private async stepInpaint(): Promise<void> {
    if (!this.mayRun('inpainting')) return;
    const s = this.session;
    const ip = this.inpaint;
    const outCanvas = $<HTMLCanvasElement>('cv-inpaint-out');
    if (ip.needsSetup || ip.model !== s.model) {
      await ip.setup(s.model, this.testDigit(ip.digit), s.norm ? { toModel: (x) => s.toModel(x), toPixels: (x) => s.toPixels(x) } : undefined);
      this.monitor.timed('draw inpainting', () => {
        ip.drawOriginal($<HTMLCanvasElement>('cv-inpaint-orig'));
        ip.drawInput($<HTMLCanvasElement>('cv-inpaint-input'));
        ip.drawCompletions(outCanvas, 4);
        ip.drawMean($<HTMLCanvasElement>('cv-inpaint-mean'));
      });
    } else if (await ip.step(1)) {
      this.monitor.timed('draw inpainting', () => {
        ip.drawCompletions(outCanvas, 4);
        ip.drawMean($<HTMLCanvasElement>('cv-inpaint-mean'));
      });
    }
    this.state.inpaint = { sweeps: ip.sweeps, holeMean: ip.holeMean(), digit: ip.digit, mode: ip.mode };
    markTiming(this.state, 'firstInpaintMs');
    this.viewStarted('inpainting');
    $('inpaint-meta').textContent = `${ip.sweeps} sweeps${ip.sweeps >= ip.maxSweeps ? ' (done)' : ''}`;
    if (ip.sweeps >= ip.maxSweeps && ip.running) {
      ip.running = false;
      $('inpaint-play').textContent = 'Play';
    }
  }

  private async refreshPad(): Promise<void> {
    if (!this.mayRun('pad')) return;
    const s = this.session;
    const now = performance.now();
    const stale = this.lastPad.gen !== s.generation || (this.lastPad.steps !== s.steps && now - this.lastPad.t > 500);
    if (!this.pad.dirty && !stale) return;
    this.pad.dirty = false;
    const gen = s.generation;
    const steps = s.steps;
    const v = this.pad.pixels.slice();
    const input = s.toModel(v);
    const [hp, out] = await Promise.all([s.model.transform(input), s.model.reconstruct(input)]);
    if (gen !== s.generation) return;
    const recon = s.toPixels(out);
    this.lastPad = { gen, steps, t: now };
    const H = s.model.hidden;
    let mean = 0;
    for (const x of hp) mean += x;
    mean /= H;
    this.monitor.timed('draw pad', () => {
      drawImages($<HTMLCanvasElement>('cv-pad-recon'), recon, 1, s.data.width, s.data.height, { pad: 0 });
      drawHeatStrip($<HTMLCanvasElement>('cv-pad-hidden'), hp, Math.min(H, 64));
      const params = this.params;
      if (params && params.model === s.model) {
        const top = Array.from(hp, (p, j) => [p, j] as const)
          .sort((a, b) => b[0] - a[0])
          .slice(0, Math.min(TOP_FILTERS, H))
          .map(([, j]) => j);
        drawFilters($<HTMLCanvasElement>('cv-pad-top'), params.p.W, H, top, s.data.width, s.data.height, TOP_FILTERS);
      }
    });
    this.state.pad = { evaluations: this.state.pad.evaluations + 1, meanActivation: mean };
    markTiming(this.state, 'firstPadMs');
    this.viewStarted('pad');
    $('pad-meta').textContent = `${H} hidden units · mean P(h) ${mean.toFixed(2)}`;
  }

  private refreshStatus(): void {
    const s = this.session;
    $('stat-steps').textContent = s.steps.toLocaleString('en-US');
    $('stat-epochs').textContent = s.epochs.toFixed(2);
    const rate = s.state === 'training' ? s.samplesPerSecond : 0;
    $('stat-rate').textContent = s.state === 'training' && rate > 0 ? Math.round(rate).toLocaleString('en-US') : '–';
    if (s.state === 'training' && rate > 0 && s.steps > 0) this.charts.rate.push(s.steps, [rate]);
    this.state.samplesPerSecond = rate;
    this.state.hidden = s.model.hidden;
    this.state.batchSize = s.hyper.batchSize;
    this.state.perf = this.monitor.summary();
    this.showStatus();
    const h = s.hyper;
    const algo = h.algorithm === 'PT' ? `PT-${h.replicas}` : `${h.algorithm}-${h.k}`;
    const units = s.gaussian ? ' · Gaussian visible' : '';
    $('charts-meta').textContent = `${s.visible}×${s.model.hidden}${units} · ${algo} · batch ${h.batchSize} · lr ${h.learningRate}`;
    this.state.algorithm = algo;
    if (h.algorithm !== 'PT') $('fig-swap').hidden = true;
    this.monitor.timed('draw charts', () => {
      this.charts.recon.flush();
      this.charts.rate.flush();
      this.charts.fgap.flush();
    });
  }
}

